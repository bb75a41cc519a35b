import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { logger } from '../../layers/observability/logger.ts';
import {
  completionObject,
  contentChunk,
  finishChunk,
  planCompletion,
  roleChunk,
  toolCallChunk,
  usageChunk,
  type CompletionPlan,
} from './completion-chunks.ts';
import { sendOpenAiError } from './openai-errors.ts';
import type { Reply, Responder, Timing } from './reply.ts';
import { ChatCompletionRequestSchema, toOpenAiParam, type ChatCompletionRequest } from './request-schema.ts';

/**
 * A local OpenAI-compatible Chat Completions server. The Responder decides each reply; the server speaks the wire
 * protocol exactly (SSE chunks, tool-call deltas, errors), paces tokens by the timing knobs, and records when each
 * token left, so tests and the latency benchmark can compare their clocks against the model's.
 */

export interface LlmServerOptions {
  /** 127.0.0.1 unless set. */
  host?: string;
  /** A free port unless set. */
  port?: number;
  responder: Responder;
  /** Defaults for every reply; each Reply may override them. Both 0 unless set. */
  timing?: Timing;
  /** Listed by `GET /v1/models`. Completions echo whatever model the request names. */
  models?: string[];
}

export interface RecordedRequest {
  body: ChatCompletionRequest;
  /** Epoch milliseconds with sub-millisecond precision, like every time here. */
  receivedAt: number;
  /** When the bytes of the first text token or tool-call delta were written. */
  firstTokenSentAt?: number;
  lastTokenSentAt?: number;
  /** The client went away before the response was complete. */
  aborted: boolean;
  /** Text tokens and tool-call deltas written. */
  tokensSent: number;
  /** HTTP status answered (a cut connection still records the 200 it started with). */
  status?: number;
  /** When the response ended, was cut, or the client left. */
  endedAt?: number;
  reply?: Reply;
}

