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
  return parseOfflineScript(file, text);
}

/** Validates one script's text; throws an OfflineScriptError naming every bad field. */
export function parseOfflineScript(file: string, text: string): OfflineScript {
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

/**
 * The scripts as they are on disk now: `npm start` asks before every reply, so an edited offline-model.json (or a
 * new use-case folder) takes effect on the next turn without a restart. Files are re-parsed only when their
 * text changed. An edit that does not validate is reported once and the last good scripts stay in use, so a
 * half-saved file never breaks a call in progress. The first load must validate (it throws like
 * loadOfflineScripts).
 */
export async function liveOfflineScripts(
  rootDir: string,
  report: (event: { reloaded: string[] } | { error: Error }) => void,
): Promise<{ files: string[]; current: () => Promise<OfflineScript[]> }> {
  const snapshot = async () => {
    const files = await findOfflineScriptFiles(rootDir);
    const texts = await Promise.all(files.map((f) => readFile(f, 'utf8').catch((error: Error) => `cannot be read: ${error.message}`)));
    return { files, texts, key: JSON.stringify([files, texts]) };
  };
  const first = await snapshot();
  let scripts = first.files.map((file, i) => parseOfflineScript(file, first.texts[i]!));
  let seen = first.key;
  return {
    files: first.files,
    async current() {
      const now = await snapshot();
      if (now.key === seen) return scripts;
      seen = now.key;
      try {
        scripts = now.files.map((file, i) => parseOfflineScript(file, now.texts[i]!));
        report({ reloaded: now.files });
      } catch (error) {
        report({ error: error as Error });
      }
      return scripts;
    },
  };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
