import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayCall } from '../../dev/caller/relay-call.ts';
import { checkLlm } from '../../dev/local/llm-check.ts';
import type { LocalRuntime } from '../../dev/local/runtime.ts';
import { turnLine } from '../../dev/local/turn-line.ts';
import type { TurnRecord } from '../../layers/data/turns.ts';
import { startTestRuntime, TEST_TOKEN } from './support.ts';

/** An LLM server that is not running: said at startup with its address, and the turn line carries the cause. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

describe('an LLM that does not answer', () => {
  let port: number;
  let runtime: LocalRuntime;
  const records: TurnRecord[] = [];
  beforeAll(async () => {
    port = await closedPort();
    runtime = await startTestRuntime({ OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`, OPENAI_MODEL: 'llama3.2' }, { onTurn: (r) => records.push(r) });
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it('is reported at startup with the address and the socket error', async () => {
    const warning = await checkLlm({ kind: 'compatible', baseUrl: `http://127.0.0.1:${port}/v1`, model: 'llama3.2' });
    expect(warning).toContain(`the LLM at http://127.0.0.1:${port}/v1 does not answer (connect ECONNREFUSED 127.0.0.1:${port})`);
    expect(await checkLlm({ kind: 'offline', model: 'offline-demo' })).toBeUndefined();
  });

  it('says a server that refuses the key, and nothing about one that answers', async () => {
    const answering = (status: number) => (async () => new Response('{}', { status })) as typeof fetch;
    expect(await checkLlm({ kind: 'openai', apiKey: 'sk-wrong', model: 'gpt-4o-mini' }, { fetch: answering(401) })).toContain('refused the API key (HTTP 401)');
    expect(await checkLlm({ kind: 'openai', apiKey: 'sk-right', model: 'gpt-4o-mini' }, { fetch: answering(200) })).toBeUndefined();
  });

  it('puts the cause in the turn line, not only "failed"', async () => {
    const call = await RelayCall.dial({ webhookUrl: runtime.webhookUrl, authToken: TEST_TOKEN, from: '+14065550707', to: '+14065550199' });
    call.say('Hello?');
    const apology = await call.nextReply();
    expect(apology.text.length).toBeGreaterThan(0);
    await call.hangup();
    await expect.poll(() => records.length, { timeout: 30_000 }).toBeGreaterThan(0);
    const record = records[0]!;
    expect(record.outcome).toBe('failed');
    expect(record.error).toContain(`connect ECONNREFUSED 127.0.0.1:${port}`);
    const line = turnLine(record);
    expect(line).toMatch(/^turn 1 \[default\] prompt failed: .*connect ECONNREFUSED 127\.0\.0\.1:\d+.*; first word \d+ ms \(an apology\)/);
  });
});
