import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { UseCaseConfigSchema, type UseCaseConfigInput } from '../../layers/data/use-case-config.ts';
import { unknownPlaceholders } from '../../layers/prompts/render.ts';
import { createToolbox } from '../../layers/tools/toolbox.ts';
import type { UseCaseModule } from '../../layers/tools/use-case.ts';
import { useCaseNames } from './use-case-names.ts';

/**
 * Reads use-case folders (`0*_use-case-*`) into the config item the engine stores. Shared by
 * `npm run use-cases:load` / `use-cases:check`, the local runtime and the tests, so all of them see the same
 * validation: every problem names its file and field, e.g.
 * "05_use-case-default/use-case/settings.json: conversationRelay.voice: expected string".
 */

export const USE_CASE_FOLDER = /^0\d+_use-case-[a-z0-9-]+$/;

export const PROMPT_FILE = 'use-case/prompt.md';
export const SETTINGS_FILE = 'use-case/settings.json';
export const DTMF_FILE = 'use-case/dtmf.json';

export class UseCaseConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid use-case configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'UseCaseConfigError';
    this.problems = problems;
  }
}

/** Every use-case folder under `rootDir`, imported from its `src/index.ts`, in folder order. */
export async function discoverUseCases(rootDir: string): Promise<UseCaseModule[]> {
  const folders = (await readdir(rootDir, { withFileTypes: true }))
    .filter((e) => e.isDirectory() && USE_CASE_FOLDER.test(e.name))
    .map((e) => e.name)
    .sort();
  const modules: UseCaseModule[] = [];
  const problems: string[] = [];
  for (const folder of folders) {
    const entry = join(rootDir, folder, 'src', 'index.ts');
    if (!(await exists(entry))) {
      problems.push(`${folder}/src/index.ts: missing (it must export \`useCase = { id, dir, tools }\`)`);
      continue;
    }
    let imported: { useCase?: UseCaseModule };
    try {
      imported = (await import(pathToFileURL(entry).href)) as { useCase?: UseCaseModule };
    } catch (err) {
      // A typo in one tool must not hide the problems of every other folder.
      problems.push(`${folder}/src/index.ts: cannot be imported: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    const useCase = imported.useCase;
    if (!useCase || typeof useCase.id !== 'string' || !Array.isArray(useCase.tools) || typeof useCase.dir !== 'string') {
      problems.push(`${folder}/src/index.ts: useCase: expected an export \`useCase = { id, dir, tools }\``);
      continue;
    }
    modules.push(useCase);
  }
  const seen = new Map<string, string>();
  for (const m of modules) {
    const other = seen.get(m.id);
    if (other) problems.push(`${basename(m.dir)}/src/index.ts: id: "${m.id}" is also the id of ${other}`);
    seen.set(m.id, basename(m.dir));
  }
  if (problems.length) throw new UseCaseConfigError(problems);
  return modules;
}

/** The Lambda that runs a use case's tools in AWS; 02's invoke policy matches `cr-<env>-tools-*`. */
export function toolFunctionName(useCaseId: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.ENVIRONMENT_NAME ? useCaseNames(useCaseId).functionName(env.ENVIRONMENT_NAME) : undefined;
}

/**
 * The use case's config, validated: prompt, settings and keypad map from its folder, the tool manifest from its
 * tool definitions. Throws UseCaseConfigError listing every problem at once.
 */
