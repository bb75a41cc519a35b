import { fileURLToPath } from 'node:url';
import { RelayCall, type Reply as HeardReply } from '../dev/caller/relay-call.ts';
import { preciseNow, startLlmServer, type ChatCompletionRequest, type LlmServer, type RecordedRequest, type Reply } from '../dev/llm/index.ts';
import { startLocalRuntime, type LocalRuntime } from '../dev/local/runtime.ts';
import { readSettings } from '../dev/local/settings.ts';
import { spread, type Spread } from './stats.ts';
import { sentText, textPosts } from './turn-sample.ts';

/**
 * Many simultaneous calls against the whole local app (`npm start`'s runtime: webhook, WebSocket, engine, table)
 * with an LLM server whose replies are known: each reply names its call and turn, so every reply the callers
 * heard can be compared, whole, with what the LLM server streamed for that request. Every one is compared;
 * nothing is sampled.
 */
export interface LoadBenchOptions {
  calls: number;
  turns: number;
  tokens: number;
  firstTokenMs: number;
  tokenGapMs: number;
  postLatencyMs: number;
  /** Longest a caller waits for one reply before the run counts it as missing. */
  replyTimeoutMs?: number;
  progress?: (line: string) => void;
}

export interface LoadBenchResult {
  options: Omit<LoadBenchOptions, 'progress'>;
  /** Replies expected, LLM requests served, replies heard complete and equal to what the LLM sent. */
  expected: number;
  requests: number;
  matched: number;
  mismatches: string[];
  overhead?: Spread;
  ownOverhead?: Spread;
  tailLag?: Spread;
  postsPerTurn?: Spread;
  wallSeconds: number;
}

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROMPT = /^call (\d+) turn (\d+)\b/;

/** The utterance of a call's turn; the LLM server reads the identity back from it. */
export const utterance = (call: number, turn: number) => `call ${call} turn ${turn}, tell me about the apartments please`;

/** The reply the bench's LLM server gives to a call's turn: `tokens` tokens, the first naming call and turn. */
export function loadReplyTokens(call: number, turn: number, tokens: number): string[] {
  return Array.from({ length: tokens }, (_, i) => (i === 0 ? `Call ${call} turn ${turn}:` : ` w${i}${i === tokens - 1 ? '.' : ''}`));
}

function lastUserText(body: ChatCompletionRequest): string {
  const last = [...body.messages].reverse().find((m) => m.role === 'user');
  return typeof last?.content === 'string' ? last.content : '';
}

export async function runLoadBench(options: LoadBenchOptions): Promise<LoadBenchResult> {
  const progress = options.progress ?? (() => undefined);
  const replyTimeoutMs = options.replyTimeoutMs ?? 120_000;
  const llm: LlmServer = await startLlmServer({
    timing: { firstTokenMs: options.firstTokenMs, tokenGapMs: options.tokenGapMs },
    responder: (body): Reply => {
      const m = PROMPT.exec(lastUserText(body));
      return m ? { tokens: loadReplyTokens(Number(m[1]), Number(m[2]), options.tokens) } : { text: 'I did not catch which call this is.' };
    },
  });
  let runtime: LocalRuntime | undefined;
  const calls: RelayCall[] = [];
  const started = preciseNow();
  try {
    const settings = readSettings(
      { PORT: '0', OPENAI_BASE_URL: llm.baseUrl, OPENAI_API_KEY: 'bench', OPENAI_MODEL: 'bench-model', POST_LATENCY_MS: String(options.postLatencyMs), LOG_LEVEL: 'ERROR' },
      REPO_ROOT,
    );
    runtime = await startLocalRuntime({ settings, rootDir: REPO_ROOT, ephemeral: true });
    const rt = runtime;
    progress(`  runtime up; dialling ${options.calls} calls`);
    const dialled = await Promise.all(
      Array.from({ length: options.calls }, (_, i) =>
        RelayCall.dial({ webhookUrl: rt.webhookUrl, authToken: settings.TWILIO_AUTH_TOKEN, from: `+1406555${String(1000 + i).padStart(4, '0')}`, to: '+14065550199' }),
      ),
    );
    calls.push(...dialled);
    progress(`  ${calls.length} calls connected; ${options.turns} turns each, all at once`);
    const promptSentAt = new Map<string, number>();
    const heard: (HeardReply | Error)[][] = await Promise.all(
      calls.map(async (call, i) => {
        const out: (HeardReply | Error)[] = [];
        for (let turn = 1; turn <= options.turns; turn++) {
          const next = call.nextReply(replyTimeoutMs);
          promptSentAt.set(`${i + 1}/${turn}`, preciseNow());
          call.say(utterance(i + 1, turn));
          try {
            out.push(await next);
          } catch (err) {
            out.push(err as Error);
            break;
          }
        }
        return out;
      }),
    );
    const wallSeconds = (preciseNow() - started) / 1000;
    return { options: { ...options, replyTimeoutMs }, wallSeconds, ...verify(options, llm.requests, heard, calls, rt, promptSentAt) };
  } finally {
    await Promise.all(calls.map((c) => c.hangup().catch(() => undefined)));
    await runtime?.stop();
    await llm.stop();
  }
}

