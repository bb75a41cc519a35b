import { createRequire } from 'node:module';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { startGateway, type Gateway } from '../../dev/gateway/index.ts';
import { startLlmServer, type LlmServer, type Responder, type Timing } from '../../dev/llm/index.ts';
import { createSession, getSession, type NewSession, type ToolManifestEntry } from '../../layers/data/index.ts';
import { createTable } from '../../layers/data/table.ts';
import { sessionFixture } from '../support/sessions.ts';
import type { ToolInvocation, ToolOutcome } from '../../layers/tools/contract.ts';
import { connectionsSinkFactory } from '../../02_cr-application/src/edges/connections-sink.ts';
import { connectionGoneProbe } from '../../02_cr-application/src/edges/connection-probe.ts';
import { createDynamoStore } from '../../02_cr-application/src/edges/dynamo-store.ts';
import { twilioHandshakeVerifier } from '../../02_cr-application/src/edges/handshake-verifier.ts';
import { createLambdaContinuation } from '../../02_cr-application/src/edges/lambda-continuation.ts';
import { createLambdaToolInvoker } from '../../02_cr-application/src/edges/lambda-tools.ts';
import { createOpenAiLlm } from '../../02_cr-application/src/edges/openai-llm.ts';
import type { EngineConfig } from '../../02_cr-application/src/engine/turn.ts';
import { createConnectHandler } from '../../02_cr-application/src/handlers/connect.ts';
import { createDefaultHandler } from '../../02_cr-application/src/handlers/default.ts';
import { createDisconnectHandler } from '../../02_cr-application/src/handlers/disconnect.ts';
import { connectClient, waitFor, type TestClient } from '../gateway/support.ts';
import { startFakeLambda, type FakeLambda } from '../messaging/fake-lambda.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import { startTableRecorder, type TableRecorder } from './table-recorder.ts';

/**
 * The engine as it runs in AWS, on this machine: the real handlers behind the local API Gateway (real WebSocket,
 * real @connections posts through the AWS SDK), the data layer on local DynamoDB, the `openai` SDK against the
 * local OpenAI-compatible server, and tools as Lambda functions behind a local Lambda Invoke endpoint.
 */
const require = createRequire(import.meta.url);
const { getExpectedTwilioSignature } = require('twilio/lib/webhooks/webhooks.js') as {
  getExpectedTwilioSignature(authToken: string, url: string, params: Record<string, string>): string;
};

export const AUTH_TOKEN = 'engine-test-auth-token';
export const DEFAULT_FUNCTION = 'cr-test-default';
export type ToolFunction = (invocation: ToolInvocation) => Promise<ToolOutcome>;

export interface EngineHarness {
  table: TestTable;
  gateway: Gateway;
  llm: LlmServer;
  lambda: FakeLambda;
  /** Tool Lambdas by function name; tests add theirs. */
  toolFunctions: Record<string, ToolFunction>;
  /** Every value a route handler returned (to prove none ever carried a body or failed). */
  routeResults: unknown[];
  /** With `recordTable`: every request the handlers made to the table, as it arrived there. */
  tableRecorder: TableRecorder | undefined;
  startCall(overrides?: Partial<NewSession>): Promise<Call>;
  /** Opens the call's signed URL again, as ConversationRelay does after a drop; rejects when the handshake is refused. */
  reconnect(call: Call): Promise<Call>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  responder?: Responder;
  timing?: Timing;
  postLatencyMs?: number;
  config?: Partial<EngineConfig>;
  /** Hand slow tool rounds to an async invocation of the $default function (through the Lambda endpoint). */
  continuation?: boolean;
  /** The handlers reach the table through a proxy that records when each request arrived. */
  recordTable?: boolean;
}

export interface Call {
  sessionId: string;
  connectionId: string;
  client: TestClient;
  send(frame: unknown): void;
  /** Parsed frames the caller received so far. */
  frames(): Record<string, unknown>[];
  textFrames(): { token: string; last: boolean }[];
  /** Waits until `count` replies have ended (`last: true`). */
  waitForReplies(count: number, timeoutMs?: number): Promise<void>;
  /** The text of each reply, split at `last: true`. */
  replies(): string[];
}

