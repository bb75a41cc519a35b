import { speakWithPartials } from './partials.ts';
import type { RelayCall, Reply, SessionEnd } from './relay-call.ts';

/**
 * A scripted call, one step per line (blank lines and `#` comments ignored):
 *   say <utterance>            the caller speaks; waits for the whole reply
 *   speak <utterance>          the same, with partial prompts word by word first (as with partialPrompts on)
 *   bargein <n> <utterance>    cuts into the reply of the step before after <n> words, then speaks
 *   dtmf <digit>               presses a key; waits for the reply
 *   expect <regex>             the last reply must match (case-insensitive)
 *   expect-end [<regex>]       the app must end the session (e.g. live-agent handoff); regex on the handoff data
 *   wait <ms>                  pause
 *   hangup                     the caller hangs up
 *   redial                     hangs up if needed and calls the same number again (e.g. after choosing a demo)
 * A line without a keyword is a `say`.
 */
export type ScriptStep =
  | { kind: 'say'; text: string; line: number }
  | { kind: 'speak'; text: string; line: number }
  | { kind: 'bargein'; afterWords: number; text: string; line: number }
  | { kind: 'dtmf'; digit: string; line: number }
  | { kind: 'expect'; pattern: RegExp; line: number }
  | { kind: 'expect-end'; pattern?: RegExp; line: number }
  | { kind: 'wait'; ms: number; line: number }
  | { kind: 'hangup'; line: number }
  | { kind: 'redial'; line: number };

export function parseScript(source: string, name = 'script'): ScriptStep[] {
  const steps: ScriptStep[] = [];
  source.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const text = raw.trim();
    if (!text || text.startsWith('#')) return;
    const [keyword = '', ...rest] = text.split(/\s+/);
    const arg = text.slice(keyword.length).trim();
    const fail = (why: string) => {
      throw new Error(`${name}:${line}: ${why}: ${raw}`);
    };
    switch (keyword.toLowerCase()) {
      case 'say':
        if (!arg) fail('say needs an utterance');
        steps.push({ kind: 'say', text: arg, line });
        break;
      case 'speak':
        if (!arg) fail('speak needs an utterance');
        steps.push({ kind: 'speak', text: arg, line });
        break;
      case 'bargein': {
        const n = Number(rest[0]);
        const utterance = arg.slice((rest[0] ?? '').length).trim();
        if (!Number.isInteger(n) || n < 0 || !utterance) fail('bargein needs a word count and an utterance');
        if (steps.at(-1)?.kind !== 'say' && steps.at(-1)?.kind !== 'dtmf') fail('bargein must follow a say or dtmf step');
        steps.push({ kind: 'bargein', afterWords: n, text: utterance, line });
        break;
      }
      case 'dtmf':
        if (!/^[0-9*#]$/.test(arg)) fail('dtmf needs one key: 0-9, * or #');
        steps.push({ kind: 'dtmf', digit: arg, line });
        break;
      case 'expect':
        if (!arg) fail('expect needs a pattern');
        steps.push({ kind: 'expect', pattern: new RegExp(arg, 'i'), line });
        break;
      case 'expect-end':
        steps.push(arg ? { kind: 'expect-end', pattern: new RegExp(arg, 'i'), line } : { kind: 'expect-end', line });
        break;
      case 'wait': {
        const ms = Number(arg);
        if (!Number.isFinite(ms) || ms < 0) fail('wait needs milliseconds');
        steps.push({ kind: 'wait', ms, line });
        break;
      }
      case 'hangup':
        steps.push({ kind: 'hangup', line });
        break;
      case 'redial':
        steps.push({ kind: 'redial', line });
        break;
      default:
        steps.push({ kind: 'say', text, line });
    }
  });
  return steps;
}

export interface TranscriptEntry {
  who: 'caller' | 'app' | 'keypad' | 'system';
  text: string;
  /** For app replies: ms from the caller's input to the first token, and to the last. */
  firstTokenMs?: number;
  replyMs?: number;
  frames?: number;
  interrupted?: boolean;
}

export interface ScriptResult {
  ok: boolean;
  failures: string[];
  transcript: TranscriptEntry[];
  end?: SessionEnd;
}

const now = () => performance.timeOrigin + performance.now();

