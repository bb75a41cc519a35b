import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import { logger } from '../../layers/observability/logger.ts';
import { awsStyleId, integrationErrorFrame, sourceIp } from './aws-formats.ts';
import { Connection, type CloseCause, type ConnectionRegistry } from './connection.ts';
import type { IntegrationOutcome, Integrations } from './integration.ts';
import type { ConnectResult, WebSocketRoutes } from './types.ts';
import {
  clientCloseCause,
  connectEvent,
  connectionFacts,
  disconnectEvent,
  messageEvent,
} from './websocket-events.ts';

/**
 * The WebSocket API: $connect decides the handshake, every text frame is its own concurrent $default invocation,
 * and $disconnect fires exactly once per accepted connection, whoever closes it.
 */

/** API Gateway's limit on one WebSocket message. */
export const MAX_MESSAGE_BYTES = 128 * 1024;
/** How long a server-side close waits for the client's close frame before dropping the socket. */
const CLOSE_HANDSHAKE_MS = 1000;

const ConnectResultSchema = z.object({
  statusCode: z.number().int().min(100).max(599),
  body: z.string().optional(),
  headers: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

type ConnectVerdict = { accept: true } | { accept: false; status: number; body?: string; headers?: Record<string, string> };

export interface WebSocketApiOptions {
  stage: string;
  routes: WebSocketRoutes;
  registry: ConnectionRegistry;
  integrations: Integrations;
}

export class WebSocketApi {
  private readonly server = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
    clientTracking: false,
  });
  /** Sockets whose $connect is still running. */
  private readonly handshakes = new Set<Duplex>();
  private readonly disconnects = new Set<Promise<void>>();
  private stopping = false;

  constructor(private readonly options: WebSocketApiOptions) {}

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, search: URLSearchParams): void {
    socket.on('error', () => undefined); // a client vanishing mid-handshake is not our error
    if (this.stopping) return rejectHandshake(socket, 503);
    if (!isWebSocketUpgrade(request)) return rejectHandshake(socket, 400);

    const connectedAt = Date.now();
    const userAgent = request.headers['user-agent'];
    const facts = {
      connectionId: awsStyleId(),
      connectedAt,
      stage: this.options.stage,
      domainName: request.headers.host ?? `${request.socket.localAddress}:${request.socket.localPort}`,
      identity: { sourceIp: sourceIp(request.socket.remoteAddress), ...(userAgent ? { userAgent } : {}) },
    };
    const event = connectEvent(facts, request, search);
    this.handshakes.add(socket);
    this.options.integrations.invoke(
      () => this.options.routes.connect(event),
      (outcome) => {
        this.handshakes.delete(socket);
        const verdict = connectVerdict(outcome, facts.connectionId);
        if (!verdict.accept) return rejectHandshake(socket, verdict.status, verdict.body, verdict.headers);
        if (socket.destroyed) {
          // The client left while $connect ran: the app has seen the connection, so it hears of its end too.
          if (!this.stopping) this.fireDisconnect(facts, { code: 1006, reason: 'Going away' });
          return;
        }
        this.server.handleUpgrade(request, socket, head, (ws) => {
          const connection = new Connection(facts.connectionId, ws, connectedAt, facts.identity, facts.domainName);
          this.open(connection);
        });
      },
    );
  }

  /** Closes the socket from the gateway's side; resolves once $disconnect has run. */
  closeFromServer(connection: Connection, cause: CloseCause): Promise<void> {
    const ws = connection.socket;
    if (!connection.closed && !connection.serverClose && ws.readyState === WebSocket.OPEN) {
      connection.serverClose = cause;
      ws.close(cause.code);
      const fallback = setTimeout(() => ws.terminate(), CLOSE_HANDSHAKE_MS);
      fallback.unref();
      ws.once('close', () => clearTimeout(fallback));
    }
    return connection.disconnected;
  }

  /**
   * Cuts the socket without a close handshake, as a network failure does: the client sees an abnormal closure
   * (1006) and $disconnect reports it. Resolves once $disconnect has run.
   */
  dropFromServer(connection: Connection): Promise<void> {
    if (!connection.closed && !connection.serverClose) {
      connection.serverClose = { code: 1006, reason: 'Connection dropped' };
      connection.socket.terminate();
    }
    return connection.disconnected;
  }

  /** For stop(): refuse new handshakes, close every socket, and wait for every $disconnect. */
  async closeAll(): Promise<void> {
    this.stopping = true;
    for (const socket of this.handshakes) socket.destroy();
    this.handshakes.clear();
    await Promise.all(
      this.options.registry.all().map((c) => this.closeFromServer(c, { code: 1001, reason: 'Going away' })),
    );
    await Promise.all([...this.disconnects]);
    this.server.close();
  }

  private open(connection: Connection): void {
    const ws = connection.socket;
    this.options.registry.add(connection);
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(connection, data, isBinary));
    ws.on('error', (error: Error & { code?: string }) => {
      // ws has already sent the matching close frame; $disconnect reports it like AWS would.
      connection.serverClose ??=
        error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
          ? { code: 1009, reason: 'Message too big' }
          : { code: 1002, reason: `Protocol error: ${error.message}` };
    });
    ws.on('close', (code: number, reason: Buffer) => {
      connection.closed = true;
      this.options.registry.remove(connection.id);
      const cause = connection.serverClose ?? clientCloseCause(code, reason.toString());
      this.fireDisconnect(connectionFacts(connection, this.options.stage), cause, connection);
    });
  }

  private onFrame(connection: Connection, data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      // API Gateway rejects binary frames and disconnects the client with 1003.
      void this.closeFromServer(connection, { code: 1003, reason: 'Binary frames are not supported' });
      return;
    }
    connection.lastActiveAt = Date.now();
    const event = messageEvent(connectionFacts(connection, this.options.stage), data.toString('utf8'));
    const { requestId } = event.requestContext;
    this.options.integrations.invoke(
      () => this.options.routes.message(event),
      (outcome) => {
        if (outcome.kind === 'threw') {
          logger.error('WebSocket $default handler failed', {
            connectionId: connection.id,
            requestId,
            error: outcome.error as Error,
          });
          sendFrame(connection, integrationErrorFrame('Internal server error', connection.id, requestId));
        } else if (outcome.kind === 'timed-out') {
          logger.error('WebSocket $default handler timed out', { connectionId: connection.id, requestId });
          sendFrame(connection, integrationErrorFrame('Endpoint request timed out', connection.id, requestId));
        }
      },
    );
  }

  private fireDisconnect(
    facts: ReturnType<typeof connectionFacts>,
    cause: CloseCause,
    connection?: Connection,
  ): void {
    const event = disconnectEvent(facts, cause);
    const settled = new Promise<void>((resolve) =>
      this.options.integrations.invoke(
        () => this.options.routes.disconnect(event),
        (outcome) => {
          if (outcome.kind === 'threw' || outcome.kind === 'timed-out') {
            logger.error('WebSocket $disconnect handler failed', {
              connectionId: facts.connectionId,
              outcome: outcome.kind,
              ...(outcome.kind === 'threw' ? { error: outcome.error as Error } : {}),
            });
          }
          resolve();
        },
      ),
    );
    this.disconnects.add(settled);
    void settled.then(() => {
      this.disconnects.delete(settled);
      connection?.markDisconnected();
    });
  }
}

