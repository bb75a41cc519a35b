/**
 * One Lambda-style integration call with API Gateway's integration timeout. The handler is called synchronously (no
 * hop before it starts, which matters for latency measurements); the outcome arrives once, whichever comes first.
 */
export type IntegrationOutcome<T> =
  | { kind: 'returned'; value: T }
  | { kind: 'threw'; error: unknown }
  | { kind: 'timed-out' }
  /** The gateway stopped while the handler was still running: nobody is left to answer. */
  | { kind: 'abandoned' };

export class Integrations {
  private readonly running = new Set<() => void>();

  constructor(private readonly timeoutMs: number) {}

  invoke<T>(handler: () => Promise<T>, onOutcome: (outcome: IntegrationOutcome<T>) => void): void {
    let settled = false;
    const settle = (outcome: IntegrationOutcome<T>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.running.delete(abandon);
      onOutcome(outcome);
    };
    const abandon = () => settle({ kind: 'abandoned' });
    // Unref'd: a handler that never settles must not keep the process alive on its own.
    const timer = setTimeout(() => settle({ kind: 'timed-out' }), this.timeoutMs);
    timer.unref();
    this.running.add(abandon);

    let result: Promise<T>;
    try {
      result = handler();
    } catch (error) {
      settle({ kind: 'threw', error });
      return;
    }
    Promise.resolve(result).then(
      (value) => settle({ kind: 'returned', value }),
      (error: unknown) => settle({ kind: 'threw', error }),
    );
  }

  /** The same call as a promise, for callers that await the outcome anyway ($connect, HTTP routes). */
  run<T>(handler: () => Promise<T>): Promise<IntegrationOutcome<T>> {
    return new Promise((resolve) => this.invoke(handler, resolve));
  }

  abandonAll(): void {
    for (const abandon of [...this.running]) abandon();
  }
}
