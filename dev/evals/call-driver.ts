import { setTimeout as sleep } from 'node:timers/promises';
import { RelayCall, type SessionEnd } from '../caller/relay-call.ts';
import type { EvalCase, Step } from './eval-schema.ts';

/**
 * Plays an eval's callers over the real wire (signed webhook, signed WebSocket, `setup`, prompts, keypad presses,
 * barge-ins, silence, hang-ups), one step at a time, and logs what each caller heard and how long the first word
 * took. Several callers may take part (a race for the same tour slot); each has its own calls.
 */
export interface Dialer {
  webhookUrl: string;
  authToken: string;
  to: string;
}

/** One call placed by one caller. */
export interface CallLeg {
  callerId: string;
  from: string;
  call: RelayCall;
  sessionId: string;
  dialedAt: number;
}

export interface TranscriptLine {
  who: 'caller' | 'app' | 'keypad' | 'system';
  callerId: string;
  text: string;
  /** The script step (0-based) this line belongs to. */
  step?: number;
  firstWordMs?: number;
  interrupted?: boolean;
}

/** One input of a caller (an utterance or a key) and the reply it got. */
export interface TurnLog {
  step: number;
  callerId: string;
  sessionId: string;
  input: string;
  reply: string;
  firstWordMs?: number;
  /** The caller cut in: `reply` is what they heard. */
  interrupted: boolean;
  /** No reply came (and the call did not end). */
  missing?: string;
}

export interface CallLog {
  legs: CallLeg[];
  transcript: TranscriptLine[];
  turns: TurnLog[];
  ends: { callerId: string; sessionId: string; end: SessionEnd }[];
  problems: string[];
}

const now = () => performance.timeOrigin + performance.now();

export class CallDriver {
  readonly log: CallLog = { legs: [], transcript: [], turns: [], ends: [], problems: [] };
  private readonly active = new Map<string, CallLeg>();

  constructor(
    private readonly dialer: Dialer,
    /** Caller id -> phone number. */
    private readonly numbers: Map<string, string>,
    private readonly replyTimeoutMs = 20_000,
    /** The stand's: resolves once the app runs no handler (see Stand.settled). */
    private readonly settled?: () => Promise<void>,
  ) {}

  /** The caller's call in progress, dialled on first use (and after a hang-up). */
  async legFor(callerId: string): Promise<CallLeg> {
    const open = this.active.get(callerId);
    if (open && open.call.isOpen) return open;
    return this.dial(callerId);
  }

  async dial(callerId: string): Promise<CallLeg> {
    const from = this.numbers.get(callerId)!;
    const dialedAt = now();
    const call = await RelayCall.dial({ webhookUrl: this.dialer.webhookUrl, authToken: this.dialer.authToken, from, to: this.dialer.to });
    const sessionId = new URL(call.relay.url).searchParams.get('session') ?? call.callSid;
    const leg: CallLeg = { callerId, from, call, sessionId, dialedAt };
    call.on('end', (end: SessionEnd) => this.log.ends.push({ callerId, sessionId, end }));
    this.active.set(callerId, leg);
    this.log.legs.push(leg);
    const greeting = call.relay.attributes.welcomeGreeting;
    if (greeting) this.line({ who: 'app', callerId, text: greeting });
    return leg;
  }

  /** Sends one input and waits for its reply; when the next step cuts in, only for the words heard by then. */
  async input(step: number, callerId: string, kind: 'say' | 'press', text: string, cutInAfterWords?: number): Promise<TurnLog> {
    const leg = await this.legFor(callerId);
    const { call } = leg;
    this.line({ who: kind === 'say' ? 'caller' : 'keypad', callerId, text, step });
    const turn: TurnLog = { step, callerId, sessionId: leg.sessionId, input: text, reply: '', interrupted: false };
    this.log.turns.push(turn);
    const sentAt = now();
    if (cutInAfterWords !== undefined) {
      const heard = firstWords(call, cutInAfterWords, this.replyTimeoutMs);
      send();
      const { text: words, firstTokenAt } = await heard;
      Object.assign(turn, { reply: words, interrupted: true }, firstTokenAt ? { firstWordMs: Math.round(firstTokenAt - sentAt) } : {});
      this.line({ who: 'app', callerId, text: `${words} —`, step, interrupted: true, ...(turn.firstWordMs !== undefined ? { firstWordMs: turn.firstWordMs } : {}) });
      call.interrupt(words, Math.round(now() - (firstTokenAt ?? sentAt)));
      return turn;
    }
    const reply = call.nextReply(this.replyTimeoutMs);
    send();
    try {
      const r = await reply;
      turn.reply = r.text.trim();
      turn.firstWordMs = Math.round(r.startedAt - sentAt);
      this.line({ who: 'app', callerId, text: turn.reply, step, firstWordMs: turn.firstWordMs });
    } catch (err) {
      if (!call.ended) {
        turn.missing = (err as Error).message;
        this.log.problems.push(`step ${step + 1}: no reply: ${turn.missing}`);
      }
    }
    return turn;

    function send() {
      if (kind === 'say') call.say(text);
      else call.press(text);
    }
  }

