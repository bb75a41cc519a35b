import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTable } from '../../layers/data/table.ts';
import type { TurnRecord } from '../../layers/data/turns.ts';
import { connectionsSinkFactory } from '../../02_cr-application/src/edges/connections-sink.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';

/**
 * Error counts beyond failed LLM turns (table, posts, unexpected handler errors) and tool time per tool, as the
 * EMF lines CloudWatch reads. Metrics are off in the suite; this file turns them on before loading the modules.
 */
async function metricsModules() {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'ConversationRelayTest');
  vi.resetModules();
  const metrics = await import('../../02_cr-application/src/handlers/turn-metrics.ts');
  const edges = await import('../../02_cr-application/src/handlers/counted-edges.ts');
  // Loaded after the reset too, so its errors are the classes the counting wrapper knows.
  const { createDynamoStore } = await import('../../02_cr-application/src/edges/dynamo-store.ts');
  return { ...metrics, ...edges, createDynamoStore };
}

function captureStdout(): { lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  return { lines: () => out.flatMap((c) => c.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('error and tool metrics', () => {
  let table: TestTable;
  let endpoint: Server;
  let endpointUrl = '';
  beforeAll(async () => {
    table = await createTestTable();
    // A @connections endpoint that refuses one connection as bad and says another is gone.
    endpoint = createServer((req, res) => {
      req.resume();
      const gone = req.url?.includes('gone-conn');
      res.writeHead(gone ? 410 : 400, { 'content-type': 'application/json', 'x-amzn-errortype': gone ? 'GoneException' : 'BadRequestException' });
      res.end(JSON.stringify({ message: gone ? 'Gone' : 'Bad request' }));
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await table.drop();
    await new Promise((resolve) => endpoint.close(resolve));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('counts failed table calls, not lost conditional races', async () => {
    const { countTableErrors, flushMetrics, createDynamoStore } = await metricsModules();
    const missing = createTable({ name: 'no-such-table', endpoint: table.endpoint, region: 'local' });
    const broken = countTableErrors(createDynamoStore(missing));
    const healthy = countTableErrors(createDynamoStore(table));
    await expect(broken.loadConversation('s-1', 60)).rejects.toThrow();
    await expect(broken.sessionIdForConnection('c-1')).rejects.toThrow();
    // An unknown session refuses the bind with ConditionFailedError: a refused handshake, not a table failure.
    await expect(healthy.bindConnection('no-such-session', 'c-2')).rejects.toThrow();
    const out = captureStdout();
    flushMetrics();
    const [emf] = out.lines();
    expect(emf).toMatchObject({ TableErrors: [1, 1] });
    missing.doc.destroy();
  });

  it('counts failed posts, not a caller who hung up', async () => {
    const { countPostErrors, flushMetrics } = await metricsModules();
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'x');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'x');
    const sink = countPostErrors(connectionsSinkFactory({ CONNECTIONS_ENDPOINT: endpointUrl, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' })({}));
    const bad = await sink.post('bad-conn', { type: 'text', token: 'Hi', last: true });
    expect(bad.status).toBe('failed');
    expect((bad as { error: { name: string } }).error.name).toBe('BadRequestException');
    const gone = await sink.post('gone-conn', { type: 'text', token: 'Hi', last: true });
    expect(gone.status, JSON.stringify(gone)).toBe('gone');
    const out = captureStdout();
    flushMetrics();
    const [emf] = out.lines();
    expect(emf).toMatchObject({ PostErrors: 1 });
  });

  it('publishes tool time per tool with a `tool` dimension, beside the total', async () => {
    const { recordTurnMetrics, flushMetrics } = await metricsModules();
    const out = captureStdout();
    const record: TurnRecord = {
      sessionId: 's',
      turn: 1,
      useCaseId: 'default',
      callSid: 'CA1',
      kind: 'prompt',
      promptReceivedAt: 1_000,
      outcome: 'completed',
      tools: [
        { name: 'check_availability', startedAt: 1_300, durationMs: 80, ok: true },
        { name: 'book_viewing', startedAt: 1_400, durationMs: 30, ok: true },
      ],
    };
    recordTurnMetrics(record);
    flushMetrics();
    const lines = out.lines();
    const dimensionsOf = (l: Record<string, unknown>) => (l._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]!.Dimensions[0]!;
    const perTool = lines.filter((l) => typeof l.tool === 'string');
    expect(perTool.map((l) => [l.tool, l.ToolDuration])).toEqual([
      ['check_availability', 80],
      ['book_viewing', 30],
    ]);
    for (const l of perTool) expect(dimensionsOf(l)).toContain('tool');
    const total = lines.find((l) => l.tool === undefined);
    expect(total).toMatchObject({ ToolDuration: [80, 30] });
    expect(dimensionsOf(total!)).not.toContain('tool');
  });
});
