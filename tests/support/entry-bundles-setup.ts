import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { buildEntryBundles, npmEntryCommands } from './entry-bundles.ts';

/**
 * The wire project's global setup: every npm command's entry point bundled once per run (tests/support/
 * entry-bundles.ts), so the tests that start a command as a person would (`npm start`, `npm run call`, every
 * `--help`) run it with plain node instead of paying for tsx on each start.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    entryBundles: Record<string, { path: string } | { error: string }>;
  }
}

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export default async function setup(project: TestProject) {
  // A nested run that starts no command (tests/deploy/new-use-case.test.ts) skips the build; entryBundle() then
  // names the missing bundle if a test asks for one after all.
  if (process.env.ENTRY_BUNDLES === 'none') {
    project.provide('entryBundles', {});
    return;
  }
  // Inside the repository (node_modules/.cache, ignored like the rest of node_modules): the bundles import the
  // packages from node_modules by name. One folder per run, so two runs never share or delete each other's.
  const cache = join(ROOT, 'node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  const out = mkdtempSync(join(cache, 'entry-bundles-'));
  project.provide('entryBundles', await buildEntryBundles(npmEntryCommands(ROOT).map((c) => c.entry), out, ROOT));
  return () => rmSync(out, { recursive: true, force: true });
}
