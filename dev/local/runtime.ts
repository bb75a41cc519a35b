import { EventEmitter } from 'node:events';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDisconnectHandler } from '../../02_cr-application/src/handlers/disconnect.ts';
import { createConnectHandler } from '../../02_cr-application/src/handlers/connect.ts';
import { createDefaultHandler } from '../../02_cr-application/src/handlers/default.ts';
import { connectionsSinkFactory } from '../../02_cr-application/src/edges/connections-sink.ts';
import { createDynamoStore } from '../../02_cr-application/src/edges/dynamo-store.ts';
import { twilioHandshakeVerifier } from '../../02_cr-application/src/edges/handshake-verifier.ts';
import { createOpenAiLlm } from '../../02_cr-application/src/edges/openai-llm.ts';
import type { Store } from '../../02_cr-application/src/engine/ports.ts';
import { createCallSetupHandler } from '../../03_twiml-api/src/handlers/call-setup.ts';
import { createConnectActionHandler } from '../../03_twiml-api/src/handlers/connect-action.ts';
import { sendAgentSms } from '../../03_twiml-api/src/agent-sms.ts';
import { inProcessAgentSmsDispatcher } from '../../03_twiml-api/src/agent-sms-dispatch.ts';
import { getSession } from '../../layers/data/sessions.ts';
import { createWhisperHandler } from '../../03_twiml-api/src/handlers/whisper.ts';
import type { TurnRecord } from '../../layers/data/turns.ts';
import { createTable, type Table } from '../../layers/data/table.ts';
import { ensureTable } from '../../layers/data/table-definition.ts';
import { createLocalMessageSender } from '../../layers/messaging/local-message-sender.ts';
import { logger } from '../../layers/observability/logger.ts';
import { createInProcessToolInvoker } from '../../layers/tools/in-process-invoker.ts';
import type { ToolInvoker } from '../../layers/tools/contract.ts';
import { discoverUseCases } from '../../scripts/lib/use-case-folders.ts';
import { loadUseCases } from '../../scripts/load-use-cases.ts';
import { startLocalDynamo, type LocalDynamo } from '../dynamodb/local-dynamodb.ts';
import { startConsole } from '../console/server.ts';
import { startGateway, type ExtraHandler, type Gateway, type WebSocketEvent, type WebSocketRoutes } from '../gateway/index.ts';
import { startOfflineModel, type OfflineModel } from '../llm/index.ts';
import { DATABASE_FOLDER, LOCAL_TABLE_NAME, lockDataDir, prepareDataDir, type DataDirLock } from './data-dir.ts';
import { chooseLlm, SettingsError, type LlmChoice, type Settings } from './settings.ts';
import { callSidOf, type UsageMeter } from './usage-meter.ts';
import { localContinuity } from './continuity.ts';
import { CALL_TIMER_EVENT } from '../../02_cr-application/src/engine/continuity/call-timer.ts';

/**
 * The whole app on one machine: the same handler factories that run in Lambda, with local edges. Embedded
 * DynamoDB (dynalite, persisted under DATA_DIR), an API-Gateway-shaped server (HTTP API routes, WebSocket API,
 * @connections), tools in-process, and the LLM the settings choose (OpenAI, any compatible server, or the
 * offline model). Used by `npm start`, the runtime tests and the load benchmark.
 */
export { LOCAL_TABLE_NAME };

export interface RuntimeOptions {
  settings: Settings;
  /** The repository root (use-case folders live there). */
  rootDir: string;
  /** Keep the database in memory instead of DATA_DIR (tests). */
  ephemeral?: boolean;
  /** Progress lines; silent when unset. */
  log?: (line: string) => void;
  /** Called with every stored turn record: the live latency view. */
  onTurn?: (record: TurnRecord) => void;
  /** Called when a call connects and when it hangs up. */
  onCall?: (event: CallEvent) => void;
  /** A route handler failed or timed out, in words (the JSON log may be off). */
  onProblem?: (line: string) => void;
  /** Serve the web console under /console on the same port (npm start does). */
  console?: boolean;
  /** Named in the DATA_DIR lock, for whoever finds the folder taken. Default `npm start`. */
  command?: string;
  /** Measures each invocation's time and table units per call (the eval runner's cost per call). */
  usageMeter?: UsageMeter;
  /** Offline model only: re-read edited offline-model.json files before each reply (`npm start`). */
  reloadOfflineScripts?: boolean;
}

