import type { Store } from './ports.ts';

/**
 * Which session a connection belongs to. Frames carry only the connection id; the `conn#` pointer never changes
 * for a connection, so each container reads it once (on its first frame of that connection) and keeps it in a
 * bounded LRU. Trade-off: a container's first frame of a call costs two reads before the LLM request (pointer,
 * then the conversation Query) instead of one; every later frame costs one. Denormalising the session into the
 * pointer would save that read but make every session write a two-item write.
 */
export class SessionDirectory {
  private readonly entries = new Map<string, string>();

  constructor(
    private readonly store: Pick<Store, 'sessionIdForConnection'>,
    private readonly capacity = 2_000,
  ) {}

  async sessionFor(connectionId: string): Promise<string | undefined> {
    const cached = this.entries.get(connectionId);
    if (cached !== undefined) {
      this.entries.delete(connectionId);
      this.entries.set(connectionId, cached);
      return cached;
    }
    const sessionId = await this.store.sessionIdForConnection(connectionId);
    if (sessionId !== undefined) this.remember(connectionId, sessionId);
    return sessionId;
  }

  remember(connectionId: string, sessionId: string): void {
    this.entries.delete(connectionId);
    this.entries.set(connectionId, sessionId);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  forget(connectionId: string): void {
    this.entries.delete(connectionId);
  }

  get size(): number {
    return this.entries.size;
  }
}
