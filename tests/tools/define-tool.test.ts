import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import type { Table } from '../../layers/data/table.ts';
import { defineTool, ToolError } from '../../layers/tools/define-tool.ts';
import { CALLER, invocation, recordingLogger, recordingSender } from './support.ts';

// These tests never touch the table; a handle that fails loudly proves it.
const noTable = new Proxy({}, { get: () => { throw new Error('table not expected here'); } }) as Table;

const greet = defineTool({
  name: 'greet',
  description: 'Greets someone.',
  parameters: z.object({
    name: z.string().min(1).describe('Who to greet'),
    times: z.number().int().min(1).max(3).default(1),
    tone: z.enum(['warm', 'formal']).optional(),
  }),
  timeoutMs: 2_000,
  async handler(args, context) {
    if (args.name === 'nobody') throw new ToolError('not_found', 'There is nobody to greet.');
    if (args.name === 'boom') throw new Error('database exploded');
    return {
      result: { text: `Hello ${args.name}`.repeat(args.times), tone: args.tone ?? 'warm', caller: context.caller.from, at: context.now().toISOString() },
      ...(args.name === 'bye' ? { actions: [{ type: 'end' as const, handoffData: { reason: 'done' } }] } : {}),
    };
  },
});

const run = (args: unknown, logger = recordingLogger()) =>
  greet.run(invocation('greet', args), { table: noTable, logger, messages: recordingSender(), now: () => new Date('2026-01-02T03:04:05Z') });

describe('defineTool', () => {
  it('derives an OpenAI-compatible manifest entry from the zod schema', () => {
    expect(greet.manifest('cr-dev-tools-test')).toEqual({
      name: 'greet',
      description: 'Greets someone.',
      functionName: 'cr-dev-tools-test',
      timeoutMs: 2_000,
      parameters: {
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1, description: 'Who to greet' },
          times: { type: 'integer', minimum: 1, maximum: 3, default: 1 },
          tone: { type: 'string', enum: ['warm', 'formal'] },
        },
        required: ['name'],
        additionalProperties: false,
      },
    });
    expect(greet.manifest()).not.toHaveProperty('functionName');
  });

  it('validates and defaults the arguments, and gives the handler the session identity and clock', async () => {
    expect(await run({ name: 'Ann' })).toEqual({
      ok: true,
      result: { text: 'Hello Ann', tone: 'warm', caller: CALLER.from, at: '2026-01-02T03:04:05.000Z' },
    });
    expect(await run('{"name":"Bo","times":2,"tone":"formal"}')).toMatchObject({ ok: true, result: { text: 'Hello BoHello Bo', tone: 'formal' } });
  });

  it('passes actions through', async () => {
    expect(await run({ name: 'bye' })).toMatchObject({ ok: true, actions: [{ type: 'end', handoffData: { reason: 'done' } }] });
  });

  it.each([
    [{}, /greet was called with invalid arguments: name: missing/],
    [{ name: 'Ann', times: 7 }, /times: Too big: expected number to be <=3/],
    [{ name: 'Ann', tone: 'angry' }, /tone: expected one of "warm", "formal", got string "angry"/],
    [{ name: 'Ann', times: '2' }, /times: expected number, got string "2"/],
    [{ name: 'Ann', colour: 'red' }, /unknown argument "colour"/],
    ['{not json', /the arguments are not valid JSON/],
    [undefined, /name: missing/],
  ])('turns bad arguments %j into invalid_arguments the LLM can relay', async (args, message) => {
    const outcome = await run(args);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('invalid_arguments');
    expect(outcome.error.message).toMatch(message);
    expect(outcome.error.message).toMatch(/Ask the caller/);
  });

  it('reports a ToolError with its code and message', async () => {
    expect(await run({ name: 'nobody' })).toEqual({ ok: false, error: { code: 'not_found', message: 'There is nobody to greet.' } });
  });

  it('turns an unexpected throw into `failed` without leaking the internal message, and logs it with context', async () => {
    const logger = recordingLogger();
    const outcome = await run({ name: 'boom' }, logger);
    expect(outcome).toEqual({ ok: false, error: { code: 'failed', message: 'The greet tool ran into a problem and could not finish.' } });
    const logged = logger.lines.find((l) => l.level === 'error');
    expect(logged?.message).toBe('tool failed');
    expect(logged?.extra[0]).toMatchObject({ tool: 'greet', sessionId: CALLER.sessionId, error: expect.objectContaining({ message: 'database exploded' }) });
  });
});
