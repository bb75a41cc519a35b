import { performance } from 'node:perf_hooks';

/**
 * Frames posted to one connection leave in the order their posts arrived, each no earlier than its own simulated
 * round trip. A post that is due now and has nobody ahead of it goes out synchronously: with zero latency the
 * gateway adds no timer hop to the measured path.
 */
interface PendingDelivery {
  deliver(): void;
}

export class Outbox {
  private readonly queue: PendingDelivery[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private lastDueAt = 0;

  schedule(latencyMs: number, deliver: () => void): void {
    const now = performance.now();
    const dueAt = Math.max(now + latencyMs, this.lastDueAt);
    this.lastDueAt = dueAt;
    if (dueAt <= now && this.queue.length === 0) {
      deliver();
      return;
    }
    const pending: PendingDelivery = { deliver };
    this.queue.push(pending);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.deliverThrough(pending);
    }, dueAt - now);
    this.timers.add(timer);
  }

  /** Everything still waiting goes now (used when the gateway stops, so no caller is left hanging). */
  flush(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.deliverThrough(undefined);
  }

  get pending(): number {
    return this.queue.length;
  }

  // Due times never decrease along the queue, so whatever is ahead of `last` is due too.
  private deliverThrough(last: PendingDelivery | undefined): void {
    for (;;) {
      const next = this.queue.shift();
      if (!next) return;
      next.deliver();
      if (next === last) return;
    }
  }
}
