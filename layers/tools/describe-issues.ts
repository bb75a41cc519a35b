import type { z } from 'zod';

/** "date: expected YYYY-MM-DD; layout: missing" - short enough for the LLM to relay. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input?: unknown): string {
  return issues
    .map((issue) => {
      const where = issue.path.length ? issue.path.join('.') : 'arguments';
      // A schema's custom message ("layout must be one of ...") would hide that the argument was simply left out.
      if (issue.path.length && valueAt(input, issue.path) === undefined) return `${where}: missing`;
      if (issue.code === 'invalid_type' && issue.input === undefined) return `${where}: missing`;
      if (issue.code === 'unrecognized_keys') return `unknown argument(s) ${issue.keys.join(', ')}`;
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
