/**
 * Speaks a reply at a human pace, the way text-to-speech would: words come out one at a time at `wpm`, however
 * fast the tokens arrive. What has been spoken so far is exactly what an `interrupt` reports as heard.
 */
export class Speaker {
  private pending = '';
  private spoken: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private finished = false;
  private startedAt = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly wpm: number,
    private readonly onWord: (word: string) => void,
  ) {}

  /** Adds streamed text; `last` marks the end of the reply. */
  push(token: string, last: boolean): void {
    if (!this.startedAt) this.startedAt = Date.now();
    this.pending += token;
    if (last) this.finished = true;
    this.pump();
  }

  get speaking(): boolean {
    return this.startedAt > 0 && !(this.finished && this.pending.trim() === '' && this.timer === undefined);
  }

  /** Words spoken so far in this reply. */
  get heard(): string {
    return this.spoken.join(' ');
  }

  get elapsedMs(): number {
    return this.startedAt ? Date.now() - this.startedAt : 0;
  }

  /** Stops speaking (the caller cut in) and returns what was heard. */
  cut(): { heard: string; durationMs: number } {
    const result = { heard: this.heard, durationMs: this.elapsedMs };
    this.reset();
    return result;
  }

  reset(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = '';
    this.spoken = [];
    this.finished = false;
    this.startedAt = 0;
    this.flushIdle();
  }

  /** Resolves once everything received so far has been spoken and the reply is complete. */
  idle(): Promise<void> {
    if (!this.speaking) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    if (this.timer) return;
    // Only a word followed by whitespace is complete, unless the reply has ended.
    const match = /^\s*(\S+)(\s+)/.exec(this.pending) ?? (this.finished ? /^\s*(\S+)()/.exec(this.pending) : null);
    if (!match) {
      if (this.finished && this.pending.trim() === '') {
        const done = this.startedAt > 0;
        this.startedAt = 0;
        this.finished = false;
        this.spoken = [];
        this.pending = '';
        if (done) this.flushIdle();
      }
      return;
    }
    const word = match[1]!;
    this.pending = this.pending.slice(match[0].length);
    this.spoken.push(word);
    this.onWord(word);
    const gap = this.wpm > 0 ? 60_000 / this.wpm : 0;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, gap);
  }

  private flushIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