/** Runs the steps against a live call; never throws for a failed expectation, it reports it. */
export async function runScript(
  firstCall: RelayCall,
  steps: ScriptStep[],
  options: { replyTimeoutMs?: number; onEntry?: (entry: TranscriptEntry) => void; redial?: () => Promise<RelayCall> } = {},
): Promise<ScriptResult> {
  let call = firstCall;
  const timeout = options.replyTimeoutMs ?? 20_000;
  const transcript: TranscriptEntry[] = [];
  const failures: string[] = [];
  const log = (entry: TranscriptEntry) => {
    transcript.push(entry);
    options.onEntry?.(entry);
  };
  let lastReply: Reply | undefined;
  let end: SessionEnd | undefined;
  const calls = [call];
  const answered = (c: RelayCall) => {
    c.on('end', (e: SessionEnd) => (end = e));
    const greeting = c.relay.attributes.welcomeGreeting;
    if (greeting) log({ who: 'app', text: greeting });
  };
  answered(call);

  const awaitReply = async (sentAt: number): Promise<Reply | undefined> => {
    try {
      const reply = await call.nextReply(timeout);
      log({ who: 'app', text: reply.text.trim(), firstTokenMs: Math.round(reply.startedAt - sentAt), replyMs: Math.round(reply.completedAt - sentAt), frames: reply.frames });
      return reply;
    } catch (err) {
      if (call.ended) return undefined;
      failures.push(`no reply: ${(err as Error).message}`);
      return undefined;
    }
  };

  /** Sends the input and, when the next step barges in, cuts the reply after n words instead of awaiting it. */
  const inputThenReply = async (send: () => void, next: ScriptStep | undefined): Promise<void> => {
    const sentAt = now();
    send();
    if (next?.kind !== 'bargein') {
      lastReply = await awaitReply(sentAt);
      return;
    }
    const heard = await wordsHeard(call, next.afterWords, timeout);
    log({ who: 'app', text: `${heard.text} —`, firstTokenMs: heard.firstTokenAt ? Math.round(heard.firstTokenAt - sentAt) : undefined, interrupted: true });
    call.interrupt(heard.text, Math.round(now() - (heard.firstTokenAt ?? sentAt)));
  };

  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    const next = steps[i + 1];
    if (!call.isOpen && step.kind !== 'expect-end' && step.kind !== 'expect' && step.kind !== 'redial') {
      failures.push(`line ${step.line}: the call is already over`);
      break;
    }
    switch (step.kind) {
      case 'say':
        log({ who: 'caller', text: step.text });
        await inputThenReply(() => call.say(step.text), next);
        break;
      case 'speak':
        log({ who: 'caller', text: step.text });
        // Latency counts from the final prompt, as for `say`.
        lastReply = await awaitReply(await speakWithPartials(call, step.text));
        break;
      case 'bargein':
        log({ who: 'caller', text: step.text, interrupted: true });
        await inputThenReply(() => call.say(step.text), steps[i + 1]);
        break;
      case 'dtmf':
        log({ who: 'keypad', text: step.digit });
        await inputThenReply(() => call.press(step.digit), next);
        break;
      case 'expect':
        if (!lastReply || !step.pattern.test(lastReply.text)) {
          failures.push(`line ${step.line}: expected the reply to match ${step.pattern}, got ${JSON.stringify(lastReply?.text ?? null)}`);
        }
        break;
      case 'expect-end': {
        const e = end ?? (await call.waitForEnd(timeout).catch(() => undefined));
        if (!e) failures.push(`line ${step.line}: expected the app to end the session`);
        else {
          end = e;
          const what = e.next?.kind === 'other' ? (e.next.dial ? `dials ${e.next.dial}` : 'hangs up') : 'continues';
          log({ who: 'system', text: `session ended (handoff ${e.handoffData ?? 'none'}); the call ${what}` });
          if (step.pattern && !step.pattern.test(e.handoffData ?? '')) failures.push(`line ${step.line}: handoff data ${JSON.stringify(e.handoffData)} does not match ${step.pattern}`);
        }
        break;
      }
      case 'wait':
        await new Promise((r) => setTimeout(r, step.ms));
        break;
      case 'hangup':
        log({ who: 'system', text: 'caller hangs up' });
        await call.hangup();
        break;
      case 'redial': {
        if (!options.redial) {
          failures.push(`line ${step.line}: redial is not available here`);
          break;
        }
        if (call.isOpen) await call.hangup();
        log({ who: 'system', text: 'caller calls again' });
        try {
          call = await options.redial();
        } catch (err) {
          failures.push(`line ${step.line}: the second call did not connect: ${(err as Error).message}`);
          break;
        }
        calls.push(call);
        end = undefined;
        lastReply = undefined;
        answered(call);
        break;
      }
    }
    if (failures.length && !call.isOpen) break;
  }
  for (const v of calls.flatMap((c) => c.violations)) failures.push(`invalid frame from the app (${v.reason}): ${v.raw.slice(0, 200)}`);
  const result: ScriptResult = { ok: failures.length === 0, failures, transcript };
  if (end) result.end = end;
  return result;
}

/**
 * Waits until the caller has heard `n` words of the reply in progress and returns them. Speech is slower than
 * streaming: the caller hears word n about n * 60 / wpm seconds after the first token, by which time the text is
 * usually complete (the common real case: an interrupt after the reply was stored). A reply that ends sooner is
 * cut as soon as it ends.
 */
function wordsHeard(call: RelayCall, n: number, timeoutMs: number, wpm = 190): Promise<{ text: string; firstTokenAt?: number }> {
  return new Promise((resolve) => {
    let text = '';
    let firstTokenAt: number | undefined;
    let spoken: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      clearTimeout(spoken);
      call.off('token', onToken);
      call.off('reply', onReply);
      const words = text.trim().split(/\s+/).filter(Boolean).slice(0, n);
      resolve(firstTokenAt === undefined ? { text: words.join(' ') } : { text: words.join(' '), firstTokenAt });
    };
    const onToken = (token: string, at: number) => {
      if (firstTokenAt === undefined) {
        firstTokenAt = at;
        spoken = setTimeout(finish, (n * 60_000) / wpm);
      }
      text += token;
    };
    const onReply = () => finish();
    const timer = setTimeout(finish, timeoutMs);
    call.on('token', onToken);
    call.on('reply', onReply);
  });
}

export function formatEntry(entry: TranscriptEntry): string {
  const who = { caller: 'caller', app: 'app   ', keypad: 'keypad', system: '      ' }[entry.who];
  const timing = entry.firstTokenMs !== undefined ? `  [first word ${entry.firstTokenMs} ms${entry.replyMs !== undefined ? `, done ${entry.replyMs} ms, ${entry.frames} frames` : ''}]` : '';
  return `${who} > ${entry.text}${timing}`;
}