export async function readUseCaseConfig(useCase: UseCaseModule, env: NodeJS.ProcessEnv = process.env): Promise<UseCaseConfigInput> {
  const folder = basename(useCase.dir);
  const problems: string[] = [];
  const at = (file: string, field: string | undefined, message: string) =>
    problems.push(`${folder}/${file}: ${field ? `${field}: ` : ''}${message}`);

  const prompt = await readText(join(useCase.dir, PROMPT_FILE));
  if (prompt === undefined) at(PROMPT_FILE, undefined, 'missing: every use case needs a prompt');
  const settings = await readJson(join(useCase.dir, SETTINGS_FILE), SETTINGS_FILE, at, true);
  const dtmfMap = (await readJson(join(useCase.dir, DTMF_FILE), DTMF_FILE, at, false)) ?? {};

  if (settings !== undefined && (typeof settings !== 'object' || settings === null || Array.isArray(settings))) {
    at(SETTINGS_FILE, undefined, 'expected a JSON object');
  }
  const settingsObject = (typeof settings === 'object' && settings !== null ? settings : {}) as Record<string, unknown>;
  for (const [field, home] of [['promptTemplate', PROMPT_FILE], ['tools', 'src/tools/*.ts'], ['dtmfMap', DTMF_FILE]] as const) {
    if (field in settingsObject) at(SETTINGS_FILE, field, `not allowed here: it comes from ${home}`);
  }
  if (settings !== undefined && settingsObject.id !== useCase.id) {
    at(SETTINGS_FILE, 'id', `must be "${useCase.id}", the id src/index.ts exports`);
  }

  const tools: NonNullable<UseCaseConfigInput['tools']> = [];
  try {
    createToolbox(useCase.tools);
  } catch (err) {
    at('src/tools', undefined, (err as Error).message);
  }
  for (const tool of useCase.tools) {
    try {
      tools.push(tool.manifest(toolFunctionName(useCase.id, env)));
    } catch (err) {
      at(`src/tools (${tool.name})`, 'parameters', `cannot be expressed as JSON Schema: ${(err as Error).message}`);
    }
  }

  if (prompt !== undefined) {
    const custom = Object.keys((settingsObject.conversationRelay as { customParameters?: object } | undefined)?.customParameters ?? {});
    const unknown = unknownPlaceholders(prompt, custom);
    if (unknown.length) at(PROMPT_FILE, undefined, `unknown placeholder(s) ${unknown.map((n) => `{{${n}}}`).join(', ')}`);
  }

  const candidate = { ...settingsObject, promptTemplate: prompt ?? '', tools, dtmfMap };
  const parsed = UseCaseConfigSchema.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [file, path] = locate(issue, tools);
      // A missing prompt is already reported as a missing file.
      if (file === PROMPT_FILE && prompt === undefined) continue;
      // A bad record key (e.g. keypad digit "5x") carries the real reason in its nested issues.
      const message = issue.code === 'invalid_key' ? issue.issues.map((i) => i.message).join('; ') : issue.message;
      at(file, path, message);
    }
  }
  // Checked after the schema too: the schema skips this check when a key of the map is already wrong.
  const toolNames = new Set(useCase.tools.map((t) => t.name));
  if (dtmfMap && typeof dtmfMap === 'object') {
    for (const [digit, action] of Object.entries(dtmfMap as Record<string, { tool?: unknown }>)) {
      if (typeof action?.tool === 'string' && !toolNames.has(action.tool)) at(DTMF_FILE, `${digit}.tool`, `unknown tool "${action.tool}"`);
    }
  }

  if (problems.length) throw new UseCaseConfigError([...new Set(problems)]);
  return candidate as UseCaseConfigInput;
}

/** Which file of the folder a schema issue belongs to, and the field path inside it. */
function locate(issue: z.core.$ZodIssue, tools: readonly { name: string }[]): [file: string, field: string | undefined] {
  const [head, ...rest] = issue.path.map(String);
  const keyed = issue.code === 'invalid_key' || issue.code === 'unrecognized_keys';
  const field = (parts: string[]) => (parts.length ? parts.join('.') : undefined);
  switch (head) {
    case 'promptTemplate':
      return [PROMPT_FILE, undefined];
    case 'dtmfMap':
      return [DTMF_FILE, field(keyed && rest.length ? [`key "${rest.join('.')}"`] : rest)];
    case 'tools': {
      const tool = tools[Number(rest[0])];
      return [`src/tools (${tool?.name ?? `tool #${Number(rest[0]) + 1}`})`, field(rest.slice(1))];
    }
    default:
      return [SETTINGS_FILE, field(issue.path.map(String))];
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function readJson(
  path: string,
  file: string,
  at: (file: string, field: string | undefined, message: string) => void,
  required: boolean,
): Promise<unknown> {
  const text = await readText(path);
  if (text === undefined) {
    if (required) at(file, undefined, 'missing');
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    at(file, undefined, `not valid JSON (${(err as Error).message})`);
    return undefined;
  }
}
