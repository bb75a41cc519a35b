import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

/**
 * Runs an npm command's entry point as its own process, from the bundle the wire project's global setup built
 * (tests/support/entry-bundles-setup.ts): the command as a person starts it, with plain node instead of tsx.
 */
export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface EntryRun {
  /** The exit code; null when a signal ended the process. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The bundle of `entry` (e.g. `dev/caller/main.ts`); throws the build error when it failed to bundle. */
export function entryBundle(entry: string): string {
  const built = inject('entryBundles')[entry];
  if (!built) throw new Error(`${entry}: no bundle in this run (only the entry points of package.json scripts are bundled)`);
  if ('error' in built) throw new Error(`${entry} failed to bundle: ${built.error}`);
  return built.path;
}

/** Runs the entry to its end and collects its output, whatever its exit code. */
export function runEntry(entry: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<EntryRun> {
  const bundle = entryBundle(entry);
  return new Promise((done) => {
    execFile(process.execPath, [bundle, ...args], { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, timeout: options.timeoutMs ?? 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      done({ code, stdout, stderr });
    });
  });
}
