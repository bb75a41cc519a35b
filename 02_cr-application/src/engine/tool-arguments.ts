// The one function by name, not the `z` namespace: the namespace would bundle all of classic zod into $default.
import { fromJSONSchema, type ZodType } from 'zod';
import type { ToolManifestEntry, ToolOutcome } from '../../../layers/tools/contract.ts';
import { describeIssues } from '../../../layers/tools/describe-issues.ts';

/**
 * Checks the LLM's arguments against the tool's JSON schema before anything is invoked, so a malformed call
 * costs no Lambda invocation and the LLM gets a precise message to correct itself with. zod 4 compiles the
 * schema (`z.fromJSONSchema`); compiled validators are cached by schema text, bounded.
 */
const compiled = new Map<string, ZodType | null>();
const MAX_CACHED = 200;

function validatorFor(schema: Record<string, unknown>): ZodType | null {
  const key = JSON.stringify(schema);
  let validator = compiled.get(key);
  if (validator === undefined) {
    try {
      validator = fromJSONSchema(schema as Parameters<typeof fromJSONSchema>[0]);
    } catch {
      // A schema construct zod cannot compile: the tool validates its own input anyway (contract.ts).
      validator = null;
    }
    if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, validator);
  }
  return validator;
}

export type CheckedArguments = { ok: true; args: unknown } | { ok: false; outcome: ToolOutcome };

export function checkToolArguments(entry: ToolManifestEntry, raw: string): CheckedArguments {
  let args: unknown;
  try {
    args = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch (err) {
    return {
      ok: false,
      outcome: {
        ok: false,
        error: { code: 'invalid_arguments', message: `The arguments were not valid JSON (${(err as Error).message}). Send a JSON object.` },
      },
    };
  }
  const validator = validatorFor(entry.parameters);
  if (!validator) return { ok: true, args };
  const parsed = validator.safeParse(args);
  if (parsed.success) return { ok: true, args: parsed.data };
  return {
    ok: false,
    outcome: {
      ok: false,
      error: {
        code: 'invalid_arguments',
        message: `The arguments do not match the ${entry.name} schema: ${describeIssues(parsed.error.issues, args)}`,
      },
    },
  };
}
