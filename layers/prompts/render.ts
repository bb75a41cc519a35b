/**
 * System-prompt rendering: a use case's `promptTemplate` with `{{placeholders}}` filled at call setup.
 *
 * Placeholders (whitespace inside the braces is allowed: `{{ today }}`):
 *   {{callerName}}       the caller's full name from their profile, or "not known yet"
 *   {{callerFirstName}}  first name, or "not known yet"
 *   {{callerPhone}}      the number they called from (E.164), or "unknown"
 *   {{caller}}           "Jane Doe (+14065550100)", or "+14065550100 (name not known yet)"
 *   {{knownCaller}}      "yes" when we have a profile with a name, else "no"
 *   {{today}}            "Tuesday, November 25, 2025" in the use case's time zone
 *   {{todayIso}}         "2025-11-25" in the use case's time zone
 *   {{weekday}}          "Tuesday" in the use case's time zone
 *   {{currentTime}}      "10:45 AM" in the use case's time zone
 *   {{timeZone}}         the IANA zone those are computed in, e.g. "America/Denver"
 *   {{useCaseName}}      the name of the use case answering the call
 *   {{demos}}            one line per listed use case: "- <id>: <name>. <description>", or a line saying none are
 *                        available
 *   {{<custom name>}}    any entry of the use case's custom context (its `conversationRelay.customParameters`);
 *                        a custom name may not shadow a built-in one
 *
 * An unknown placeholder is an error: the use-case loader calls `unknownPlaceholders()` so a typo fails at load
 * time with the template's name, and `renderPrompt` refuses to send a prompt with a hole in it.
 */

export const KNOWN_PLACEHOLDERS = [
  'callerName',
  'callerFirstName',
  'callerPhone',
  'caller',
  'knownCaller',
  'today',
  'todayIso',
  'weekday',
  'currentTime',
  'timeZone',
  'useCaseName',
  'demos',
] as const;
export type KnownPlaceholder = (typeof KNOWN_PLACEHOLDERS)[number];

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_.-]*)\s*\}\}/g;

export interface DemoEntry {
  id: string;
  name: string;
  description: string;
}

export interface PromptContext {
  caller: { phone?: string; firstName?: string; lastName?: string };
  /** The moment the call started. */
  now: Date;
  /** IANA zone for the date placeholders; an invalid zone falls back to UTC rather than failing the call. */
  timeZone: string;
  useCaseName?: string;
  demos?: DemoEntry[];
  /** The use case's own values, addressed by name. */
  custom?: Record<string, string>;
}

export class PromptTemplateError extends Error {
  readonly placeholders: string[];
  constructor(message: string, placeholders: string[]) {
    super(message);
    this.name = 'PromptTemplateError';
    this.placeholders = placeholders;
  }
}

/** Every distinct placeholder name in the template, in order of first appearance. */
export function placeholdersIn(template: string): string[] {
  return [...new Set(Array.from(template.matchAll(PLACEHOLDER), (m) => m[1] as string))];
}

const known = new Set<string>(KNOWN_PLACEHOLDERS);

/** Placeholders that neither a built-in nor a custom context name fills (empty when the template is valid). */
export function unknownPlaceholders(template: string, customNames: Iterable<string> = []): string[] {
  const custom = new Set(customNames);
  return placeholdersIn(template).filter((name) => !known.has(name) && !custom.has(name));
}

/** Custom context names that would shadow a built-in placeholder. */
export function shadowingCustomNames(customNames: Iterable<string>): string[] {
  return [...customNames].filter((name) => known.has(name));
}

export function renderPrompt(template: string, context: PromptContext): string {
  const customNames = Object.keys(context.custom ?? {});
  const shadowing = shadowingCustomNames(customNames);
  if (shadowing.length > 0) {
    throw new PromptTemplateError(`custom context may not redefine built-in placeholders: ${shadowing.join(', ')}`, shadowing);
  }
  const unknown = unknownPlaceholders(template, customNames);
  if (unknown.length > 0) {
    throw new PromptTemplateError(`unknown placeholders: ${unknown.map((n) => `{{${n}}}`).join(', ')}`, unknown);
  }
  const values = builtInValues(context);
  return template.replace(PLACEHOLDER, (_match, name: string) =>
    known.has(name) ? values[name as KnownPlaceholder] : (context.custom?.[name] ?? ''),
  );
}

const NOT_KNOWN = 'not known yet';

function builtInValues(context: PromptContext): Record<KnownPlaceholder, string> {
  const firstName = context.caller.firstName?.trim() || undefined;
  const fullName = [firstName, context.caller.lastName?.trim()].filter(Boolean).join(' ') || undefined;
  const phone = context.caller.phone?.trim() || undefined;
  const { timeZone, parts } = datePartsIn(context.now, context.timeZone);
  return {
    callerName: fullName ?? NOT_KNOWN,
    callerFirstName: firstName ?? NOT_KNOWN,
    callerPhone: phone ?? 'unknown',
    caller: fullName ? (phone ? `${fullName} (${phone})` : fullName) : phone ? `${phone} (name ${NOT_KNOWN})` : `unknown caller`,
    knownCaller: fullName ? 'yes' : 'no',
    today: `${parts.weekday}, ${parts.month} ${parts.day}, ${parts.year}`,
    todayIso: `${parts.year}-${parts.monthNumber}-${parts.dayPadded}`,
    weekday: parts.weekday,
    currentTime: parts.time,
    timeZone,
    useCaseName: context.useCaseName ?? '',
    demos: demoLines(context.demos ?? []),
  };
}

function demoLines(demos: DemoEntry[]): string {
  if (demos.length === 0) return '(no demos are available right now)';
  return demos.map((d) => `- ${d.id}: ${d.name}. ${d.description}`).join('\n');
}

interface DateParts {
  weekday: string;
  month: string;
  monthNumber: string;
  day: string;
  dayPadded: string;
  year: string;
  time: string;
}

function datePartsIn(now: Date, timeZone: string): { timeZone: string; parts: DateParts } {
  try {
    return { timeZone, parts: formatParts(now, timeZone) };
  } catch {
    // An invalid zone throws RangeError; a prompt in UTC beats no call at all.
    return { timeZone: 'UTC', parts: formatParts(now, 'UTC') };
  }
}

function formatParts(now: Date, timeZone: string): DateParts {
  const pick = (options: Intl.DateTimeFormatOptions) => {
    const out: Record<string, string> = {};
    for (const p of new Intl.DateTimeFormat('en-US', { timeZone, ...options }).formatToParts(now)) out[p.type] = p.value;
    return out;
  };
  const long = pick({ weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' });
  const numeric = pick({ month: '2-digit', day: '2-digit', year: 'numeric' });
  const time = pick({ hour: 'numeric', minute: '2-digit', hour12: true });
  return {
    weekday: long.weekday ?? '',
    month: long.month ?? '',
    day: long.day ?? '',
    year: long.year ?? '',
    monthNumber: numeric.month ?? '',
    dayPadded: numeric.day ?? '',
    time: `${time.hour ?? ''}:${time.minute ?? ''} ${time.dayPeriod ?? ''}`.trim(),
  };
}
