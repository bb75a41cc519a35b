import { join } from 'node:path';
import { z } from 'zod';
import { OFFLINE_SCRIPT_FILE } from '../../../dev/llm/offline/script-files.ts';
import { OfflineScriptSchema, type OfflineScript } from '../../../dev/llm/offline/script-schema.ts';
import { placeholdersIn, templateStrings, wholePlaceholder } from '../../../dev/llm/offline/templates.ts';
import { toOpenAiParam } from '../../../dev/llm/request-schema.ts';
import type { UseCaseConfigInput } from '../../../layers/data/use-case-config.ts';
import { describeIssues } from '../../../layers/tools/describe-issues.ts';
import type { UseCaseModule } from '../../../layers/tools/use-case.ts';
import { readOptional, valueAt, type At } from './shared.ts';

/**
 * The offline model's script against the use case: that it loads (every schema problem), that its rules call,
 * answer and read only the use case's tools with arguments their schemas accept (placeholders stand in by type),
 * and that its `match` is in the prompt.
 */
type Tools = NonNullable<UseCaseConfigInput['tools']>;

export async function checkOfflineScript(useCase: UseCaseModule, config: Pick<UseCaseConfigInput, 'tools' | 'promptTemplate'>, at: At): Promise<void> {
  const file = OFFLINE_SCRIPT_FILE;
  const text = await readOptional(join(useCase.dir, file));
  if (text === undefined) {
    at(file, undefined, 'missing: with no API key the offline model would answer every turn with "no offline script matches"', 'npm run new-use-case writes one; see docs/ADDING-A-USE-CASE.md');
    return;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    at(file, undefined, `not valid JSON (${(err as Error).message})`);
    return;
  }
  const parsed = OfflineScriptSchema.safeParse(json);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) at(file, toOpenAiParam(issue.path) ?? undefined, issue.message);
    return;
  }
  const script = parsed.data;
  const tools: Tools = config.tools ?? [];
  const byName = new Map(tools.map((t) => [t.name, t]));
  const toolList = tools.map((t) => t.name).join(', ') || 'none';
  const unknownTool = (field: string, name: string) =>
    at(file, field, `"${name}" is not a tool of this use case`, `use one of: ${toolList}`);

  const prompt = config.promptTemplate.toLowerCase();
  script.match.systemPromptIncludes.forEach((needle, i) => {
    if (!prompt.includes(needle.toLowerCase())) {
      at(file, `match.systemPromptIncludes${script.match.systemPromptIncludes.length > 1 ? `[${i}]` : ''}`, `"${needle}" is not in use-case/prompt.md, so this script never answers`, 'quote a phrase of the prompt exactly');
    }
  });

  const slotTypes = slotSamples(script);
  script.rules.forEach((rule, r) => {
    const where = `rules[${r}]`;
    if (rule.when.toolResult && !byName.has(rule.when.toolResult)) unknownTool(`${where}.when.toolResult`, rule.when.toolResult);
    for (const text of [rule.say ?? '', ...(rule.when.has ?? []).map((h) => `{{${h}}}`), ...templateStrings(rule.set ?? {}).map((t) => t.text)]) {
      checkResultsPaths(text, where, byName, unknownTool);
    }
    rule.call?.forEach((call, c) => {
      const field = `${where}.call[${c}]`;
      for (const t of templateStrings(call.args)) checkResultsPaths(t.text, field, byName, unknownTool);
      const tool = byName.get(call.tool);
      if (!tool) return unknownTool(`${field}.tool`, call.tool);
      for (const problem of argumentProblems(tool, call.args, slotTypes)) at(file, `${field}.args${problem.path ? `.${problem.path}` : ''}`, problem.message, problem.fix);
    });
  });
}

function checkResultsPaths(text: string, field: string, tools: Map<string, unknown>, unknownTool: (field: string, name: string) => void): void {
  for (const { path } of placeholdersIn(text)) {
    const [root, tool] = path.split('.');
    if (root === 'results' && tool && !tools.has(tool)) unknownTool(field, tool);
  }
}

/** Stands for a value the script cannot know before the call (a tool result): its type is not checked. */
const UNKNOWN = Symbol('unknown at load time');

/** What each slot holds, as a sample value, from the rules that set it (unknown when they disagree). */
function slotSamples(script: Pick<OfflineScript, 'rules'>): Map<string, unknown> {
  const samples = new Map<string, unknown>();
  for (const rule of script.rules) {
    for (const [name, template] of Object.entries(rule.set ?? {})) {
      if (template === null) continue;
      const value = sampleOf(template, new Map());
      const known = samples.get(name);
      samples.set(name, samples.has(name) && typeof known !== typeof value ? UNKNOWN : value);
    }
  }
  return samples;
}

/** A stand-in of the type a template will produce: what the tool's schema is checked against. */
function sampleOf(value: unknown, slots: Map<string, unknown>): unknown {
  if (Array.isArray(value)) return value.map((v) => sampleOf(v, slots));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sampleOf(v, slots)]));
  if (typeof value !== 'string') return value;
  const whole = wholePlaceholder(value);
  if (!whole) return value;
  switch (whole.type) {
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'list':
      return ['text'];
    case 'string':
    case 'lowercase':
      return 'text';
  }
  const [root, name] = whole.path.split('.');
  if (root === 'match' || root === 'user') return 'text';
  if (root === 'slots' && name && slots.has(name)) return slots.get(name);
  return UNKNOWN;
}

interface ArgumentProblem {
  path: string;
  message: string;
  fix?: string;
}

/** The rule's arguments against the tool's JSON Schema, compiled the way the engine compiles it. */
function argumentProblems(tool: Tools[number], args: Record<string, unknown>, slots: Map<string, unknown>): ArgumentProblem[] {
  let validator: z.ZodType;
  try {
    validator = z.fromJSONSchema(tool.parameters as Parameters<typeof z.fromJSONSchema>[0]);
  } catch {
    return [];
  }
  const sample = sampleOf(args, slots);
  const parsed = validator.safeParse(sample);
  if (parsed.success) return [];
  const problems: ArgumentProblem[] = [];
  for (const issue of parsed.error.issues) {
    const value = valueAt(sample, issue.path);
    if (value === UNKNOWN) continue;
    const template = valueAt(args, issue.path);
    const whole = typeof template === 'string' ? wholePlaceholder(template) : undefined;
    // What a placeholder holds is known by type only: whether a capture is one of an enum's values is for the
    // call to find out.
    if (whole && issue.code !== 'invalid_type') continue;
    const path = issue.path.map(String).join('.');
    if (issue.code === 'invalid_type' && whole && !whole.type && ['number', 'int', 'boolean', 'array'].includes(issue.expected)) {
      const type = { number: 'number', int: 'integer', boolean: 'boolean', array: 'list' }[issue.expected as 'number'];
      problems.push({
        path,
        message: `{{${whole.path}}} gives text, but ${tool.name} expects ${issue.expected === 'int' ? 'an integer' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}`,
        fix: `write {{${whole.path}:${type}}}`,
      });
      continue;
    }
    const fix = issue.code === 'unrecognized_keys' ? `${tool.name} takes: ${Object.keys((tool.parameters as { properties?: object }).properties ?? {}).join(', ') || 'no arguments'}` : undefined;
    problems.push({ path: issue.code === 'unrecognized_keys' ? path : '', message: describeIssues([issue], sample), ...(fix ? { fix } : {}) });
  }
  return problems;
}

