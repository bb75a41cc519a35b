import { access, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toOpenAiParam } from '../request-schema.ts';
import { OfflineScriptSchema, type OfflineScript } from './script-schema.ts';

export const OFFLINE_SCRIPT_FILE = 'offline-model.json';
const USE_CASE_FOLDER = /^0.*_use-case-/;

/** A script file that cannot be used; the message names the file and every bad field. */
export class OfflineScriptError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'OfflineScriptError';
  }
}

/** Every `<rootDir>/0*_use-case-*\/offline-model.json`, in folder order (which is the order scripts are tried). */
export async function findOfflineScriptFiles(rootDir: string): Promise<string[]> {
  const entries = await readdir(rootDir, { withFileTypes: true });
  const folders = entries
    .filter((e) => e.isDirectory() && USE_CASE_FOLDER.test(e.name))
    .map((e) => e.name)
    .sort();
  const files: string[] = [];
  for (const folder of folders) {
    const file = join(rootDir, folder, OFFLINE_SCRIPT_FILE);
    if (await exists(file)) files.push(file);
  }
  return files;
}

/** Reads and validates every file; throws an OfflineScriptError for the first file that is not valid. */
export async function loadOfflineScripts(files: string[]): Promise<OfflineScript[]> {
  return Promise.all(files.map(loadOfflineScript));
}

export async function loadOfflineScript(file: string): Promise<OfflineScript> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new OfflineScriptError(file, [`cannot be read (${(error as Error).message})`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new OfflineScriptError(file, [`is not valid JSON (${(error as Error).message})`]);
  }
  const parsed = OfflineScriptSchema.safeParse(json);
  if (!parsed.success) {
    throw new OfflineScriptError(
      file,
      parsed.error.issues.map((issue) => `${toOpenAiParam(issue.path) ?? '(top level)'}: ${issue.message}`),
    );
  }
  return { ...parsed.data, file };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
