import type { OutboundMessage } from '../../../layers/protocol/conversation-relay.ts';
import type { Clock, PostResult, Sink } from './ports.ts';

/**
 * Streams one reply to the caller. Text is posted the moment it arrives when nothing is in flight; text that
 * arrives while a post is in flight is coalesced into the next post. So there is at most one PostToConnection in
 * flight, order is kept, a slow post never makes later words wait behind one post each, and no timer or per-token
 * `await` is involved: callers push synchronously and the pump drains on each post's completion.
 *
 * A drain runs once the current I/O callbacks are done (`setImmediate`, the event loop's check phase), not in the
 * middle of them: the chunks decoded from one network read (often the reply's last words, the LLM's finish and
 * the end of the stream together) then leave in one post, and the reply's end travels with its last words instead
 * of as an empty post of its own. The wait is the rest of the current loop turn, measured as no change to the
 * overhead to the first token; a microtask would run before the rest of the read is decoded, and a timer would add
 * a fixed delay to every post.
 * Exactly one `last: true` ends the reply. A stopped one (interrupted, superseded) says nothing more, and is
 * closed by an empty `last: true` once the turn has stopped (`close`); a hung-up caller hears nothing.
 */
export type PumpStopReason = 'interrupted' | 'superseded' | 'hangup' | 'ended';

/** How one line may be cut off: `false` for a line the caller must hear whole (legal text, a read-back). */
export interface LineFlags {
  interruptible?: boolean | undefined;
  preemptible?: boolean | undefined;
}

type Item = { kind: 'text'; text: string; last: boolean; flags?: LineFlags; retried?: boolean } | { kind: 'frame'; message: OutboundMessage; retried?: boolean };

export interface PumpHooks {
  onGone?(): void;
  onFailed?(error: unknown, message: OutboundMessage): void;
}

export class ReplyPump {
  /** Text actually posted to the caller, in order. */
  spoken = '';
  posts = 0;
  tokens = 0;
  firstTextPostedAt: number | undefined;
  lastTextPostedAt: number | undefined;
  stopReason: PumpStopReason | undefined;
  /** Whether anything was queued yet, and whether it ended in whitespace (to join lines without double spaces). */
  saidAnything = false;
  endsWithSpace = false;
  /** Characters of text queued so far (posted or not): where the next words will stand in the reply. */
  queuedChars = 0;
  /** Every text queued so far, in order (what was posted is a prefix of it): the turn's stored words are cut from it. */
  said = '';
  /**
   * The reply's first words went out from an earlier invocation (a turn continued after a hand-off): stopped, it
   * still gets its closing `last: true`, though this pump posted nothing.
   */
  startedBefore = false;
  /** The reply's language, on every text frame, when the call is not in its default language. */
  lang: string | undefined;

