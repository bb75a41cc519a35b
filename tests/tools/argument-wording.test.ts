import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkToolArguments } from '../../02_cr-application/src/engine/tool-arguments.ts';
import type { Table } from '../../layers/data/table.ts';
import { defineTool } from '../../layers/tools/define-tool.ts';
import { describeIssues } from '../../layers/tools/describe-issues.ts';
import { toLambdaHandler } from '../../layers/tools/lambda-handler.ts';
import { startEngine, waitFor, type EngineHarness } from '../engine/support.ts';
import { invocation, recordingLogger, recordingSender } from './support.ts';

const noTable = new Proxy({}, { get: () => { throw new Error('table not expected here'); } }) as Table;

const placeOrder = defineTool({
  name: 'place_order',
  description: 'Places an order.',
  parameters: z.object({
    items: z.array(z.object({ name: z.string().min(1), quantity: z.number().int().min(1) })).min(1),
    pickup: z.enum(['now', 'later']),
    note: z.string().optional(),
  }),
  async handler(args) {
    return { result: args };
  },
});

/** What the engine tells the LLM, and what the tool itself would tell it, for the same arguments. */
async function bothSay(args: Record<string, unknown>): Promise<{ engine: string; tool: string }> {
  const checked = checkToolArguments(placeOrder.manifest(), JSON.stringify(args));
  const outcome = await placeOrder.run(invocation('place_order', args), { table: noTable, logger: recordingLogger(), messages: recordingSender() });
  if (checked.ok || checked.outcome.ok || outcome.ok) throw new Error(`expected both to refuse ${JSON.stringify(args)}`);
  const problem = (message: string) => /: ((?:[^:]+: )?.*?)(?:\. Ask the caller.*)?$/.exec(message.replace(/^.*?(schema|arguments): /, ': '))![1]!;
  return { engine: problem(checked.outcome.error.message), tool: problem(outcome.error.message) };
}

describe('invalid tool arguments read the same in the engine and in the tool', () => {
  it.each([
    [{ items: [{ name: 'margherita', quantity: '2' }], pickup: 'now' }, 'items.0.quantity: expected number, got string "2"'],
    [{ items: [{ name: 'margherita', quantity: 1.5 }], pickup: 'now' }, 'items.0.quantity: expected integer, got number 1.5'],
    [{ items: [{ name: 'margherita' }], pickup: 'now' }, 'items.0.quantity: missing'],
    [{ items: [{ name: 'margherita', quantity: 2 }], pickup: 'tomorrow' }, 'pickup: expected one of "now", "later", got string "tomorrow"'],
    [{ items: 'margherita', pickup: 'now' }, 'items: expected array, got string "margherita"'],
    [{ items: [{ name: 'margherita', quantity: 2 }], pickup: 'now', size: 'large' }, 'unknown argument "size"'],
    [{ items: [{ name: 'margherita', quantity: 2 }], pickup: 'now', size: 'large', crust: 'thin' }, 'unknown arguments "size", "crust"'],
  ])('%j', async (args, expected) => {
    const { engine, tool } = await bothSay(args);
    expect(engine).toBe(expected);
    expect(tool).toBe(expected);
  });

  it('says what the value was for rule violations, after the schema\'s own message', () => {
    const parsed = z.object({ date: z.string().regex(/^\d{4}-\d\d-\d\d$/, 'expected YYYY-MM-DD') }).safeParse({ date: 'tomorrow' });
    expect(parsed.success).toBe(false);
    expect(describeIssues(parsed.error!.issues, { date: 'tomorrow' })).toBe('date: expected YYYY-MM-DD, got string "tomorrow"');
  });

  it('names the arguments as a whole when they are not an object', () => {
    const parsed = z.object({}).safeParse(7);
    expect(describeIssues(parsed.error!.issues, 7)).toBe('arguments: expected object, got number 7');
  });
});

describe('what the LLM reads after a wrong-type argument', () => {
  let engine: EngineHarness | undefined;
  afterEach(async () => {
    await engine?.stop();
    engine = undefined;
  });

  it('is the tool result "items.0.quantity: expected number, got string "2"", so it can correct itself', async () => {
    engine = await startEngine({
      timing: { firstTokenMs: 0, tokenGapMs: 0 },
      responder: (request) => {
        const last = request.messages.at(-1)!;
        if (last.role === 'tool') return { text: 'Sorry, let me fix that.' };
        return { toolCalls: [{ name: 'place_order', arguments: { items: [{ name: 'margherita', quantity: '2' }], pickup: 'now' } }] };
      },
    });
    engine.toolFunctions['cr-test-tools-pizza'] = toLambdaHandler([placeOrder], { deps: () => ({ table: noTable, logger: recordingLogger(), messages: recordingSender() }) });
    const call = await engine.startCall({ useCaseId: 'pizza', tools: [placeOrder.manifest('cr-test-tools-pizza')] });
    call.send({ type: 'prompt', voicePrompt: 'Two margheritas please', lang: 'en-US', last: true });
    await waitFor(() => call.replies().join(' ').includes('let me fix that'), 10_000, 'the reply after the tool round');

    const toolMessage = engine.llm.requests.at(-1)!.body.messages.find((m) => m.role === 'tool');
    expect(JSON.parse(String(toolMessage?.content))).toMatchObject({
      error: { code: 'invalid_arguments', message: expect.stringContaining('items.0.quantity: expected number, got string "2"') },
    });
  });
});