export interface LlmServer {
  /** e.g. http://127.0.0.1:PORT/v1; give it to `new OpenAI({ baseURL, apiKey: 'offline' })`. */
  baseUrl: string;
  requests: RecordedRequest[];
  setResponder(responder: Responder): void;
  /** Changes the default timing for replies from now on (fields left out keep their value). */
  setTiming(timing: Timing): void;
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 20 * 1024 * 1024;

/** Wall-clock epoch milliseconds with sub-millisecond precision, comparable across processes on this machine. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

export async function startLlmServer(options: LlmServerOptions): Promise<LlmServer> {
  let responder = options.responder;
  let timing: Required<Timing> = { firstTokenMs: 0, tokenGapMs: 0, ...definedOnly(options.timing ?? {}) };
  const models = options.models ?? ['offline-demo'];
  const requests: RecordedRequest[] = [];

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error('LLM server: request failed', { error, method: req.method, url: req.url });
      if (res.headersSent) res.destroy();
      else sendOpenAiError(res, { status: 500, message: 'The server had an error while processing your request.' });
    });
  });
  // Each SSE event must leave at once: the benchmark measures when the first token reaches the engine.
  server.on('connection', (socket) => socket.setNoDelay(true));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
    res.setHeader('x-request-id', `req_${randomBytes(12).toString('hex')}`);
    if (req.method === 'POST' && path === '/v1/chat/completions') return chatCompletion(req, res);
    if (req.method === 'GET' && path === '/v1/models') {
      return sendJson(res, 200, { object: 'list', data: models.map(modelObject) });
    }
    const model = req.method === 'GET' ? /^\/v1\/models\/(.+)$/.exec(path)?.[1] : undefined;
    if (model !== undefined) {
      const id = decodeURIComponent(model);
      if (models.includes(id)) return sendJson(res, 200, modelObject(id));
      return sendOpenAiError(res, { status: 404, message: `The model '${id}' does not exist`, code: 'model_not_found' }, 'model');
    }
    sendOpenAiError(res, { status: 404, message: `Invalid URL (${req.method} ${path})`, code: 'unknown_url' });
  }

  async function chatCompletion(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = preciseNow();
    const gone = new AbortController();
    let record: RecordedRequest | undefined;
    let cutByServer = false;
    res.on('close', () => {
      if (res.writableFinished) return;
      gone.abort();
      if (record && !cutByServer) {
        record.aborted = true;
        record.endedAt ??= preciseNow();
      }
    });

    const raw = await readBody(req, MAX_BODY_BYTES);
    if (raw === undefined) {
      return sendOpenAiError(res, { status: 413, message: `Request body too large (limit ${MAX_BODY_BYTES} bytes).` });
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return sendOpenAiError(res, {
        status: 400,
        message:
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
      });
    }
    const parsed = ChatCompletionRequestSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const param = issue ? toOpenAiParam(issue.path) : null;
      logger.warn('LLM server: malformed chat completion request', { issues: parsed.error.issues });
      return sendOpenAiError(
        res,
        { status: 400, message: issue ? `${issue.message}${param ? ` (at '${param}')` : ''}` : 'Invalid request.' },
        param,
      );
    }
    const body = parsed.data;
    const current: RecordedRequest = { body, receivedAt, aborted: gone.signal.aborted, tokensSent: 0 };
    record = current;
    requests.push(current);

    let reply: Reply;
    try {
      reply = await responder(body);
    } catch (error) {
      logger.error('LLM server: responder failed', { error });
      current.status = 500;
      current.endedAt = preciseNow();
      return sendOpenAiError(res, { status: 500, message: 'The server had an error while processing your request.' });
    }
    current.reply = reply;
    // The client may have left while the responder was thinking; there is no one to answer.
    if (gone.signal.aborted) return;
    const firstTokenMs = reply.firstTokenMs ?? timing.firstTokenMs;
    const tokenGapMs = reply.tokenGapMs ?? timing.tokenGapMs;
    const signal = gone.signal;

    if (reply.error) {
      await sleepUntil(receivedAt + firstTokenMs, signal);
      if (signal.aborted) return;
      current.status = reply.error.status;
      current.endedAt = preciseNow();
      return sendOpenAiError(res, reply.error);
    }

    const plan = planCompletion(reply, body);
    // Ending the socket (not destroying it) lets the tokens already written arrive before the connection drops.
    const cut = () => {
      cutByServer = true;
      current.endedAt = preciseNow();
      const socket = res.socket;
      if (!socket) return void res.destroy();
      socket.end();
      setTimeout(() => socket.destroy(), 1_000).unref();
    };

    if (!body.stream) {
      const count = plan.textTokens.length + plan.toolCallDeltas.length;
      await sleepUntil(receivedAt + firstTokenMs + Math.max(0, count - 1) * tokenGapMs, signal);
      if (signal.aborted) return;
      current.status = 200;
      if (reply.failAfterTokens !== undefined) return cut();
      sendJson(res, 200, completionObject(plan));
      const sentAt = preciseNow();
      Object.assign(current, { firstTokenSentAt: sentAt, lastTokenSentAt: sentAt, tokensSent: count, endedAt: sentAt });
      return;
    }

    current.status = 200;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    const send = async (event: unknown): Promise<boolean> => {
      if (signal.aborted) return false;
      if (!res.write(`data: ${typeof event === 'string' ? event : JSON.stringify(event)}\n\n`)) {
        await once(res, 'drain', { signal }).catch(() => undefined);
      }
      return !signal.aborted;
    };

    const events = tokenEvents(plan, reply.failAfterTokens);
    await sleepUntil(receivedAt + firstTokenMs, signal);
    if (!(await send(roleChunk(plan)))) return;
    // Later tokens keep to a fixed schedule from the first, so a slow responder delays the reply, not its pace.
    let firstAt = 0;
    for (const [i, event] of events.entries()) {
      if (i > 0) await sleepUntil(firstAt + i * tokenGapMs, signal);
      if (!(await send(event))) return;
      const sentAt = preciseNow();
      if (i === 0) {
        firstAt = sentAt;
        current.firstTokenSentAt = sentAt;
      }
      current.lastTokenSentAt = sentAt;
      current.tokensSent++;
    }
    if (reply.failAfterTokens !== undefined) return cut();
    if (!(await send(finishChunk(plan)))) return;
    if (plan.includeUsage && !(await send(usageChunk(plan)))) return;
    if (!(await send('[DONE]'))) return;
    res.end();
    current.endedAt = preciseNow();
  }

  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    baseUrl: `http://${host}:${address.port}/v1`,
    requests,
    setResponder(next) {
      responder = next;
    },
    setTiming(next) {
      timing = { ...timing, ...definedOnly(next) };
    },
    async stop() {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The chunks that count as tokens, in send order; a planned failure keeps only the text before the cut. */
function tokenEvents(plan: CompletionPlan, failAfterTokens: number | undefined): unknown[] {
  if (failAfterTokens !== undefined) return plan.textTokens.slice(0, failAfterTokens).map((t) => contentChunk(plan, t));
  return [
    ...plan.textTokens.map((token) => contentChunk(plan, token)),
    ...plan.toolCallDeltas.map((delta) => toolCallChunk(plan, delta)),
  ];
}

async function sleepUntil(target: number, signal: AbortSignal): Promise<void> {
  const ms = target - preciseNow();
  if (ms <= 0 || signal.aborted) return;
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > limit) return undefined;
    parts.push(part);
  }
  return Buffer.concat(parts).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function modelObject(id: string) {
  return { id, object: 'model', created: 0, owned_by: 'local' };
}

function definedOnly(timing: Timing): Partial<Required<Timing>> {
  const out: Partial<Required<Timing>> = {};
  if (timing.firstTokenMs !== undefined) out.firstTokenMs = timing.firstTokenMs;
  if (timing.tokenGapMs !== undefined) out.tokenGapMs = timing.tokenGapMs;
  return out;
}
