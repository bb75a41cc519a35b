import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { listSessionsByDay, getSession, loadConversation } from '../../layers/data/sessions.ts';
import type { Table } from '../../layers/data/table.ts';
import { listTurnRecords, type TurnRecord } from '../../layers/data/turns.ts';
import { isLocalRequest } from '../gateway/local-request.ts';
import { rejectHandshake } from '../gateway/websocket-api.ts';
import type { CallEvent, RuntimeEvents } from '../local/runtime.ts';
import { ConsoleCall } from './console-call.ts';
import { latency, summarize, transcript } from './call-view.ts';
import { BrowserMessageSchema, type ServerMessage } from './messages.ts';

/**
 * The web console, on the runtime's own port under /console: static files (plain ES modules, nothing to build), a
 * small JSON API over the table (recent calls, one call's transcript and waterfall) and one WebSocket per page that
 * carries live events and the page's call. The page plays ConversationRelay's part, but the signed webhook and
 * the signed WebSocket are opened here, by the same caller `npm run call` uses: the auth token never reaches the
 * page. Everything answers this machine only (see isLocalRequest).
 */
export interface ConsoleOptions {
  table: Table;
  webhookUrl: string;
  authToken: string;
  events: RuntimeEvents;
}

const PUBLIC_DIR = join(import.meta.dirname, 'public');
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'phone.js': 'text/javascript; charset=utf-8',
  'speaker.js': 'text/javascript; charset=utf-8',
  'views.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

function send(response: ServerResponse, status: number, body: string, type = 'application/json; charset=utf-8'): void {
  response.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    // The page loads only its own files and talks only to this server.
    'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
    'x-content-type-options': 'nosniff',
  });
  response.end(body);
}

const json = (response: ServerResponse, status: number, value: unknown) => send(response, status, JSON.stringify(value));

export function startConsole(options: ConsoleOptions) {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, clientTracking: false });
  const pages = new Set<WebSocket>();
  const calls = new Set<ConsoleCall>();

  const broadcast = (message: ServerMessage) => {
    const text = JSON.stringify(message);
    for (const page of pages) if (page.readyState === page.OPEN) page.send(text);
  };
  // Every page sees every call's turns and starts/ends (a call placed with `npm run call` shows up too).
  const onTurn = (record: TurnRecord) => void callUpdate(record.sessionId).then((m) => m && broadcast(m), () => undefined);
  const onCall = (event: CallEvent) => {
    broadcast({ type: 'call', event });
    if (event.kind === 'end') void callUpdate(event.sessionId).then((m) => m && broadcast(m), () => undefined);
  };
  options.events.on('turn', onTurn);
  options.events.on('call', onCall);

  async function callUpdate(sessionId: string): Promise<ServerMessage | undefined> {
    const detail = await callDetail(sessionId);
    return detail && { type: 'update', ...detail };
  }

  async function callDetail(sessionId: string) {
    const session = await getSession(options.table, sessionId);
    if (!session) return undefined;
    const [{ messages }, records] = await Promise.all([loadConversation(options.table, sessionId), listTurnRecords(options.table, sessionId)]);
    return { call: summarize(session), transcript: transcript(messages), latency: latency(session, records) };
  }

  async function recentCalls() {
    const days = [0, 1].map((d) => new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10));
    return (await listSessionsByDay(options.table, days, 30)).map(summarize);
  }

  async function api(response: ServerResponse, pathname: string): Promise<void> {
    if (pathname === '/console/api/calls') return json(response, 200, { calls: await recentCalls() });
    const one = /^\/console\/api\/calls\/([A-Za-z0-9_-]{1,128})$/.exec(pathname);
    if (one) {
      const detail = await callDetail(one[1]!);
      return detail ? json(response, 200, detail) : json(response, 404, { message: 'no such call' });
    }
    json(response, 404, { message: 'not found' });
  }

  function request(req: IncomingMessage, response: ServerResponse, pathname: string): boolean {
    if (pathname !== '/console' && !pathname.startsWith('/console/')) return false;
    req.resume();
    if (!isLocalRequest(req)) {
      send(response, 403, JSON.stringify({ message: 'The console answers this machine only.' }));
      return true;
    }
    if (req.method !== 'GET') {
      send(response, 405, JSON.stringify({ message: 'GET only' }));
      return true;
    }
    if (pathname === '/console') {
      response.writeHead(308, { location: '/console/' });
      response.end();
      return true;
    }
    if (pathname.startsWith('/console/api/')) {
      api(response, pathname).catch((err: unknown) => json(response, 500, { message: (err as Error).message }));
      return true;
    }
    const name = pathname === '/console/' ? 'index.html' : pathname.slice('/console/'.length);
    const type = FILES[name];
    if (!type) {
      send(response, 404, JSON.stringify({ message: 'not found' }));
      return true;
    }
    readFile(join(PUBLIC_DIR, name), 'utf8').then(
      (body) => send(response, 200, body, type),
      () => send(response, 500, JSON.stringify({ message: `cannot read ${name}` })),
    );
    return true;
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean {
    if (url.pathname !== '/console/socket') return false;
    socket.on('error', () => undefined);
    if (!isLocalRequest(req)) {
      rejectHandshake(socket, 403, JSON.stringify({ message: 'The console answers this machine only.' }));
      return true;
    }
    sockets.handleUpgrade(req, socket, head, (page) => attach(page));
    return true;
  }

  function attach(page: WebSocket): void {
    pages.add(page);
    const reply = (message: ServerMessage) => page.readyState === page.OPEN && page.send(JSON.stringify(message));
    let call: ConsoleCall | undefined;
    void recentCalls().then((list) => reply({ type: 'calls', calls: list }), () => undefined);
    page.on('message', (data) => {
      let raw: unknown;
      try {
        raw = JSON.parse(data.toString());
      } catch {
        return reply({ type: 'error', message: 'not JSON' });
      }
      const parsed = BrowserMessageSchema.safeParse(raw);
      if (!parsed.success) return reply({ type: 'error', message: `bad message: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
      const message = parsed.data;
      if (message.type === 'dial') {
        if (call?.isOpen) return reply({ type: 'error', message: 'a call is already in progress on this page' });
        const placing = new ConsoleCall({ webhookUrl: options.webhookUrl, authToken: options.authToken, from: message.from, to: message.to }, reply);
        call = placing;
        calls.add(placing);
        void placing.dial();
        placing.onClosed(() => calls.delete(placing));
        return;
      }
      if (!call?.isOpen) return reply({ type: 'error', message: 'no call in progress' });
      call.handle(message);
    });
    page.on('close', () => {
      pages.delete(page);
      // Closing the tab is hanging up.
      void call?.hangup();
    });
  }

  return {
    request,
    upgrade,
    async stop() {
      options.events.off('turn', onTurn);
      options.events.off('call', onCall);
      await Promise.all([...calls].map((c) => c.hangup()));
      for (const page of pages) page.terminate();
      pages.clear();
      sockets.close();
    },
  };
}