export async function startEngine(options: HarnessOptions = {}): Promise<EngineHarness> {
  const table = await createTestTable();
  const llm = await startLlmServer({ responder: options.responder ?? (() => ({ text: 'Hello.' })), timing: options.timing ?? {} });
  const toolFunctions: Record<string, ToolFunction> = {};
  const lambdaFunctions: Record<string, (event: unknown) => Promise<unknown>> = new Proxy(
    {},
    { get: (_target, name: string) => (name === DEFAULT_FUNCTION ? invokeDefaultAsync : toolFunctions[name]) },
  );
  const lambda = await startFakeLambda(lambdaFunctions);
  const lambdaClient = new LambdaClient({ endpoint: lambda.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const routeResults: unknown[] = [];
  const tableRecorder = options.recordTable ? await startTableRecorder(table.endpoint) : undefined;
  const recordedTable = tableRecorder && createTable({ name: table.name, endpoint: tableRecorder.endpoint, region: 'local' });
  const store = createDynamoStore(recordedTable ?? table);

  let gatewayRef: Gateway | undefined;
  let sinkFactory: ReturnType<typeof connectionsSinkFactory> | undefined;
  let probe: ReturnType<typeof connectionGoneProbe> | undefined;
  const onConnect = createConnectHandler({
    store,
    verifySignature: twilioHandshakeVerifier(async () => ({ authToken: AUTH_TOKEN, publicUrl: gatewayRef!.webSocketUrl })),
    connectionGone: (connectionId, endpoint) => (probe ??= connectionGoneProbe({ CONNECTIONS_ENDPOINT: gatewayRef!.connectionsEndpoint, AWS_REGION: 'us-east-1' }))(connectionId, endpoint),
  });
  const onDisconnect = createDisconnectHandler({ store });
  const onDefault = createDefaultHandler({
    store,
    llm: createOpenAiLlm({ baseURL: llm.baseUrl, apiKey: async () => 'offline', defaultModel: 'offline-demo' }),
    tools: createLambdaToolInvoker(lambdaClient),
    sinkFor: (endpoint) => (sinkFactory ??= connectionsSinkFactory({ CONNECTIONS_ENDPOINT: gatewayRef!.connectionsEndpoint, AWS_REGION: 'us-east-1' }))(endpoint),
    ...(options.continuation ? { continuation: createLambdaContinuation(lambdaClient, DEFAULT_FUNCTION) } : {}),
    config: options.config ?? {},
  });
  // Lambda's `Event` invocation: accepted at once, run in the background.
  async function invokeDefaultAsync(event: unknown): Promise<unknown> {
    void onDefault(event as Parameters<typeof onDefault>[0]).then((r) => routeResults.push(r));
    return null;
  }

  const gateway = await startGateway({
    postLatencyMs: options.postLatencyMs ?? 0,
    websocket: {
      connect: async (event) => {
        const result = await onConnect(event);
        routeResults.push(result);
        return result;
      },
      message: async (event) => {
        const result = await onDefault(event);
        routeResults.push(result);
        return result;
      },
      disconnect: async (event) => {
        const result = await onDisconnect(event);
        routeResults.push(result);
        return result;
      },
    },
  });
  gatewayRef = gateway;

  let calls = 0;
  return {
    table,
    gateway,
    llm,
    lambda,
    toolFunctions,
    routeResults,
    tableRecorder,
    async startCall(overrides = {}) {
      const sessionId = `s-${Date.now().toString(36)}-${++calls}`;
      await createSession(table, sessionFixture(sessionId, overrides));
      const client = await connectSigned(gateway, sessionId);
      const session = await getSession(table, sessionId);
      const connectionId = session?.connectionId;
      if (!connectionId) throw new Error('the session was not bound to the connection');
      return callFor(sessionId, connectionId, client);
    },
    async reconnect(call) {
      // ConversationRelay reconnects to the same URL, signed the same way.
      const client = await connectSigned(gateway, call.sessionId);
      const connectionId = (await getSession(table, call.sessionId))?.ledger.connection?.id;
      if (!connectionId || connectionId === call.connectionId) throw new Error('the reconnect did not rebind the session');
      return callFor(call.sessionId, connectionId, client);
    },
    async stop() {
      await gateway.stop();
      await llm.stop();
      lambdaClient.destroy();
      await lambda.close();
      recordedTable?.doc.destroy();
      await tableRecorder?.close();
      await table.drop();
    },
  };
}

export function signedUrl(gateway: Gateway, sessionId: string): string {
  return `${gateway.webSocketUrl}?session=${encodeURIComponent(sessionId)}`;
}

/** Opens the WebSocket the way ConversationRelay does: the TwiML's URL, signed with the account's auth token. */
export function connectSigned(gateway: Gateway, sessionId: string, token = AUTH_TOKEN): Promise<TestClient> {
  const url = signedUrl(gateway, sessionId);
  return connectClient(url, { 'X-Twilio-Signature': getExpectedTwilioSignature(token, url, {}) });
}

function callFor(sessionId: string, connectionId: string, client: TestClient): Call {
  const parse = () =>
    client.frames.map((f) => {
      try {
        return JSON.parse(f) as Record<string, unknown>;
      } catch {
        return { unparsable: f };
      }
    });
  const textFrames = () =>
    parse()
      .filter((f) => f.type === 'text')
      .map((f) => ({ token: String(f.token), last: f.last === true }));
  return {
    sessionId,
    connectionId,
    client,
    send: (frame) => client.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    frames: parse,
    textFrames,
    async waitForReplies(count, timeoutMs = 15_000) {
      await waitFor(() => textFrames().filter((f) => f.last).length >= count, timeoutMs, `${count} finished replies`);
    },
    replies() {
      const out: string[] = [];
      let current = '';
      for (const f of textFrames()) {
        current += f.token;
        if (f.last) {
          out.push(current);
          current = '';
        }
      }
      if (current) out.push(current);
      return out;
    },
  };
}

export function tool(name: string, overrides: Partial<ToolManifestEntry> = {}): ToolManifestEntry {
  return {
    name,
    description: `The ${name} tool`,
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
    functionName: `cr-test-tools-${name}`,
    timeoutMs: 2_000,
    ...overrides,
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export { waitFor };

export { sessionFixture };
