/**
 * `{{path}}`, `{{path|default}}` and typed `{{path:number}}` placeholders for the offline model's replies, tool
 * arguments and slots. Paths are dotted (`result.slots.0.time`), read own properties only, and `*` maps over a
 * list (`result.demos.*.name`). Substitution is one pass: a value that itself contains `{{...}}` is spoken as is,
 * never expanded again, so no template can loop.
 */

const PLACEHOLDER_BODY = String.raw`\{\{\s*([A-Za-z0-9_$.*-]+)(?::([a-z]+))?\s*(?:\|([^{}]*))?\}\}`;
const PLACEHOLDER = new RegExp(PLACEHOLDER_BODY, 'g');
const WHOLE_PLACEHOLDER = new RegExp(`^${PLACEHOLDER_BODY}$`);

/** What a typed placeholder turns the captured text into: `{{match.qty:number}}` makes "2" or "two" the number 2. */
export const CONVERSIONS = ['number', 'integer', 'boolean', 'list', 'string', 'lowercase'] as const;
export type Conversion = (typeof CONVERSIONS)[number];

export interface Placeholder {
  path: string;
  /** A `:type` suffix; checked against CONVERSIONS when a script loads. */
  type?: string;
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
  /** What the script has remembered so far in this conversation (rules' `set`). */
  slots?: Record<string, unknown>;
}

export function placeholdersIn(template: string): Placeholder[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => ({
    path: m[1]!,
    ...(m[2] !== undefined ? { type: m[2] } : {}),
    ...(m[3] !== undefined ? { fallback: m[3] } : {}),
  }));
}

/** The placeholder when the whole text is exactly one (such an argument keeps the value's type), else undefined. */
export function wholePlaceholder(text: string): Placeholder | undefined {
  const m = WHOLE_PLACEHOLDER.exec(text);
  if (!m) return undefined;
  return { path: m[1]!, ...(m[2] !== undefined ? { type: m[2] } : {}), ...(m[3] !== undefined ? { fallback: m[3] } : {}) };
}

/** The text with every well-formed placeholder removed; any `{{` left over is a mistake. */
export function withoutPlaceholders(template: string): string {
  return template.replace(PLACEHOLDER, '');
}

export function lookup(root: unknown, path: string): unknown {
  return lookupKeys(root, path.split('.'));
}

function lookupKeys(value: unknown, keys: string[]): unknown {
  if (keys.length === 0) return value;
  const [key, ...rest] = keys as [string, ...string[]];
  if (key === '*') {
    if (!Array.isArray(value)) return undefined;
    const all = value.map((item) => lookupKeys(item, rest)).filter((v) => v !== undefined && v !== null);
    return all.length ? all : undefined;
  }
  if (value === null || value === undefined || typeof value !== 'object') return undefined;
  if (!Object.prototype.hasOwnProperty.call(value, key)) return undefined;
  return lookupKeys((value as Record<string, unknown>)[key], rest);
}

const SMALL_NUMBERS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen', 'twenty'];

/**
 * Converts what a caller said (a regex capture is always text) into the type a tool expects. Undefined when it
 * cannot: the argument is then left out (or takes its default), and the tool says what is missing.
 */
export function convert(value: unknown, type: Conversion | undefined): unknown {
  if (value === undefined || value === null || type === undefined) return value;
  switch (type) {
    case 'string':
      return spoken(value);
    case 'lowercase':
      return spoken(value)?.toLowerCase();
    case 'number':
    case 'integer': {
      const n = typeof value === 'number' ? value : toNumber(String(value));
      if (n === undefined || (type === 'integer' && !Number.isInteger(n))) return undefined;
      return n;
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      const text = String(value).trim().toLowerCase();
      if (/^(yes|yeah|yep|sure|true|correct|right|ok(ay)?)$/.test(text)) return true;
      if (/^(no|nope|false|wrong)$/.test(text)) return false;
      return undefined;
    }
    case 'list': {
      if (Array.isArray(value)) return value;
      const items = String(value).split(/\s*(?:,|\band\b|&)\s*/i).map((v) => v.trim()).filter(Boolean);
      return items.length ? items : undefined;
    }
  }
}

function toNumber(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (/^-?\d+(?:\.\d+)?$/.test(t)) return Number(t);
  if (t === 'a' || t === 'an' || t === 'a single') return 1;
  const word = SMALL_NUMBERS.indexOf(t);
  return word >= 0 ? word : undefined;
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
  return template.replace(PLACEHOLDER, (_all, path: string, type: string | undefined, fallback: string | undefined) => {
    return spoken(convert(lookup(bindings, path), type as Conversion | undefined)) ?? fallback ?? '';
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
      const found = convert(lookup(bindings, whole[1]!), whole[2] as Conversion | undefined);
      return found === undefined || found === null ? defaultValue(whole[3], whole[2] as Conversion | undefined) : found;
    }
    return renderText(value, bindings);
  }
  if (Array.isArray(value)) return value.map((v) => renderValue(v, bindings)).filter((v) => v !== undefined);
  if (value && typeof value === 'object') return renderArgs(value as Record<string, unknown>, bindings);
  return value;
}

/** A default is written as text (`{{match.qty:number|1}}`); a typed placeholder's default takes the same type. */
function defaultValue(fallback: string | undefined, type: Conversion | undefined): unknown {
  return fallback === undefined ? undefined : (convert(fallback, type) ?? fallback);
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
