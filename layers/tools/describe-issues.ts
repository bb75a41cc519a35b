import type { z } from 'zod';

/**
 * One wording for invalid tool arguments, shared by the engine's manifest check and the tool SDK, so the LLM
 * reads the same sentence whichever caught the mistake: what was wrong and what was expected, e.g.
 * `items.0.quantity: expected number, got string "2"; layout: missing; unknown argument "colour"`.
 * zod 4 does not keep the offending value on its issues, so it is read back from the arguments themselves.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input?: unknown): string {
  return issues.map((issue) => describeIssue(issue, input)).join('; ');
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const where = issue.path.length ? issue.path.join('.') : 'arguments';
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
    const what = `unknown argument${issue.keys.length > 1 ? 's' : ''} ${keys}`;
    return issue.path.length ? `${where}: ${what}` : what;
  }
  const value = valueAt(input, issue.path);
  // Checked before the schema's own message: a custom message ("layout must be one of ...") would hide that the
  // argument was simply left out.
  if (issue.path.length && value === undefined) return `${where}: missing`;
  const got = `got ${describeValue(value)}`;
  switch (issue.code) {
    case 'invalid_type':
      return `${where}: expected ${typeName(issue.expected)}, ${got}`;
    case 'invalid_value':
      return `${where}: expected ${issue.values.length > 1 ? 'one of ' : ''}${issue.values.map((v) => JSON.stringify(v)).join(', ')}, ${got}`;
    default:
      return `${where}: ${issue.message}, ${got}`;
  }
}

const TYPE_NAMES: Record<string, string> = { int: 'integer', nan: 'a number' };

function typeName(expected: string): string {
  return TYPE_NAMES[expected] ?? expected;
}

/** `string "2"`, `number 2`, `null`, `an array of 3`, `an object`: enough for the LLM to see its mistake. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