  async run(evalCase: EvalCase): Promise<CallLog> {
    const steps = evalCase.spec.script ?? [];
    const first = evalCase.spec.callers[0]!.id;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      const callerId = step.caller ?? first;
      const next: Step | undefined = steps[i + 1];
      const cutIn = next && 'say' in next && next.cutsInAfterWords !== undefined && (next.caller ?? first) === callerId ? next.cutsInAfterWords : undefined;
      if ('say' in step || 'press' in step) {
        const open = this.active.get(callerId);
        if (open && !open.call.isOpen && open.call.ended) {
          this.log.problems.push(`step ${i + 1}: the call is already over (the app ended it)`);
          break;
        }
        if ('say' in step) await this.input(i, callerId, 'say', step.say, cutIn);
        else await this.input(i, callerId, 'press', step.press, cutIn);
      } else if ('silence' in step) {
        this.line({ who: 'system', callerId, text: `caller is silent for ${step.silence} ms`, step: i });
        await sleep(step.silence);
      } else if ('hangup' in step) {
        this.line({ who: 'system', callerId, text: 'caller hangs up', step: i });
        await this.active.get(callerId)?.call.hangup();
      } else {
        const open = this.active.get(callerId);
        if (open?.call.isOpen) await open.call.hangup();
        this.line({ who: 'system', callerId, text: 'caller calls again', step: i });
        await this.dial(callerId);
      }
    }
    await this.finish(evalCase.spec.expect.ended?.expected === true);
    return this.log;
  }

  /**
   * Hangs up whatever is still open. When the eval expects the app to end the call, the latest call waits for it
   * first: the `end` frame follows the last reply and the `<Connect action>` request.
   */
  async finish(expectEnd: boolean): Promise<void> {
    const latest = this.log.legs.at(-1);
    if (expectEnd && latest?.call.isOpen && !latest.call.ended) await this.endOf(latest.call);
    for (const leg of this.log.legs) {
      if (leg.call.ended) this.line({ who: 'system', callerId: leg.callerId, text: describeEnd(leg.call.ended) });
      if (leg.call.isOpen) await leg.call.hangup();
      for (const v of leg.call.violations) this.log.problems.push(`invalid frame from the app (${v.reason}): ${v.raw.slice(0, 200)}`);
    }
  }

  /**
   * Waits for the app to end the call after the script's last step. The end comes from the turn that answered
   * that step, so on a stand that can say when it is idle, an end that has not arrived once the app runs no handler
   * and the socket has caught up is not coming (later, only the silence reprompts could end the call): no timeout
   * to wait out. A deployed stand cannot say, so there the wait is bounded by the reply timeout.
   */
  private async endOf(call: RelayCall): Promise<void> {
    if (this.settled) {
      await this.settled();
      await call.caughtUp();
      if (!call.endReceived) return;
    }
    await call.waitForEnd(this.replyTimeoutMs).catch(() => undefined);
  }

  line(entry: TranscriptLine): void {
    this.log.transcript.push(entry);
  }
}

/**
 * The first `n` words of the reply in progress, once the whole reply has arrived. A caller hears speech far more
 * slowly than text streams (190 words a minute against tens of tokens a second), so by the time they cut in after
 * a few words the reply is complete: the app has to keep only the heard words in its history. Waiting for the end
 * keeps an eval's barge-in the same on a busy machine as on an idle one (cutting in mid-stream is the engine
 * tests' business).
 */
function firstWords(call: RelayCall, n: number, timeoutMs: number): Promise<{ text: string; firstTokenAt?: number }> {
  return new Promise((resolve) => {
    let text = '';
    let firstTokenAt: number | undefined;
    const finish = () => {
      clearTimeout(timer);
      call.off('token', onToken);
      call.off('reply', finish);
      const heard = text.trim().split(/\s+/).filter(Boolean).slice(0, n).join(' ');
      resolve(firstTokenAt === undefined ? { text: heard } : { text: heard, firstTokenAt });
    };
    const onToken = (token: string, at: number) => {
      firstTokenAt ??= at;
      text += token;
    };
    const timer = setTimeout(finish, timeoutMs);
    call.on('token', onToken);
    call.on('reply', finish);
  });
}

export function describeEnd(end: SessionEnd): string {
  const then = end.next?.kind === 'other' ? (end.next.dial ? `Twilio dials ${end.next.dial}` : 'Twilio hangs up') : 'the call goes on';
  return `the app ended the session (handoff ${end.handoffData ?? 'none'}); ${then}`;
}

/** A fresh caller number per run, so no profile or booking of another run is found. */
export function freshNumber(): string {
  return `+1406555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
}
