import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { RelayCall } from '../dev/caller/relay-call.ts';
import { preciseNow, startLlmServer, type ChatCompletionRequest, type LlmServer, type RecordedRequest, type Reply } from '../dev/llm/index.ts';
import { startLocalRuntime, type LocalRuntime } from '../dev/local/runtime.ts';
import { readSettings } from '../dev/local/settings.ts';
import type { Table } from '../layers/data/table.ts';
import { countReads } from './dynamo-reads.ts';
import { driveCall, textOf, type CallLog } from './load-caller.ts';
import { ownershipFigures, ownershipProblems, type CallEvidence, type OwnershipFigures, type ServedRequest, type StoredMessage } from './load-checks.ts';
import { markedReplyTokens, markersIn, utteranceTurn } from './load-markers.ts';
import { planLoad } from './load-plan.ts';
import { spread, type Spread } from './stats.ts';
import { sentText, textPosts, type TextPost } from './turn-sample.ts';

/**
 * Many simultaneous calls against the whole local app (`npm start`'s runtime: webhook, WebSocket, engine, table)
 * with an LLM server whose every word names its call, turn and request. Callers let some replies finish, cut
 * into others (`interrupt` with the words received so far) and speak over others (a superseding `prompt`), with
 * a set think time between turns. Afterwards every reply heard, every LLM request and every stored message is
 * checked: complete replies whole and in order, interrupted ones stored as heard, no older reply's frames after a
 * newer one's, each next request carrying the previous turn as the caller heard it, reads per turn.
 */
export interface LoadBenchOptions {
  calls: number;
  turns: number;
  tokens: number;
  firstTokenMs: number;
  tokenGapMs: number;
  postLatencyMs: number;
  /** Pause after a reply's `last: true` (or after an interrupt) before the next prompt; 0 = at once. */
  thinkMs: number;
  /** Shares of all turns, 0..1. */
  interruptShare: number;
  supersedeShare: number;
  seed: number;
  /** Longest a caller waits for a reply (or for the words it means to cut in after) before it moves on. */
  replyTimeoutMs?: number;
  progress?: (line: string) => void;
}

export interface LoadBenchResult {
  options: Omit<LoadBenchOptions, 'progress'>;
  /** Turns the callers let finish, and how many of those were heard whole and equal to what the LLM sent. */
  expected: number;
  requests: number;
  matched: number;
  mismatches: string[];
  ownership: OwnershipFigures;
  overhead?: Spread;
  ownOverhead?: Spread;
  tailLag?: Spread;
  postsPerTurn?: Spread;
  wallSeconds: number;
  /** The machine's 1-minute load average as the turns started and as they ended: the races depend on it. */
  loadAverage: { start: number; end: number };
}

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

function lastUserText(body: ChatCompletionRequest): string {
  const last = [...body.messages].reverse().find((m) => m.role === 'user');
  return typeof last?.content === 'string' ? last.content : '';
}

