import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { OFFLINE_SCRIPT_FILE } from '../../dev/llm/offline/script-files.ts';
import { OfflineScriptSchema, type OfflineScript } from '../../dev/llm/offline/script-schema.ts';
import { placeholdersIn, templateStrings, wholePlaceholder } from '../../dev/llm/offline/templates.ts';
import { toOpenAiParam } from '../../dev/llm/request-schema.ts';
import type { UseCaseConfigInput } from '../../layers/data/use-case-config.ts';
import { describeIssues } from '../../layers/tools/describe-issues.ts';
import type { UseCaseModule } from '../../layers/tools/use-case.ts';
import { PROMPT_FILE } from './use-case-folders.ts';
import { parseTemplate, type Resource, type Template } from './cfn-yaml.ts';
import { buildSpec } from './function-build.ts';
import { parseSamConfig } from './samconfig.ts';
import { analysisMetafile, sdkCalls } from './sdk-calls.ts';
import { loadStacks, serverlessFunctions } from './stacks.ts';
import { idFromFolder, SAM_ENVIRONMENT, useCaseNames } from './use-case-names.ts';

/**
 * What `use-cases:check` verifies beyond the config item: that the folder's offline script, template and
 * samconfig agree with its id and its tools. Each finding names the file, the field (or line) and a fix, and
 * every finding is reported, not just the first per file. With `iam`, the tool function's inline policy is compared
 * with the SDK calls its bundle makes; the full check (resources and conditions, through SAM's own transform)
 * runs in `npm test` (tests/deploy/iam.test.ts) for every folder.
 */

export const TEMPLATE_FILE = 'template.yaml';
export const SAMCONFIG_FILE = 'samconfig.toml';

type Tools = NonNullable<UseCaseConfigInput['tools']>;

export interface FolderCheckOptions {
  /**
   * Also bundle the tool function and compare the SDK calls its code makes with the actions its inline policy
   * grants (about a second per folder: `use-cases:check` does it, `npm start` does not).
   */
  iam?: boolean;
}

/** Runs whether or not the config itself is valid, so one pass reports the problems of every file. */
export async function folderProblems(useCase: UseCaseModule, options: FolderCheckOptions = {}): Promise<string[]> {
  const folder = basename(useCase.dir);
  const config = {
    tools: useCase.tools.flatMap((tool) => {
      try {
        return [tool.manifest()];
      } catch {
        return []; // reported by the config check
      }
    }),
    promptTemplate: (await readOptional(join(useCase.dir, PROMPT_FILE))) ?? '',
  };
  const problems: string[] = [];
  const at = (file: string, field: string | undefined, message: string, fix?: string) =>
    problems.push(`${folder}/${file}: ${field ? `${field}: ` : ''}${message}${fix ? ` - fix: ${fix}` : ''}`);

  const named = idFromFolder(folder);
  if (named !== useCase.id) {
    at('src/index.ts', 'id', `is "${useCase.id}" but the folder is named for "${named}"`, `rename the folder to ${folder.replace(/_use-case-.*$/, `_use-case-${useCase.id}`)} or change the id`);
  }
  await checkOfflineScript(useCase, config, at);
  await checkTemplate(useCase, folder, at);
  await checkSamconfig(useCase, at);
  if (options.iam && !problems.some((p) => p.startsWith(`${folder}/${TEMPLATE_FILE}:`))) await checkIam(useCase, folder, at);
  return problems;
}

type At = (file: string, field: string | undefined, message: string, fix?: string) => void;

// ---------------------------------------------------------------------------------------------- offline script

