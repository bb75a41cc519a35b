/**
 * `{{path}}` and `{{path|default}}` placeholders for the offline model's replies and tool arguments. Paths are
 * dotted (`result.slots.0.time`) and read own properties only. Substitution is one pass: a value that itself
 * contains `{{...}}` is spoken as is, never expanded again, so no template can loop.
 */

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_$.-]+)\s*(?:\|([^{}]*))?\}\}/g;
const WHOLE_PLACEHOLDER = /^\{\{\s*([A-Za-z0-9_$.-]+)\s*(?:\|([^{}]*))?\}\}$/;

export interface Placeholder {
  path: string;
  fallback?: string;
}

/** What a template can read: the caller's latest words, regex captures, the tool result being answered, earlier results. */
export interface Bindings {
  user?: string;
  match?: Record<string, string | undefined>;
  tool?: string;
  result?: unknown;
  args?: unknown;
  /** The latest result of every tool called so far in the conversation, by tool name. */
  results?: Record<string, unknown>;
}

export function placeholdersIn(template: string): Placeholder[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => ({ path: m[1]!, ...(m[2] !== undefined ? { fallback: m[2] } : {}) }));
}

/** The text with every well-formed placeholder removed; any `{{` left over is a mistake. */
export function withoutPlaceholders(template: string): string {
  return template.replace(PLACEHOLDER, '');
}

export function lookup(root: unknown, path: string): unknown {
  let value: unknown = root;
  for (const key of path.split('.')) {
    if (value === null || value === undefined || typeof value !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** A value as it would be read aloud; undefined when there is nothing to say. */
export function spoken(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) {
    return spokenList(value.map(String));
  }
  return JSON.stringify(value);
}

/** "a", "a and b", "a, b and c" (or "a, b or c"). */
export function spokenList(items: string[], conjunction: 'and' | 'or' = 'and'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}

export function renderText(template: string, bindings: Bindings): string {
  return template.replace(PLACEHOLDER, (_all, path: string, fallback: string | undefined) => {
    return spoken(lookup(bindings, path)) ?? fallback ?? '';
  });
}

/**
 * Renders tool arguments. A string that is exactly one placeholder takes the value's own type (a number stays a
 * number); one that resolves to nothing, with no default, drops its key, so the tool sees "not given" rather
 * than an empty string.
 */
export function renderArgs(args: Record<string, unknown>, bindings: Bindings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    const rendered = renderValue(value, bindings);
    if (rendered !== undefined) out[key] = rendered;
  }
  return out;
}

function renderValue(value: unknown, bindings: Bindings): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(value);
    if (whole) {
      const found = lookup(bindings, whole[1]!);
      return found === undefined || found === null ? whole[2] : found;
    }
    return renderText(value, bindings);
  }
  if (Array.isArray(value)) return value.map((v) => renderValue(v, bindings)).filter((v) => v !== undefined);
  if (value && typeof value === 'object') return renderArgs(value as Record<string, unknown>, bindings);
  return value;
}

/** Every template string inside an arguments object, with its path, for validation. */
export function templateStrings(value: unknown, path: (string | number)[] = []): { path: (string | number)[]; text: string }[] {
  if (typeof value === 'string') return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => templateStrings(v, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => templateStrings(v, [...path, k]));
  }
  return [];
}
