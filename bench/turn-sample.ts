import type { RecordedPost } from '../dev/gateway/index.ts';
import type { RecordedRequest } from '../dev/llm/index.ts';

/**
 * One turn as seen on the wires, and the numbers the bench reports for it. All marks are epoch ms on the
 * `performance.timeOrigin + performance.now()` clock that the local gateway, the LLM server and the bench share.
 *
 * Definitions (docs/BENCHMARKS.md repeats them):
 * - prompt sent: the bench's caller writes the `prompt` frame to the WebSocket;
 * - LLM request / first token sent / last token sent: the LLM server's own marks (bytes written);
 * - a token is "posted" when its PostToConnection request reaches the @connections endpoint (the gateway's
 *   `receivedAt`, before the simulated post latency); "delivered" is when that post is answered and its frame
 *   written to the caller's socket (`answeredAt`, after the latency);
 * - first token posted: the first text post with a non-empty token; last token posted: the last one (the post
 *   that carries the reply's final words; a closing empty `last: true` frame is counted as a post, not a token).
 */
export interface TextPost {
  receivedAt: number;
  answeredAt: number;
  token: string;
  last: boolean;
}

export interface TurnWire {
  promptSentAt: number;
  request: RecordedRequest;
  /** The turn's text posts to the caller's connection, in the order the gateway answered them. */
  posts: TextPost[];
  /** The handler's conversation Query, as long as it took inside the turn (NaN when not observed). */
  readMs?: number;
  /** When the handler called its LLM edge (NaN when not observed). */
  llmCalledAt?: number;
}

export interface TurnSample {
  /** First token posted minus LLM first token sent. */
  overheadMs: number;
  /** LLM request received minus prompt sent: everything the handler does before the LLM is asked. */
  preLlmMs: number;
  /** Both: our own share of the time to first token (the engine's EngineOverhead metric, measured on the wire). */
  ownOverheadMs: number;
  /** Last token posted minus LLM last token sent. */
  tailLagMs: number;
  /** Last token delivered to the caller minus LLM last token sent (includes the simulated post latency). */
  tailLagDeliveredMs: number;
  /** The conversation Query inside the turn. */
  readMs: number;
  /** LLM edge called -> request received by the LLM server: what the handler does meanwhile delays it. */
  llmDispatchMs: number;
  posts: number;
  tokens: number;
  /** What went wrong on the wire; empty for a complete, in-order reply. */
  problems: string[];
}

/** The text frames among a connection's recorded posts (each post's body is one ConversationRelay frame). */
export function textPosts(posts: readonly RecordedPost[], connectionId: string): TextPost[] {
  const out: TextPost[] = [];
  for (const post of posts) {
    if (post.connectionId !== connectionId || post.status !== 200) continue;
    let frame: { type?: unknown; token?: unknown; last?: unknown };
    try {
      frame = JSON.parse(post.data) as typeof frame;
    } catch {
      continue;
    }
    if (frame.type !== 'text') continue;
    out.push({ receivedAt: post.receivedAt, answeredAt: post.answeredAt, token: String(frame.token ?? ''), last: frame.last === true });
  }
  return out;
}

/** The text the LLM server actually streamed for a request (the tokens it wrote, in order). */
export function sentText(request: RecordedRequest): string {
  const reply = request.reply;
  if (!reply) return '';
  const tokens = reply.tokens ?? [];
  return tokens.slice(0, request.tokensSent).join('');
}

export function measureTurn(wire: TurnWire): TurnSample {
  const { request, posts } = wire;
  const problems: string[] = [];
  const spoken = posts.filter((p) => p.token.length > 0);
  const first = spoken[0];
  const last = spoken[spoken.length - 1];
  const expected = sentText(request);
  const received = posts.map((p) => p.token).join('');
  if (request.aborted || request.status !== 200) problems.push(`LLM request ${request.aborted ? 'aborted' : `answered ${request.status}`}`);
  if (received !== expected) problems.push(`reply text differs from what the LLM sent: got ${JSON.stringify(received.slice(0, 80))}, sent ${JSON.stringify(expected.slice(0, 80))}`);
  const lastFlags = posts.filter((p) => p.last).length;
  if (lastFlags !== 1 || !posts[posts.length - 1]?.last) problems.push(`expected exactly one last:true, on the final frame; got ${lastFlags}`);
  if (request.firstTokenSentAt === undefined || request.lastTokenSentAt === undefined) problems.push('LLM server recorded no token');
  if (!first || !last) problems.push('no text was posted');
  const llmFirst = request.firstTokenSentAt ?? Number.NaN;
  const llmLast = request.lastTokenSentAt ?? Number.NaN;
  const overheadMs = (first?.receivedAt ?? Number.NaN) - llmFirst;
  const preLlmMs = request.receivedAt - wire.promptSentAt;
  return {
    overheadMs,
    preLlmMs,
    ownOverheadMs: preLlmMs + overheadMs,
    tailLagMs: (last?.receivedAt ?? Number.NaN) - llmLast,
    tailLagDeliveredMs: (last?.answeredAt ?? Number.NaN) - llmLast,
    readMs: wire.readMs ?? Number.NaN,
    llmDispatchMs: request.receivedAt - (wire.llmCalledAt ?? Number.NaN),
    posts: posts.length,
    tokens: request.tokensSent,
    problems,
  };
}
