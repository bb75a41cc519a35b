import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CONTINUE_TURN } from '../../02_cr-application/src/edges/lambda-continuation.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';

/**
 * A slow turn's async continuation runs with no caller-facing request to answer: if it cannot run, the only trace
 * is what Lambda does with the event. It must fail the invocation (Lambda then sends the event to the on-failure
 * destination the template sets) and count ContinuationFailures, never return as if it had run.
 */
async function modules() {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'ConversationRelayTest');
  vi.resetModules();
  const { createDefaultHandler, MalformedContinuationError } = await import('../../02_cr-application/src/handlers/default.ts');
  const { createDynamoStore } = await import('../../02_cr-application/src/edges/dynamo-store.ts');
  return { createDefaultHandler, MalformedContinuationError, createDynamoStore };
}

function captureStdout(): () => Record<string, unknown>[] {
  const out: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  return () => out.flatMap((c) => c.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, appendKeys: () => undefined, removeKeys: () => undefined };

const state = {
  kind: 'prompt',
  connectionId: 'conn-c1',
  sessionId: 'sess-c1',
  endpoint: { domainName: 'ws.example.test', stage: 'prod' },
  turn: 1,
  round: 1,
  hops: 1,
  pendingToolCalls: [{ id: 'call-1', name: 'slowTool', arguments: '{}' }],
  roundText: '',
  spokenText: '',
  timings: {},
};

describe('failed turn continuations', () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await createTestTable();
  });
  afterAll(async () => {
    await table.drop();
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  async function handler(sinkFor: () => never | { post: () => Promise<{ status: 'sent' }> }) {
    const m = await modules();
    return {
      m,
      onDefault: m.createDefaultHandler({
        store: m.createDynamoStore(table),
        llm: { stream: () => (async function* () {})() },
        tools: { invoke: async () => ({ ok: false, error: { code: 'failed', message: 'none' } }) },
        sinkFor,
        log: silent,
      }),
    };
  }

  it('a malformed continuation fails the invocation and is counted, instead of vanishing', async () => {
    const { m, onDefault } = await handler(() => ({ post: async () => ({ status: 'sent' }) }));
    const lines = captureStdout();
    await expect(onDefault({ source: CONTINUE_TURN, state: { ...state, pendingToolCalls: [] } } as never)).rejects.toBeInstanceOf(m.MalformedContinuationError);
    expect(lines().some((l) => l.ContinuationFailures === 1)).toBe(true);
  });

  it('an unexpected failure while continuing fails the invocation; the same failure on a WebSocket frame still answers 200', async () => {
    const { onDefault } = await handler(() => {
      throw new Error('endpoint misconfigured');
    });
    const lines = captureStdout();
    await expect(onDefault({ source: CONTINUE_TURN, state } as never)).rejects.toThrow(/endpoint misconfigured/);
    expect(lines().filter((l) => l.ContinuationFailures === 1)).toHaveLength(1);
    const frame = { requestContext: { connectionId: 'conn-c1', domainName: 'ws.example.test', stage: 'prod' }, body: JSON.stringify({ type: 'prompt', voicePrompt: 'hi' }) };
    await expect(onDefault(frame)).resolves.toEqual({ statusCode: 200 });
    expect(lines().some((l) => l.HandlerErrors === 1)).toBe(true);
  });
});
