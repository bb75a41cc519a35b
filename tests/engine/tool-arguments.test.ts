import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkToolArguments } from '../../02_cr-application/src/engine/tool-arguments.ts';
import { parametersJsonSchema } from '../../layers/tools/define-tool.ts';

const entry = {
  name: 'check_availability',
  description: 'Open tour times',
  parameters: parametersJsonSchema(z.object({ layout: z.enum(['studio', 'one-bedroom']), date: z.string().optional() })),
};

describe('the engine checks tool arguments against the manifest before invoking', () => {
  it('says a left-out argument is missing, in the same words the tool itself would use', () => {
    const checked = checkToolArguments(entry, '{"date":"2026-12-01"}');
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.outcome).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
    if (checked.outcome.ok) return;
    expect(checked.outcome.error.message).toBe('The arguments do not match the check_availability schema: layout: missing');
  });

  it('passes valid arguments through, and treats empty arguments as {}', () => {
    expect(checkToolArguments(entry, '{"layout":"studio"}')).toEqual({ ok: true, args: { layout: 'studio' } });
    expect(checkToolArguments({ ...entry, parameters: parametersJsonSchema(z.object({})) }, '')).toEqual({ ok: true, args: {} });
  });
});