export async function runLoadBench(options: LoadBenchOptions): Promise<LoadBenchResult> {
  const progress = options.progress ?? (() => undefined);
  // Past API Gateway's 29 s integration timeout a reply that has not ended never will.
  const replyTimeoutMs = options.replyTimeoutMs ?? 35_000;
  const plan = planLoad(options);
  let llm: LlmServer | undefined;
  llm = await startLlmServer({
    timing: { firstTokenMs: options.firstTokenMs, tokenGapMs: options.tokenGapMs },
    // The request was recorded just before its responder runs: its index is its id, the `r` of its words.
    responder: (body): Reply => {
      const id = llm!.requests.length - 1;
      const named = utteranceTurn(lastUserText(body));
      return named ? { tokens: markedReplyTokens(named.call, named.turn, id, options.tokens) } : { text: 'I did not catch which call this is.' };
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
    // Setup frames are handled before the reads of the turns are counted.
    await rt.settled();
    const reads = countReads(rt.table);
    const cutIns = plan.flat().filter((t) => t.fate !== 'complete').length;
    progress(`  ${calls.length} calls connected; ${options.turns} turns each, all at once, ${cutIns} of them cut off; think time ${options.thinkMs} ms`);
    const loadAtStart = loadavg()[0]!;
    const logs: CallLog[] = await Promise.all(
      calls.map((call, i) => driveCall(call, call.relay.parameters.sessionId ?? '', plan[i]!, { thinkMs: options.thinkMs, replyTimeoutMs })),
    );
    const wallSeconds = (preciseNow() - started) / 1000;
    // The replies' history writes finish off the callers' path; the table is read once they are done.
    await rt.settled();
    reads.stop();
    const evidence: CallEvidence[] = await Promise.all(
      logs.map(async (log) => ({ ...log, stored: await storedHistory(rt.table, log.sessionId), reads: reads.readsOf(`session#${log.sessionId}`) })),
    );
    const served: ServedRequest[] = llm.requests.map((r, id) => ({
      id,
      ...utteranceTurn(lastUserText(r.body)),
      messages: r.body.messages.map((m) => ({ role: m.role, content: typeof m.content === 'string' ? m.content : null })),
      sent: sentText(r),
    }));
    return {
      options: { ...options, replyTimeoutMs },
      wallSeconds,
      loadAverage: { start: loadAtStart, end: loadavg()[0]! },
      ownership: ownershipFigures(evidence, served),
      ...verifyComplete(logs, llm.requests, rt, replyTimeoutMs),
    };
  } finally {
    await Promise.all(calls.map((c) => c.hangup().catch(() => undefined)));
    await runtime?.stop();
    await llm.stop();
  }
}

/** A session's chat messages, read straight from the table (not through the engine), oldest first. */
async function storedHistory(table: Table, sessionId: string): Promise<StoredMessage[]> {
  const out: StoredMessage[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await table.doc.send(
      new QueryCommand({
        TableName: table.name,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :msg)',
        ExpressionAttributeValues: { ':pk': `session#${sessionId}`, ':msg': 'msg#' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) out.push({ role: String(item.role), content: typeof item.content === 'string' ? item.content : null, interrupted: item.interrupted === true });
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/**
 * The turns the callers let finish: heard whole and equal to what the LLM server sent for them, and their wire
 * timings from the gateway's record of the posts, each post given to the request its words name.
 */
function verifyComplete(
  logs: readonly CallLog[],
  requests: readonly RecordedRequest[],
  runtime: LocalRuntime,
  replyTimeoutMs: number,
): Pick<LoadBenchResult, 'expected' | 'requests' | 'matched' | 'mismatches' | 'overhead' | 'ownOverhead' | 'tailLag' | 'postsPerTurn'> {
  const mismatches: string[] = [];
  const postsByRequest = new Map<number, TextPost[]>();
  for (const connectionId of new Set(runtime.gateway.posts.map((p) => p.connectionId))) {
    let owner: number | undefined;
    for (const post of textPosts(runtime.gateway.posts, connectionId)) {
      owner = markersIn(post.token)[0]?.request ?? owner;
      if (owner !== undefined) postsByRequest.set(owner, [...(postsByRequest.get(owner) ?? []), post]);
    }
  }
  const requestsOf = new Map<string, number[]>();
  requests.forEach((r, id) => {
    const named = utteranceTurn(lastUserText(r.body));
    if (named) requestsOf.set(`${named.call}/${named.turn}`, [...(requestsOf.get(`${named.call}/${named.turn}`) ?? []), id]);
    else mismatches.push(`LLM request r${id} names no call and turn`);
  });
  let expected = 0;
  let matched = 0;
  const overhead: number[] = [];
  const own: number[] = [];
  const tail: number[] = [];
  const posts: number[] = [];
  for (const log of logs) {
    for (const turn of log.turns) {
      if (turn.outcome === 'no-reply') mismatches.push(`call ${log.call} turn ${turn.turn}: no reply within ${replyTimeoutMs / 1000} s`);
      if (turn.outcome !== 'complete') continue;
      expected++;
      // The reply the caller heard to its end is the one whose frame carried `last: true` (a turn the engine asked the
      // LLM twice for shows in the ownership figures, not here).
      const id = log.frames.find((f) => f.call === log.call && f.turn === turn.turn && f.last)?.request;
      const request = id === undefined ? undefined : requests[id];
      if (id === undefined || !request || !(requestsOf.get(`${log.call}/${turn.turn}`) ?? []).includes(id)) {
        mismatches.push(`call ${log.call} turn ${turn.turn}: the reply heard was no LLM request's for this turn`);
        continue;
      }
      const heard = textOf(log.frames.filter((f) => f.request === id));
      const sent = sentText(request);
      if (request.aborted || request.tokensSent === 0) mismatches.push(`call ${log.call} turn ${turn.turn}: the LLM sent ${request.tokensSent} tokens${request.aborted ? ' (aborted)' : ''}`);
      else if (heard !== sent) mismatches.push(`call ${log.call} turn ${turn.turn}: heard ${JSON.stringify(heard.slice(0, 60))}..., the LLM sent ${JSON.stringify(sent.slice(0, 60))}...`);
      else matched++;
      const wire = postsByRequest.get(id) ?? [];
      const spoken = wire.filter((p) => p.token.length > 0);
      if (spoken.length > 0 && request.firstTokenSentAt !== undefined && request.lastTokenSentAt !== undefined) {
        const first = spoken[0]!.receivedAt - request.firstTokenSentAt;
        overhead.push(first);
        own.push(request.receivedAt - turn.promptSentAt + first);
        tail.push(spoken[spoken.length - 1]!.receivedAt - request.lastTokenSentAt);
        posts.push(wire.length);
      }
    }
  }
  const result: ReturnType<typeof verifyComplete> = { expected, requests: requests.length, matched, mismatches };
  const overheadSpread = spread(overhead);
  const ownSpread = spread(own);
  const tailSpread = spread(tail);
  const postsSpread = spread(posts);
  if (overheadSpread) result.overhead = overheadSpread;
  if (ownSpread) result.ownOverhead = ownSpread;
  if (tailSpread) result.tailLag = tailSpread;
  if (postsSpread) result.postsPerTurn = postsSpread;
  return result;
}

/** Every check of the run in one list; empty when the engine met all of them. */
export function loadProblems(result: LoadBenchResult): string[] {
  const problems = ownershipProblems(result.ownership);
  if (result.matched !== result.expected) problems.push(`${result.expected - result.matched} of ${result.expected} complete replies not heard whole and in order`);
  return problems;
}
