import { encodeOutbound, type OutboundMessage } from '../../../layers/protocol/conversation-relay.ts';
import type { Clock, PostResult, Sink } from '../../../02_cr-application/src/engine/ports.ts';

/**
 * A Sink that records every post, in call order, with the clock time. Like the connections sink it validates
 * each frame (an invalid one is answered `invalid` and never delivered) and never throws. A test can make a
 * connection answer `gone` (the caller hung up) or `failed`, and hold posts in flight until it releases them, to
 * drive the reply pump's one-post-in-flight behaviour and races with a newer reply step by step.
 */
export type PostState = 'in-flight' | PostResult['status'];

export interface RecordedPost {
  /** Call order, from 0. */
  seq: number;
  connectionId: string;
  message: OutboundMessage;
  /** Clock time of the call. */
  postedAt: number;
  state: PostState;
  /** Clock time the answer was given (undefined while in flight). */
  settledAt?: number;
}

export type ScriptedStatus = 'sent' | 'gone' | 'failed';

export interface HeldPost {
  /** Answers the held post with `status`, or as the connection would (`sent` unless `answer` said otherwise). */
  (status?: ScriptedStatus): void;
  /** Resolves with the post once one is parked at this hold. */
  readonly reached: Promise<RecordedPost>;
}

export interface RecordingSink extends Sink {
  /** Every post, in call order, whatever its answer. */
  readonly posts: readonly RecordedPost[];
  /** Frames that reached the caller (answered `sent`), in the order they arrived (answer order). */
  delivered(connectionId?: string): OutboundMessage[];
  /** The delivered text frames. */
  texts(connectionId?: string): { token: string; last: boolean }[];
  /** The text of each reply the caller heard, split after every `last: true` (an unfinished one last). */
  replies(connectionId?: string): string[];
  /** Posts now in flight to the connection (all connections when omitted). */
  inFlight(connectionId?: string): number;
  /** The most posts ever in flight at once to the connection (all connections when omitted). */
  maxInFlight(connectionId?: string): number;
  /**
   * How the connection answers from now on: `gone` (hung up) for every later post unless `times` says otherwise,
   * `failed` likewise (with `error`), `sent` to go back to normal.
   */
  answer(connectionId: string, status: ScriptedStatus, options?: { times?: number; error?: unknown }): void;
  /** The next post (to the connection, or to any when omitted) stays in flight until the returned function is called. */
  hold(connectionId?: string): HeldPost;
}

interface Rule {
  connectionId: string;
  status: ScriptedStatus;
  times: number;
  error: unknown;
}

interface Hold {
  connectionId: string | undefined;
  answer: Promise<ScriptedStatus | undefined>;
  onReached(post: RecordedPost): void;
}

export function createRecordingSink(options: { clock?: Pick<Clock, 'now'> } = {}): RecordingSink {
  const clock = options.clock ?? { now: () => Date.now() };
  const posts: RecordedPost[] = [];
  /** Answered posts in answer order: what the caller heard, and when. */
  const arrivals: RecordedPost[] = [];
  const rules: Rule[] = [];
  let holds: Hold[] = [];
  const peak = new Map<string, number>();
  let peakAll = 0;

  const count = (connectionId?: string) => posts.filter((p) => p.state === 'in-flight' && (connectionId === undefined || p.connectionId === connectionId)).length;

  function scripted(connectionId: string): { status: ScriptedStatus; error: unknown } {
    const rule = rules.find((r) => r.connectionId === connectionId);
    if (!rule) return { status: 'sent', error: undefined };
    if (--rule.times <= 0) rules.splice(rules.indexOf(rule), 1);
    return rule;
  }

  function settleWith(post: RecordedPost, result: PostResult): PostResult {
    post.state = result.status;
    post.settledAt = clock.now();
    if (result.status === 'sent') arrivals.push(post);
    return result;
  }

  const sink: RecordingSink = {
    posts,

    async post(connectionId, message) {
      const post: RecordedPost = { seq: posts.length, connectionId, message: structuredClone(message), postedAt: clock.now(), state: 'in-flight' };
      posts.push(post);
      peak.set(connectionId, Math.max(peak.get(connectionId) ?? 0, count(connectionId)));
      peakAll = Math.max(peakAll, count());
      // A post is a network round trip: its answer never comes back synchronously.
      await Promise.resolve();
      if (!encodeOutbound(message).ok) return settleWith(post, { status: 'invalid' });
      const hold = holds.find((h) => h.connectionId === undefined || h.connectionId === connectionId);
      let forced: ScriptedStatus | undefined;
      if (hold) {
        holds = holds.filter((h) => h !== hold);
        hold.onReached(post);
        forced = await hold.answer;
      }
      const { status, error } = forced ? { status: forced, error: new Error('post failed (scripted by the test)') } : scripted(connectionId);
      if (status === 'failed') return settleWith(post, { status: 'failed', error: error ?? new Error('post failed (scripted by the test)') });
      return settleWith(post, { status });
    },

    delivered: (connectionId) => arrivals.filter((p) => connectionId === undefined || p.connectionId === connectionId).map((p) => p.message),

    texts: (connectionId) =>
      sink.delivered(connectionId).flatMap((m) => (m.type === 'text' ? [{ token: m.token, last: m.last ?? false }] : [])),

    replies(connectionId) {
      const replies: string[] = [];
      let current: string | undefined;
      for (const { token, last } of sink.texts(connectionId)) {
        current = (current ?? '') + token;
        if (last) {
          replies.push(current);
          current = undefined;
        }
      }
      if (current !== undefined) replies.push(current);
      return replies;
    },

    inFlight: count,
    maxInFlight: (connectionId) => (connectionId === undefined ? peakAll : (peak.get(connectionId) ?? 0)),

    answer(connectionId, status, opts = {}) {
      const existing = rules.findIndex((r) => r.connectionId === connectionId);
      if (existing >= 0) rules.splice(existing, 1);
      if (status !== 'sent') rules.push({ connectionId, status, times: opts.times ?? Infinity, error: opts.error });
    },

    hold(connectionId) {
      let answer!: (status: ScriptedStatus | undefined) => void;
      let onReached!: (post: RecordedPost) => void;
      const reached = new Promise<RecordedPost>((resolve) => (onReached = resolve));
      const hold: Hold = { connectionId, answer: new Promise((resolve) => (answer = resolve)), onReached };
      holds.push(hold);
      // Released before any post reached it: the hold is disarmed and later posts go through.
      const release = (status?: ScriptedStatus) => {
        holds = holds.filter((h) => h !== hold);
        answer(status);
      };
      return Object.assign(release, { reached });
    },
  };
  return sink;
}