/**
 * Every reply heard against what the LLM server sent for that call's turn: same count, same text, in turn order;
 * and the wire timings of each turn from the gateway's record of the call's connection.
 */
function verify(
  options: LoadBenchOptions,
  requests: RecordedRequest[],
  heard: (HeardReply | Error)[][],
  calls: RelayCall[],
  runtime: LocalRuntime,
  promptSentAt: Map<string, number>,
): Omit<LoadBenchResult, 'options' | 'wallSeconds'> {
  const mismatches: string[] = [];
  const byTurn = new Map<string, RecordedRequest[]>();
  for (const request of requests) {
    const m = PROMPT.exec(lastUserText(request.body));
    const key = m ? `${m[1]}/${m[2]}` : 'unknown';
    byTurn.set(key, [...(byTurn.get(key) ?? []), request]);
  }
  if (byTurn.has('unknown')) mismatches.push(`${byTurn.get('unknown')!.length} LLM request(s) for no known call and turn`);
  let matched = 0;
  const overhead: number[] = [];
  const own: number[] = [];
  const tail: number[] = [];
  const posts: number[] = [];
  // The gateway's record of each connection, split into replies at `last: true`.
  const repliesByConnection = new Map<string, ReturnType<typeof textPosts>[]>();
  for (const post of runtime.gateway.posts) if (!repliesByConnection.has(post.connectionId)) repliesByConnection.set(post.connectionId, splitReplies(textPosts(runtime.gateway.posts, post.connectionId)));
  const connectionOf = new Map<string, ReturnType<typeof textPosts>[]>();
  for (const replies of repliesByConnection.values()) {
    const m = /^Call (\d+) turn \d+:/.exec(replies[0]?.map((p) => p.token).join('') ?? '');
    if (m) connectionOf.set(m[1]!, replies);
  }

  calls.forEach((call, i) => {
    const n = i + 1;
    if (call.violations.length > 0) mismatches.push(`call ${n}: ${call.violations.length} frame(s) that break the protocol, first: ${call.violations[0]!.reason}`);
    const replies = heard[i] ?? [];
    const wire = connectionOf.get(String(n)) ?? [];
    for (let turn = 1; turn <= options.turns; turn++) {
      const reply = replies[turn - 1];
      const sent = byTurn.get(`${n}/${turn}`) ?? [];
      if (sent.length !== 1) {
        mismatches.push(`call ${n} turn ${turn}: ${sent.length} LLM requests (expected 1)`);
        continue;
      }
      const request = sent[0]!;
      if (reply === undefined || reply instanceof Error) {
        mismatches.push(`call ${n} turn ${turn}: no reply heard${reply instanceof Error ? ` (${reply.message})` : ''}`);
        continue;
      }
      const expected = sentText(request);
      if (request.aborted || request.tokensSent !== options.tokens) mismatches.push(`call ${n} turn ${turn}: the LLM sent ${request.tokensSent} of ${options.tokens} tokens${request.aborted ? ' (aborted)' : ''}`);
      else if (reply.text !== expected) mismatches.push(`call ${n} turn ${turn}: heard ${JSON.stringify(reply.text.slice(0, 60))}..., the LLM sent ${JSON.stringify(expected.slice(0, 60))}...`);
      else matched++;
      const turnPosts = wire[turn - 1];
      const spoken = turnPosts?.filter((p) => p.token.length > 0) ?? [];
      if (spoken.length > 0 && request.firstTokenSentAt !== undefined && request.lastTokenSentAt !== undefined) {
        overhead.push(spoken[0]!.receivedAt - request.firstTokenSentAt);
        own.push(request.receivedAt - (promptSentAt.get(`${n}/${turn}`) ?? Number.NaN) + spoken[0]!.receivedAt - request.firstTokenSentAt);
        tail.push(spoken[spoken.length - 1]!.receivedAt - request.lastTokenSentAt);
        posts.push(turnPosts!.length);
      }
    }
    if (replies.length > options.turns) mismatches.push(`call ${n}: ${replies.length} replies for ${options.turns} prompts`);
  });
  const expected = options.calls * options.turns;
  if (requests.length !== expected) mismatches.push(`${requests.length} LLM requests for ${expected} turns`);
  const result: Omit<LoadBenchResult, 'options' | 'wallSeconds'> = { expected, requests: requests.length, matched, mismatches };
  const s = (xs: number[]) => spread(xs);
  if (overhead.length) result.overhead = s(overhead)!;
  if (own.length) result.ownOverhead = s(own)!;
  if (tail.length) result.tailLag = s(tail)!;
  if (posts.length) result.postsPerTurn = s(posts)!;
  return result;
}

function splitReplies(posts: ReturnType<typeof textPosts>): ReturnType<typeof textPosts>[] {
  const replies: ReturnType<typeof textPosts>[] = [];
  let current: ReturnType<typeof textPosts> = [];
  for (const post of posts) {
    current.push(post);
    if (post.last) {
      replies.push(current);
      current = [];
    }
  }
  if (current.length) replies.push(current);
  return replies;
}