  private readonly queue: Item[] = [];
  private inFlight = false;
  private gated = false;
  private settleWaiters: (() => void)[] = [];
  private drainScheduled = false;
  private ending = false;
  private finished = false;
  private idleWaiters: (() => void)[] = [];
  private resolveDone!: () => void;
  private readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));
  private resolveEndHandedOver!: () => void;
  /** Resolves once the post carrying `last: true` has been handed to the sink (or the pump stopped). */
  readonly endHandedOver = new Promise<void>((resolve) => (this.resolveEndHandedOver = resolve));

  constructor(
    private readonly sink: Sink,
    private readonly connectionId: string,
    private readonly clock: Clock,
    private readonly hooks: PumpHooks = {},
  ) {}

  get stopped(): boolean {
    return this.stopReason !== undefined;
  }

  /**
   * Queues text to speak (one LLM token or a whole line). A line with flags travels in frames of its own, so the
   * words around it keep the call's defaults.
   */
  say(text: string, flags?: LineFlags): void {
    if (this.stopped || this.ending || text.length === 0) return;
    this.tokens++;
    this.queuedChars += text.length;
    this.said += text;
    this.saidAnything = true;
    this.endsWithSpace = /\s$/.test(text);
    const tail = this.queue[this.queue.length - 1];
    if (tail?.kind === 'text' && sameFlags(tail.flags, flags)) tail.text += text;
    else this.queue.push({ kind: 'text', text, last: false, ...(flags ? { flags } : {}) });
    this.scheduleDrain();
  }

  /** Queues a non-text frame (play, sendDigits, language), kept in order with the text around it. */
  send(message: OutboundMessage): void {
    if (this.stopped || this.ending) return;
    this.queue.push({ kind: 'frame', message });
    this.scheduleDrain();
  }

  /** Ends the reply: the remaining text goes out with `last: true`. Resolves once it is posted, or on stop. */
  end(): Promise<void> {
    if (!this.ending && !this.stopped) {
      this.ending = true;
      const tail = this.queue[this.queue.length - 1];
      if (tail?.kind === 'text') tail.last = true;
      else this.queue.push({ kind: 'text', text: '', last: true });
      this.scheduleDrain();
    }
    if (this.stopped) this.resolveDone();
    return this.done;
  }

  /** Stops at once: nothing queued is posted. A post already in flight cannot be recalled. */
  stop(reason: PumpStopReason): void {
    if (this.stopped || this.finished) return;
    this.stopReason = reason;
    this.queue.length = 0;
    this.resolveDone();
    this.resolveEndHandedOver();
    this.wakeIdle();
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Holds every post until `until` settles: a reply's first frame never reaches the caller before its turn owns
   * the reply in the ledger, so whoever reads the ledger after hearing a word of it sees the turn.
   */
  gate(until: Promise<unknown>): void {
    this.gated = true;
    const open = () => {
      this.gated = false;
      this.scheduleDrain();
    };
    until.then(open, open);
  }

  /**
   * Closes a reply that was stopped (interrupted, superseded) after some of its words went out: one empty `last:
   * true`, after the post in flight, so every reply that reached the caller ends exactly once. Nothing for a reply
   * that said nothing or already ended, or whose caller is gone. The turn calls it before it commits, and a newer
   * turn waits for that commit before its request, so the close never lands inside the newer reply.
   */
  async close(): Promise<void> {
    if (!this.stopped || this.finished || (this.firstTextPostedAt === undefined && !this.startedBefore)) return;
    if (this.stopReason === 'hangup' || this.stopReason === 'ended') return;
    await this.settled();
    this.finished = true;
    const frame: OutboundMessage = { type: 'text', token: '', last: true };
    if (this.lang) frame.lang = this.lang;
    const result = await this.sink.post(this.connectionId, frame);
    if (result.status === 'sent') this.posts++;
  }

  /** Resolves once no post is in flight (a stopped pump may still have one it cannot recall). */
  settled(): Promise<void> {
    if (!this.inFlight) return Promise.resolve();
    return new Promise((resolve) => this.settleWaiters.push(resolve));
  }

  /** Resolves when everything queued so far has been posted (or the pump stopped). */
  idle(): Promise<void> {
    if (this.stopped || (!this.inFlight && this.queue.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** True once the reply ended with its `last: true`. */
  get completed(): boolean {
    return this.finished;
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || this.inFlight || this.stopped || this.gated) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    if (this.inFlight || this.stopped || this.gated) return;
    const item = this.queue.shift();
    if (!item) {
      this.wakeIdle();
      return;
    }
    this.inFlight = true;
    const message: OutboundMessage = item.kind === 'text' ? this.textFrame(item) : item.message;
    void this.sink.post(this.connectionId, message).then((result) => this.posted(item, message, result));
    if (item.kind === 'text' && item.last) this.resolveEndHandedOver();
  }

  private textFrame(item: Extract<Item, { kind: 'text' }>): OutboundMessage {
    const frame: OutboundMessage = { type: 'text', token: item.text, last: item.last };
    if (this.lang) frame.lang = this.lang;
    if (item.flags?.interruptible !== undefined) frame.interruptible = item.flags.interruptible;
    if (item.flags?.preemptible !== undefined) frame.preemptible = item.flags.preemptible;
    return frame;
  }

  private posted(item: Item, message: OutboundMessage, result: PostResult): void {
    this.inFlight = false;
    const settled = this.settleWaiters;
    this.settleWaiters = [];
    for (const wake of settled) wake();
    const now = this.clock.now();
    if (result.status === 'sent') {
      this.posts++;
      if (item.kind === 'text') {
        this.spoken += item.text;
        if (item.text.length > 0) {
          this.firstTextPostedAt ??= now;
          this.lastTextPostedAt = now;
        }
        if (item.last) {
          this.finished = true;
          this.resolveDone();
        }
      }
    } else if (result.status === 'gone') {
      this.stop('hangup');
      this.hooks.onGone?.();
      return;
    } else if (result.status === 'failed') {
      this.hooks.onFailed?.(result.error, message);
      // One retry of a transiently failed frame (throttling, a 5xx), in place so order is kept; then it is dropped.
      if (!item.retried) this.queue.unshift({ ...item, retried: true });
      else if (item.kind === 'text' && item.last) {
        this.finished = true;
        this.resolveDone();
      }
    } else if (item.kind === 'text' && item.last) {
      // An invalid frame is a bug already logged; the reply still ends.
      this.finished = true;
      this.resolveDone();
    }
    this.scheduleDrain();
  }
}

function sameFlags(a: LineFlags | undefined, b: LineFlags | undefined): boolean {
  return a?.interruptible === b?.interruptible && a?.preemptible === b?.preemptible;
}
