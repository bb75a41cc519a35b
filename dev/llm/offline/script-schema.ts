import { z } from 'zod';
import { CONVERSIONS, placeholdersIn, templateStrings, withoutPlaceholders } from './templates.ts';

/**
 * The offline model's script: one JSON file per use case (`offline-model.json` in the use-case folder). The
 * format is documented in dev/llm/README.md; the schema checks templates too, so a misspelt placeholder fails
 * when the file loads, naming its field, instead of going quietly silent during a call.
 */

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Case-insensitive; compiled once at load time. */
const UserPatternSchema = z.string().min(1).transform((source, ctx) => {
  try {
    return new RegExp(source, 'i');
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(error as Error).message}` });
    return z.NEVER;
  }
});

const WhenSchema = z
  .strictObject({
    /** Matches the caller's latest message; its captures are `{{match.1}}`, `{{match.name}}`. */
    user: UserPatternSchema.optional(),
    /** The latest message is the result of this tool; the reply reads it as `{{result.path}}`. */
    toolResult: z.string().regex(TOOL_NAME, 'tool names are 1-64 letters, digits, _ or -').optional(),
    /**
     * Only when these dotted paths hold something (not missing, null, false, '' or []), read like templates:
     * `result.slots.0`, `results.check_availability.slots`, `match.layout`.
     */
    has: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (Array.isArray(v) ? v : [v])).optional(),
  })
  .refine((w) => w.user !== undefined || w.toolResult !== undefined, {
    message: 'a rule needs `when.user`, `when.toolResult` or both',
  });

const ToolCallTemplateSchema = z.strictObject({
  tool: z.string().regex(TOOL_NAME, 'tool names are 1-64 letters, digits, _ or -'),
  /** Argument values may hold templates; a value that is exactly one placeholder keeps the value's type. */
  args: z.record(z.string(), z.unknown()).default({}),
});

const RuleSchema = z
  .strictObject({
    /** A name for people reading the script and the logs. */
    id: z.string().min(1).optional(),
    when: WhenSchema,
    say: z.string().min(1).optional(),
    call: z.array(ToolCallTemplateSchema).min(1).optional(),
    /**
     * Remembers values for later rules (`{{slots.name}}`, `has: "slots.name"`) when the rule fires, e.g. what
     * to read back before a confirmed tool call; `null` forgets one. Rendered like `call` arguments, before
     * `say` and `call`, so they can read the new values.
     */
    set: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'slot names are letters, digits, _ or -'), z.unknown()).optional(),
    /** Fires at most once in a conversation. */
    once: z.boolean().default(false),
  })
  .refine((r) => r.say !== undefined || r.call !== undefined, { message: 'a rule needs `say`, `call` or both' });

export const OfflineScriptSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z.string().min(1),
    description: z.string().optional(),
    match: z.strictObject({
      /** Every one of these must appear in the system prompt (case-insensitive) for the script to apply. */
      systemPromptIncludes: z
        .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
        .transform((v) => (Array.isArray(v) ? v : [v])),
    }),
    /** Phrases the script understands; the default fallback reads them out. */
    examples: z.array(z.string().min(1)).default([]),
    /** Tool rounds the script may start after one caller message before it must answer in words. */
    maxToolRoundsPerTurn: z.number().int().min(1).max(10).default(3),
    rules: z.array(RuleSchema).default([]),
    fallback: z
      .strictObject({
        /** When no rule matches the caller's words. */
        say: z.string().min(1).optional(),
        /** When no rule answers a tool result. */
        afterToolResult: z.string().min(1).optional(),
      })
      .default({}),
  })
  .superRefine((script, ctx) => {
    script.rules.forEach((rule, i) => {
      const allowed = allowedRoots(rule.when.user !== undefined, rule.when.toolResult !== undefined);
      const groups = rule.when.user ? captureNames(rule.when.user) : new Set<string>();
      const check = (text: string, path: (string | number)[]) =>
        checkTemplate(text, allowed, groups, ['rules', i, ...path], ctx);
      rule.when.has?.forEach((path, h) => check(`{{${path}}}`, ['when', 'has', ...(rule.when.has!.length > 1 ? [h] : [])]));
      if (rule.say) check(rule.say, ['say']);
      rule.call?.forEach((call, c) => {
        for (const t of templateStrings(call.args)) check(t.text, ['call', c, 'args', ...t.path]);
      });
      for (const t of templateStrings(rule.set ?? {})) check(t.text, ['set', ...t.path]);
    });
    if (script.fallback.say) {
      checkTemplate(script.fallback.say, allowedRoots(false, false), new Set(), ['fallback', 'say'], ctx);
    }
    if (script.fallback.afterToolResult) {
      checkTemplate(script.fallback.afterToolResult, allowedRoots(false, true), new Set(), ['fallback', 'afterToolResult'], ctx);
    }
  });

export type OfflineScriptInput = z.input<typeof OfflineScriptSchema>;
export type OfflineScriptRule = z.output<typeof RuleSchema>;

/** A loaded script and the file it came from. */
export type OfflineScript = z.output<typeof OfflineScriptSchema> & { file: string };

function allowedRoots(hasUser: boolean, hasToolResult: boolean): Set<string> {
  const roots = new Set(['user', 'results', 'slots']);
  if (hasUser) roots.add('match');
  if (hasToolResult) for (const r of ['result', 'args', 'tool']) roots.add(r);
  return roots;
}

/** Named groups of a pattern: matching it against '' through an empty alternative lists them all. */
function captureNames(pattern: RegExp): Set<string> {
  const groups = new RegExp(`${pattern.source}|`, pattern.flags).exec('')?.groups;
  return new Set(Object.keys(groups ?? {}));
}

function checkTemplate(
  text: string,
  allowed: Set<string>,
  groups: Set<string>,
  path: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  for (const { path: placeholder, type } of placeholdersIn(text)) {
    const [root, first] = placeholder.split('.');
    if (type !== undefined && !(CONVERSIONS as readonly string[]).includes(type)) {
      ctx.addIssue({ code: 'custom', path, message: `{{${placeholder}:${type}}}: unknown type "${type}"; use one of ${CONVERSIONS.join(', ')}` });
    }
    if (!root || !allowed.has(root)) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `{{${placeholder}}} cannot be used here; available: ${[...allowed].map((r) => `{{${r}...}}`).join(', ')} (match needs when.user; result, args and tool need when.toolResult)`,
      });
    } else if (root === 'match' && first !== undefined && !/^\d+$/.test(first) && !groups.has(first)) {
      ctx.addIssue({ code: 'custom', path, message: `{{${placeholder}}}: when.user has no named group "${first}"` });
    }
  }
  if (/\{\{|\}\}/.test(withoutPlaceholders(text))) {
    ctx.addIssue({ code: 'custom', path, message: 'malformed placeholder: write {{path}} or {{path|default}}' });
  }
}