async function checkOfflineScript(useCase: UseCaseModule, config: Pick<UseCaseConfigInput, 'tools' | 'promptTemplate'>, at: At): Promise<void> {
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

// ---------------------------------------------------------------------------------------------- template.yaml

async function checkTemplate(useCase: UseCaseModule, folder: string, at: At): Promise<void> {
  const file = TEMPLATE_FILE;
  const names = useCaseNames(useCase.id);
  const text = await readOptional(join(useCase.dir, file));
  if (text === undefined) {
    at(file, undefined, 'missing: the tool function has nothing to deploy it', 'npm run new-use-case writes one');
    return;
  }
  let template: Template;
  try {
    template = parseTemplate(text, file);
  } catch (err) {
    at(file, undefined, (err as Error).message.replace(`${file}: `, ''));
    return;
  }

  const entry = names.handlerEntry(folder);
  const functions = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Serverless::Function');
  const tools = functions.find(([, r]) => entryPoints(r).includes(entry));
  for (const [id, resource] of functions) {
    for (const other of entryPoints(resource).filter((e) => /^0\d+_/.test(e) && !e.startsWith(`${folder}/`))) {
      at(file, `Resources.${id}.Metadata.BuildProperties.EntryPoints`, `builds ${other}, another folder's code`, `build ${entry}`);
    }
  }
  if (!tools) {
    at(file, 'Resources', `no AWS::Serverless::Function builds ${entry}`, `give the tools function Metadata.BuildProperties.EntryPoints: [${entry}]`);
  } else {
    const [id, resource] = tools;
    const fnName = resource.Properties?.FunctionName;
    if (subText(fnName) !== names.functionNameSub) {
      at(file, `Resources.${id}.Properties.FunctionName`, `is ${describe(fnName)}; the engine invokes ${names.functionNameSub} for use case "${useCase.id}"`, `FunctionName: !Sub ${names.functionNameSub}`);
    }
    const logGroup = logGroupOf(template, resource);
    if (logGroup && subText(logGroup.name) !== names.logGroupSub) {
      at(file, `Resources.${logGroup.id}.Properties.LogGroupName`, `is ${describe(logGroup.name)}; the function logs to ${names.logGroupSub}`, `LogGroupName: !Sub ${names.logGroupSub}`);
    }
    const service = (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.POWERTOOLS_SERVICE_NAME;
    if (service !== undefined && service !== names.serviceName) {
      at(file, `Resources.${id}.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME`, `is ${describe(service)}; logs and metrics of this use case are named ${names.serviceName}`, `POWERTOOLS_SERVICE_NAME: ${names.serviceName}`);
    }
  }

  // A name derived from another id is a leftover of the folder this one was copied from: a log group, a policy
  // resource or a function name that belongs to that use case.
  const foreign = new Set<string>();
  for (const match of text.matchAll(/\b(?:tools|use-case)-([a-z0-9]+(?:-[a-z0-9]+)*)/g)) {
    if (match[1] !== useCase.id) foreign.add(match[0]);
  }
  for (const name of foreign) at(file, undefined, `names "${name}", which belongs to another use case (copied from its folder?)`, `use the names of "${useCase.id}": ${names.functionNameSub}, ${names.serviceName}`);
}

function entryPoints(resource: Resource): string[] {
  const build = (resource.Metadata?.BuildProperties ?? {}) as { EntryPoints?: unknown };
  return Array.isArray(build.EntryPoints) ? build.EntryPoints.filter((e): e is string => typeof e === 'string') : [];
}

function logGroupOf(template: Template, fn: Resource): { id: string; name: unknown } | undefined {
  const ref = ((fn.Properties?.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup)?.Ref;
  const group = ref ? template.Resources[ref] : undefined;
  return ref && group ? { id: ref, name: group.Properties?.LogGroupName } : undefined;
}

/** The text of `!Sub text` (or a plain string). */
function subText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const sub = (value as { 'Fn::Sub'?: unknown } | undefined)?.['Fn::Sub'];
  return typeof sub === 'string' ? sub : undefined;
}

function describe(value: unknown): string {
  const sub = subText(value);
  return sub !== undefined ? sub : value === undefined ? 'not set' : JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------- IAM

/** Services whose calls the bundle shows; a grant of theirs that the code never calls is privilege nobody needs. */
const VISIBLE_SERVICES = new Set(['dynamodb', 'lambda', 'ssm', 'execute-api']);

async function checkIam(useCase: UseCaseModule, folder: string, at: At): Promise<void> {
  const stack = loadStacks(dirname(useCase.dir)).stacks.find((s) => s.folder === folder);
  const entry = useCaseNames(useCase.id).handlerEntry(folder);
  const fn = stack && serverlessFunctions(stack).find((f) => entryPoints(f.resource).includes(entry));
  if (!fn) return;
  const field = `Resources.${fn.functionId}.Properties.Policies`;
  const policies = Array.isArray(fn.properties.Policies) ? fn.properties.Policies : [];
  // Managed policies and SAM policy templates grant what they grant; only inline statements can be read here.
  const inlineOnly = policies.every((p) => typeof p === 'object' && p !== null && 'Statement' in p);
  const granted = new Set(
    policies.flatMap((p) => ((p as { Statement?: unknown }).Statement as { Effect?: string; Action?: unknown }[] | undefined) ?? [])
      .filter((s) => s.Effect === 'Allow')
      .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
      .filter((a): a is string => typeof a === 'string'),
  );
  const allows = (action: string) => [...granted].some((g) => new RegExp(`^${g.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(action));

  const calls = sdkCalls(await analysisMetafile(buildSpec(fn), join(tmpdir(), 'use-case-check')));
  for (const call of calls) {
    const missing = call.actions.filter((a) => !allows(a));
    const refused = call.anyOf ? missing.length === call.actions.length : missing.length > 0;
    if (refused && inlineOnly) {
      at(TEMPLATE_FILE, field, `the tools call ${call.client} ${call.command}, which needs ${missing.join(call.anyOf ? ' or ' : ' and ')}: not granted`, `allow ${missing[0]} on exactly the resources the tools use (for the table: dynamodb:LeadingKeys for their keys)`);
    }
  }
  const called = new Set(calls.flatMap((c) => c.actions));
  for (const action of granted) {
    if (VISIBLE_SERVICES.has(action.split(':')[0]!) && !action.includes('*') && !called.has(action)) {
      at(TEMPLATE_FILE, field, `grants ${action}, which the tools' code never calls (left from the folder it was copied from?)`, `remove ${action}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------- samconfig.toml

async function checkSamconfig(useCase: UseCaseModule, at: At): Promise<void> {
  const file = SAMCONFIG_FILE;
  const { stackName } = useCaseNames(useCase.id);
  const text = await readOptional(join(useCase.dir, file));
  if (text === undefined) {
    at(file, undefined, `missing: npm run deploy reads the stack name (${stackName}) from it`, 'npm run new-use-case writes one');
    return;
  }
  let config: ReturnType<typeof parseSamConfig>;
  try {
    config = parseSamConfig(text, file);
  } catch (err) {
    at(file, undefined, (err as Error).message.replace(`${file}:`, 'line '));
    return;
  }
  const lines = text.split(/\r?\n/);
  const headerLine = (table: string) => lines.findIndex((l) => l.trim() === `[${table}]`) + 1;
  // The key's own line inside its table: the same key appears in several tables.
  const keyLine = (table: string, key: string) => {
    const start = headerLine(table);
    const at = lines.findIndex((l, i) => i >= start && new RegExp(`^\\s*${key}\\s*=`).test(l));
    return at + 1;
  };
  for (const [table, values] of Object.entries(config)) {
    const [environment] = table.split('.');
    if (environment !== SAM_ENVIRONMENT) {
      at(file, `line ${headerLine(table)}`, `[${table}]: "${environment}" is a SAM CLI environment name, and npm run deploy and sam deploy read "${SAM_ENVIRONMENT}"`, `write [${SAM_ENVIRONMENT}.${table.split('.').slice(1).join('.')}] (the use-case id belongs in the values, not the table names)`);
    }
    for (const key of ['stack_name', 's3_prefix'] as const) {
      const value = values[key];
      if (value !== undefined && value !== stackName) {
        at(file, `line ${keyLine(table, key)}`, `[${table}] ${key} is ${JSON.stringify(value)}; the stack of use case "${useCase.id}" is ${stackName}`, `${key} = "${stackName}"`);
      }
    }
  }
  if (!config[`${SAM_ENVIRONMENT}.deploy.parameters`]?.stack_name && !config[`${SAM_ENVIRONMENT}.global.parameters`]?.stack_name) {
    at(file, `[${SAM_ENVIRONMENT}.deploy.parameters]`, 'stack_name is not set', `stack_name = "${stackName}"`);
  }
}

// ---------------------------------------------------------------------------------------------- helpers

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
