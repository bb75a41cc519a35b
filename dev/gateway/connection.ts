import type { WebSocket } from 'ws';
import { Outbox } from './outbox.ts';

/** Why a socket closed, as $disconnect reports it. */
export interface CloseCause {
  code: number;
  reason: string;
}

/** What API Gateway knows about one open WebSocket connection. */
export class Connection {
  readonly outbox = new Outbox();
  lastActiveAt: number;
  /** Set when the gateway itself closes the socket (DELETE, disconnect(), stop(), a limit), before the close. */
  serverClose: CloseCause | undefined;
  /** True once the socket is closed; posts after this answer 410. */
  closed = false;
  private resolveDisconnected!: () => void;
  /** Settles once $disconnect has run (or was abandoned at stop). */
  readonly disconnected = new Promise<void>((resolve) => (this.resolveDisconnected = resolve));

  constructor(
    readonly id: string,
    readonly socket: WebSocket,
    readonly connectedAt: number,
    readonly identity: { sourceIp: string; userAgent?: string },
    readonly domainName: string,
  ) {
    this.lastActiveAt = connectedAt;
  }

  markDisconnected(): void {
    this.resolveDisconnected();
  }
}

/** Open connections by id, plus ids the test harness has declared gone (a hang-up the socket has not seen yet). */
export class ConnectionRegistry {
  private readonly open = new Map<string, Connection>();
  private readonly gone = new Set<string>();
  /** Closed connections whose outbox still holds posts waiting out their latency (they will answer 410). */
  private readonly draining = new Set<Connection>();

  add(connection: Connection): void {
    this.open.set(connection.id, connection);
  }

  remove(id: string): void {
    const connection = this.open.get(id);
    this.open.delete(id);
    if (connection && connection.outbox.pending > 0) this.draining.add(connection);
  }

  /** Every outbox that may still hold a post, open or closed, for stop() to answer them all. */
  outboxes(): Outbox[] {
    for (const connection of this.draining) if (connection.outbox.pending === 0) this.draining.delete(connection);
    return [...this.open.values(), ...this.draining].map((c) => c.outbox);
  }

  /** The connection if a post to it would be delivered, else undefined (answer 410). */
  reachable(id: string): Connection | undefined {
    if (this.gone.has(id)) return undefined;
    const connection = this.open.get(id);
    return connection && !connection.closed ? connection : undefined;
  }

  /** The connection while its socket is open, whether or not it was marked gone. */
  get(id: string): Connection | undefined {
    return this.open.get(id);
  }

  markGone(id: string): void {
    this.gone.add(id);
  }

  all(): Connection[] {
    return [...this.open.values()];
  }
}