/** A call starting (its WebSocket connected) or ending (the socket closed). */
export interface CallEvent {
  kind: 'start' | 'end';
  sessionId: string;
  callSid?: string | undefined;
  useCaseId?: string | undefined;
  from?: string | undefined;
  at: number;
}

/** What the runtime reports as it happens: every stored turn record, and calls starting and ending. */
export type RuntimeEvents = EventEmitter<{ turn: [TurnRecord]; call: [CallEvent] }>;

export interface LocalRuntime {
  webhookUrl: string;
  actionUrl: string;
  webSocketUrl: string;
  connectionsEndpoint: string;
  dynamoEndpoint: string;
  table: Table;
  gateway: Gateway;
  llm: LlmChoice & { baseUrl?: string };
  /** The offline model's server, when it is the LLM in use. */
  offlineModel?: OfflineModel;
  /** The web console's page, when served. */
  consoleUrl?: string;
  events: RuntimeEvents;
  /** Resolves once no handler invocation is running (a reply's history writes included). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** Tools of every use case, routed by the session's use case so two use cases may share a tool name. */
function useCaseToolInvoker(invokers: Map<string, ToolInvoker>): ToolInvoker {
  return {
    invoke(call, options) {
      const invoker = invokers.get(call.caller.useCaseId);
      if (!invoker) {
        return Promise.resolve({ ok: false, error: { code: 'unknown_tool', message: `no tools for use case ${call.caller.useCaseId}` } });
      }
      return invoker.invoke(call, options);
    },
  };
}

export async function startLocalRuntime(options: RuntimeOptions): Promise<LocalRuntime> {
  const { settings } = options;
  const log = options.log ?? (() => undefined);
  const cleanup: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const step of cleanup.reverse()) await step().catch((err: unknown) => log(`shutdown: ${String(err)}`));
    cleanup.length = 0;
  };

  try {
    // 1. DynamoDB, in a data folder this process has to itself
    let lock: DataDirLock | undefined;
    if (!options.ephemeral) {
      await prepareDataDir(settings.dataDir);
      const taken = await lockDataDir(settings.dataDir, options.command ?? 'npm start');
      lock = taken;
      cleanup.push(() => taken.release());
    }
    const dbPath = options.ephemeral ? undefined : join(settings.dataDir, DATABASE_FOLDER);
    if (dbPath) await prepareDataDir(dbPath);
    const dynamo: LocalDynamo = await startLocalDynamo({ backend: 'dynalite', ...(dbPath ? { path: dbPath } : {}) });
    cleanup.push(() => dynamo.stop());
    await ensureTable(dynamo.client, LOCAL_TABLE_NAME);
    const table = createTable({ name: LOCAL_TABLE_NAME, endpoint: dynamo.endpoint, region: 'local' });
    options.usageMeter?.instrument(table);
    cleanup.push(async () => table.doc.destroy());
    log(`DynamoDB   dynalite at ${dynamo.endpoint}, table ${LOCAL_TABLE_NAME}${dbPath ? `, data in ${dbPath}` : ' (in memory)'}`);

    // 2. Use cases (idempotent: editing a prompt and restarting picks it up; bookings are kept)
    const loaded = await loadUseCases(table, { log: (line) => line.startsWith('warning') && log(line) }, options.rootDir);
    if (!loaded.includes(settings.DEFAULT_USE_CASE_ID)) {
      throw new SettingsError(`DEFAULT_USE_CASE_ID: no use case "${settings.DEFAULT_USE_CASE_ID}" (there are: ${loaded.join(', ')}). Fix it in the environment or .env.`);
    }
    log(`Use cases  ${loaded.join(', ')} loaded; callers with no saved choice reach ${settings.DEFAULT_USE_CASE_ID}`);

    // 3. LLM
    const choice = chooseLlm(settings);
    let llmBaseUrl = choice.kind === 'offline' ? undefined : choice.kind === 'compatible' ? choice.baseUrl : undefined;
    let offlineModel: OfflineModel | undefined;
    if (choice.kind === 'offline') {
      offlineModel = await startOfflineModel({
        rootDir: options.rootDir,
        timing: { firstTokenMs: settings.OFFLINE_FIRST_TOKEN_MS, tokenGapMs: settings.OFFLINE_TOKEN_GAP_MS },
        ...(options.reloadOfflineScripts
          ? {
              reload: (event: { reloaded: string[] } | { error: Error }) =>
                log('reloaded' in event ? `LLM        offline scripts reloaded (${event.reloaded.length} files)` : `LLM        offline script edit not used, the previous version stays: ${event.error.message}`),
            }
          : {}),
      });
      const model = offlineModel;
      cleanup.push(() => model.stop());
      llmBaseUrl = offlineModel.baseUrl;
      log(`LLM        offline model at ${offlineModel.baseUrl} (a scripted development stand-in, not an assistant; set OPENAI_API_KEY or OPENAI_BASE_URL for a real one)`);
    } else if (choice.kind === 'compatible') {
      log(`LLM        OpenAI-compatible server at ${choice.baseUrl}, model ${choice.model}`);
    } else {
      log(`LLM        OpenAI, model ${choice.model}`);
    }
    const apiKey = choice.kind === 'offline' ? 'offline' : choice.apiKey;
    const llm = createOpenAiLlm({ baseURL: llmBaseUrl, apiKey: async () => apiKey ?? 'none', defaultModel: choice.model });

    // 4. Tools in-process, one invoker per use case
    const messages = createLocalMessageSender({ table, logger, print: (line) => log(line) });
    const invokers = new Map<string, ToolInvoker>();
    for (const useCase of await discoverUseCases(options.rootDir)) {
      invokers.set(useCase.id, createInProcessToolInvoker(useCase.tools, { table, logger, messages }));
    }

    // 5. Handlers: the Lambda factories with local edges. Routes are bound once the server knows its URLs.
    const events: RuntimeEvents = new EventEmitter();
    if (options.onTurn) events.on('turn', options.onTurn);
    if (options.onCall) events.on('call', options.onCall);
    const baseStore = createDynamoStore(table);
    const store: Store = { ...baseStore, putTurnRecord: async (record) => { await baseStore.putTurnRecord(record); events.emit('turn', record); } };
    // Handler invocations still running at shutdown (a turn saving its reply) finish before the database stops:
    // Ctrl-C loses nothing. Registered before the gateway's stop, so it runs after it (cleanup runs in reverse).
    const inflight = new Set<Promise<unknown>>();
    const problem = options.onProblem ?? (() => undefined);
    const track = <T>(work: Promise<T>, route = ''): Promise<T> => {
      if (route) {
        work = work.catch((err: unknown) => {
          problem(`${route} failed: ${err instanceof Error ? err.message : String(err)}`);
          throw err;
        });
      }
      inflight.add(work);
      void work.finally(() => inflight.delete(work)).catch(() => undefined);
      return work;
    };
    cleanup.push(async () => {
      const deadline = new Promise((resolve) => setTimeout(resolve, 15_000).unref());
      await Promise.race([Promise.allSettled([...inflight]), deadline]);
    });
    let routes: WebSocketRoutes | undefined;
    let http: { callSetup: (e: never) => Promise<unknown>; connectAction: (e: never) => Promise<unknown>; whisper: (e: never) => Promise<unknown> } | undefined;
    const notReady = () => Promise.reject(new Error('runtime still starting'));
    // Calls as they start and end, for the terminal and the console: which session a connection serves is known
    // from the handshake's query string, the call's identity from its session.
    const callOfConnection = new Map<string, string>();
    const callStarted = (event: WebSocketEvent) => {
      const sessionId = event.queryStringParameters?.session;
      if (!sessionId) return;
      callOfConnection.set(event.requestContext.connectionId, sessionId);
      void getSession(table, sessionId).then(
        (session) => events.emit('call', { kind: 'start', sessionId, callSid: session?.callSid, useCaseId: session?.useCaseId, from: session?.from, at: Date.now() }),
        () => undefined,
      );
    };
    const callEnded = (event: WebSocketEvent) => {
      const sessionId = callOfConnection.get(event.requestContext.connectionId);
      if (!sessionId) return;
      callOfConnection.delete(event.requestContext.connectionId);
      events.emit('call', { kind: 'end', sessionId, at: Date.now() });
    };
    let extra: ExtraHandler | undefined;
    // Which call an invocation served, for the usage meter: WebSocket frames carry only the connection id.
    const meter = options.usageMeter;
    const sessionOfConnection = new Map<string, string>();
    const wsKeys = (event: { requestContext: { connectionId?: string } }) => () => {
      const session = sessionOfConnection.get(event.requestContext.connectionId ?? '');
      return session ? [`session:${session}`] : [];
    };
    // Every invocation is tracked (settled() and shutdown wait for it), named for the terminal when it fails,
    // and measured when a usage meter is given.
    const metered = <T>(fn: string, route: string, keys: () => string[], work: () => Promise<T>): Promise<T> =>
      track(meter ? meter.invoke(fn, keys, work) : work(), route);
    const gateway = await startGateway({
      host: settings.HOST,
      port: settings.PORT,
      stage: 'ws',
      postLatencyMs: settings.POST_LATENCY_MS,
      websocket: {
        connect: async (event) => {
          const session = event.queryStringParameters?.session;
          if (session && event.requestContext.connectionId) sessionOfConnection.set(event.requestContext.connectionId, session);
          if (!routes) return notReady();
          const result = await metered('connect', '$connect', wsKeys(event), () => routes!.connect(event));
          if (!result || result.statusCode === 200) callStarted(event);
          return result;
        },
        message: (event) => (routes ? metered('default', '$default', wsKeys(event), () => routes!.message(event)) : notReady()),
        disconnect: (event) => {
          if (!routes) return notReady();
          callEnded(event);
          const keys = wsKeys(event);
          return metered('disconnect', '$disconnect', keys, () => routes!.disconnect(event)).finally(() => sessionOfConnection.delete(event.requestContext.connectionId ?? ''));
        },
      },
      httpRoutes: [
        {
          method: 'POST',
          path: '/call-setup',
          handler: (event) => (http ? (metered('call-setup', 'POST /call-setup', () => [`call:${callSidOf(event)}`], () => http!.callSetup(event as never)) as never) : notReady()),
        },
        {
          method: 'POST',
          path: '/connect-action',
          handler: (event) => (http ? (metered('connect-action', 'POST /connect-action', () => [`call:${callSidOf(event)}`], () => http!.connectAction(event as never)) as never) : notReady()),
        },
        {
          method: 'POST',
          path: '/whisper',
          handler: (event) => (http ? (metered('whisper', 'POST /whisper', () => [`call:${callSidOf(event)}`], () => http!.whisper(event as never)) as never) : notReady()),
        },
      ],
      extra: {
        request: (request, response, pathname) => extra?.request(request, response, pathname) ?? false,
        upgrade: (request, socket, head, url) => extra?.upgrade(request, socket, head, url) ?? false,
      },
    });
    cleanup.push(() => gateway.stop());
    const authToken = settings.TWILIO_AUTH_TOKEN;
    const sinkFor = connectionsSinkFactory({ CONNECTIONS_ENDPOINT: gateway.connectionsEndpoint, AWS_REGION: 'local' });
    // A keypad entry's timeout runs its turn in $default, as the timer's consumer hands it over in AWS.
    const continuity = localContinuity(baseStore, sinkFor, gateway.connectionsEndpoint, (check) =>
      metered('default', '$default', () => [`session:${check.sessionId}`], () => defaultHandler({ source: CALL_TIMER_EVENT, check })),
    );
    cleanup.push(async () => continuity.stop());
    const defaultHandler = createDefaultHandler({
      store,
      llm,
      tools: useCaseToolInvoker(invokers),
      sinkFor,
      callTimer: continuity.callTimer,
    });
    routes = {
      connect: createConnectHandler({
        store: baseStore,
        verifySignature: twilioHandshakeVerifier(async () => ({ authToken, publicUrl: gateway.webSocketUrl })),
        connectionGone: continuity.connectionGone,
      }),
      message: (event) => defaultHandler(event),
      disconnect: createDisconnectHandler({ store: baseStore, callTimer: continuity.callTimer }),
    };
    http = {
      callSetup: createCallSetupHandler({
        table,
        authToken: async () => authToken,
        websocketUrl: gateway.webSocketUrl,
        publicBaseUrl: gateway.httpUrl,
        defaultUseCaseId: settings.DEFAULT_USE_CASE_ID,
        // `npm run call -- --use-case <id>` reaches any use case; only here, never in AWS.
        useCaseParameter: true,
      }),
      connectAction: createConnectActionHandler({
        table,
        authToken: async () => authToken,
        publicBaseUrl: gateway.httpUrl,
        agentNumber: settings.AGENT_NUMBER,
        // The agent-SMS function's work, started and not awaited, as Lambda's asynchronous invocation would.
        agentSms: inProcessAgentSmsDispatcher(
          (request) => metered('agent-sms', 'agent SMS', () => [`call:${request.callSid}`], () => sendAgentSms({ table, messages, logger }, request)),
          () => undefined,
        ),
      }),
      whisper: createWhisperHandler({ table, authToken: async () => authToken, publicBaseUrl: gateway.httpUrl }),
    };
    log(`Gateway    HTTP ${gateway.httpUrl}, WebSocket ${gateway.webSocketUrl}, @connections ${gateway.connectionsEndpoint}`);
    const webhookUrl = `${gateway.httpUrl}/call-setup`;

    // 6. The web console: a browser caller that dials the same signed webhook and WebSocket as Twilio would
    let consoleUrl: string | undefined;
    if (options.console) {
      const webConsole = startConsole({ table, webhookUrl, authToken, events });
      extra = webConsole;
      cleanup.push(() => webConsole.stop());
      consoleUrl = `${gateway.httpUrl}/console/`;
    }

    // 7. Where `npm run latency` finds this runtime's table, and `npm run call` its webhook
    if (!options.ephemeral) {
      const runtimeFile = join(settings.dataDir, 'runtime.json');
      const about = { DYNAMODB_ENDPOINT: dynamo.endpoint, TABLE_NAME: LOCAL_TABLE_NAME, pid: process.pid, webhookUrl, ...(consoleUrl ? { consoleUrl } : {}) };
      await writeFile(runtimeFile, JSON.stringify(about, null, 2));
      cleanup.push(() => rm(runtimeFile, { force: true }));
      await lock?.update({ url: consoleUrl ?? gateway.httpUrl });
    }

    const runtime: LocalRuntime = {
      events,
      webhookUrl,
      actionUrl: `${gateway.httpUrl}/connect-action`,
      webSocketUrl: gateway.webSocketUrl,
      connectionsEndpoint: gateway.connectionsEndpoint,
      dynamoEndpoint: dynamo.endpoint,
      table,
      gateway,
      llm: llmBaseUrl ? { ...choice, baseUrl: llmBaseUrl } : choice,
      async settled() {
        while (inflight.size > 0) await Promise.allSettled([...inflight]);
      },
      stop: stopAll,
    };
    if (offlineModel) runtime.offlineModel = offlineModel;
    if (consoleUrl) runtime.consoleUrl = consoleUrl;
    return runtime;
  } catch (err) {
    await stopAll();
    throw err;
  }
}
