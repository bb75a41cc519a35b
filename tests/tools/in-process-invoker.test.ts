import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import type { Table } from '../../layers/data/table.ts';
import { defineTool } from '../../layers/tools/define-tool.ts';
import { createInProcessToolInvoker } from '../../layers/tools/in-process-invoker.ts';
import { invocation, recordingLogger, recordingSender } from './support.ts';

const noTable = {} as Table;
const aborted: string[] = [];

const slow = defineTool({
  name: 'slow',
  description: 'Waits for the given time unless aborted.',
  parameters: z.object({ ms: z.number().int().min(0) }),
  timeoutMs: 100,
  handler: ({ ms }, { signal }) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ result: { waited: ms } }), ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        aborted.push(String(signal.reason));
      });
    }),
});

const invoker = createInProcessToolInvoker([slow], { table: noTable, logger: recordingLogger(), messages: recordingSender() });

describe('createInProcessToolInvoker', () => {
  it('runs a tool and returns its outcome', async () => {
    expect(await invoker.invoke(invocation('slow', { ms: 1 }), { timeoutMs: 5_000 })).toEqual({ ok: true, result: { waited: 1 } });
  });

  it('reports an unknown tool as unknown_tool', async () => {
    const outcome = await invoker.invoke(invocation('fly', {}), { timeoutMs: 1_000 });
    expect(outcome).toMatchObject({ ok: false, error: { code: 'unknown_tool', message: expect.stringContaining('"fly"') } });
  });

  it('gives up after timeoutMs, says so, and aborts the tool', async () => {
    aborted.length = 0;
    const outcome = await invoker.invoke(invocation('slow', { ms: 10_000 }), { timeoutMs: 50 });
    expect(outcome).toEqual({ ok: false, error: { code: 'timeout', message: 'The slow tool did not answer in time.' } });
    expect(aborted).toHaveLength(1);
  });

  it("falls back to the tool's own timeoutMs", async () => {
    const outcome = await invoker.invoke(invocation('slow', { ms: 10_000 }), { timeoutMs: 0 });
    expect(outcome).toMatchObject({ ok: false, error: { code: 'timeout' } });
  });

  it("stops when the engine's signal aborts (e.g. the caller hung up)", async () => {
    aborted.length = 0;
    const controller = new AbortController();
    const pending = invoker.invoke(invocation('slow', { ms: 10_000 }), { timeoutMs: 5_000, signal: controller.signal });
    controller.abort(new Error('hung up'));
    expect(await pending).toMatchObject({ ok: false, error: { code: 'failed', message: 'The slow call was cancelled.' } });
    expect(aborted).toEqual(['Error: hung up']);
    const already = await invoker.invoke(invocation('slow', { ms: 10_000 }), { timeoutMs: 5_000, signal: controller.signal });
    expect(already).toMatchObject({ ok: false, error: { code: 'failed' } });
  });

  it('refuses two tools with one name', () => {
    expect(() => createInProcessToolInvoker([slow, slow], { table: noTable, logger: recordingLogger(), messages: recordingSender() })).toThrow(/duplicate tool name "slow"/);
  });
});