function sendFrame(connection: Connection, text: string): void {
  if (connection.socket.readyState === WebSocket.OPEN) connection.socket.send(text);
}

function connectVerdict(outcome: IntegrationOutcome<ConnectResult | void>, connectionId: string): ConnectVerdict {
  switch (outcome.kind) {
    case 'abandoned':
      return { accept: false, status: 503 };
    case 'timed-out':
      logger.error('WebSocket $connect handler timed out', { connectionId });
      return { accept: false, status: 504 };
    case 'threw':
      logger.error('WebSocket $connect handler failed', { connectionId, error: outcome.error as Error });
      return { accept: false, status: 500 };
    case 'returned': {
      if (outcome.value === undefined || outcome.value === null) return { accept: true };
      const parsed = ConnectResultSchema.safeParse(outcome.value);
      if (!parsed.success) {
        logger.error('WebSocket $connect handler returned a malformed result', { connectionId, issues: parsed.error.issues });
        return { accept: false, status: 502 };
      }
      if (parsed.data.statusCode === 200) return { accept: true };
      const headers = Object.fromEntries(Object.entries(parsed.data.headers ?? {}).map(([k, v]) => [k, String(v)]));
      return { accept: false, status: parsed.data.statusCode, body: parsed.data.body, headers };
    }
  }
}

function isWebSocketUpgrade(request: IncomingMessage): boolean {
  return (
    request.method === 'GET' &&
    request.headers.upgrade?.toLowerCase() === 'websocket' &&
    typeof request.headers['sec-websocket-key'] === 'string' &&
    request.headers['sec-websocket-version'] === '13'
  );
}

/** Answers the upgrade request with a plain HTTP status: the client sees the handshake fail with it. */
export function rejectHandshake(socket: Duplex, status: number, body?: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const text = body ?? JSON.stringify({ message: STATUS_CODES[status] ?? 'Error' });
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`, 'Connection: close'];
  const all: Record<string, string> = { 'Content-Type': 'application/json', ...headers, 'Content-Length': String(Buffer.byteLength(text)) };
  for (const [name, value] of Object.entries(all)) lines.push(`${name}: ${value}`);
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
}
