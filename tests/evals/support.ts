import { cp, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { lazy } from '../../layers/runtime/lazy.ts';
import { functionSizes } from '../../scripts/lib/function-sizes.ts';
import { loadPrices } from '../../scripts/lib/prices.ts';
import { USE_CASE_FOLDER } from '../../scripts/lib/use-case-folders.ts';
import { afterAll } from 'vitest';
import { localStandPool, type StandPool } from '../../dev/evals/local-stand.ts';
import { runEvals, type RunOptions } from '../../dev/evals/run-evals.ts';

export const ROOT = resolve(import.meta.dirname, '../..');

/** The local app as the evals see it, with a fast offline model: what `npm run eval` runs on a fresh clone. */
export const FAST_OFFLINE: NodeJS.ProcessEnv = { OFFLINE_FIRST_TOKEN_MS: '5', OFFLINE_TOKEN_GAP_MS: '1', TWILIO_AUTH_TOKEN: 'eval-test-auth-token' };

// Read from every stack's template (a YAML parse each): the same for every run of the suite.
const sizes = lazy(() => functionSizes(ROOT));
const prices = lazy(() => loadPrices(ROOT));

/**
 * Runs evals through local stands: those of `stands` when given (shared by the runs of a whole file), else a pool
 * of their own, closed when they are done.
 */
export async function runLocally(options: Omit<RunOptions, 'openStand' | 'prices' | 'sizes'> & { rootDir?: string; stands?: StandPool }) {
  const { rootDir, stands: shared, ...rest } = options;
  const stands = shared ?? localStandPool(rootDir ?? ROOT, FAST_OFFLINE);
  try {
    return await runEvals({
      concurrency: 2,
      ...rest,
      openStand: () => stands.open(),
      prices: prices(),
      sizes: sizes(),
    });
  } finally {
    if (!shared) await stands.close();
  }
}

/** Local stands for every run of the calling test file, stopped after it: each test's evals reuse them. */
export function standsForThisFile(rootDir = ROOT): StandPool {
  const stands = localStandPool(rootDir, FAST_OFFLINE);
  afterAll(() => stands.close());
  return stands;
}

/**
 * A copy of the repository in which one use case can be broken on purpose: every top-level entry is a symlink
 * to the real one, except the use-case folder, which is copied so a test may edit its prompt, script or tools.
 */
export async function repositoryWithCopyOf(folder: string): Promise<{ root: string; edit: (file: string, change: (text: string) => string) => Promise<void>; remove: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'evals-broken-'));
  for (const entry of await readdir(ROOT)) {
    if (entry === folder || entry === '.git') continue;
    // Use-case discovery reads real folders only (a symlink is not one): the other use cases, the default among
    // them (DEFAULT_USE_CASE_ID must name a loaded one), are copied as they are.
    if (USE_CASE_FOLDER.test(entry)) await cp(join(ROOT, entry), join(root, entry), { recursive: true });
    else await symlink(join(ROOT, entry), join(root, entry));
  }
  await cp(join(ROOT, folder), join(root, folder), { recursive: true });
  return {
    root,
    async edit(file, change) {
      const path = join(root, folder, file);
      const before = await readFile(path, 'utf8');
      const after = change(before);
      if (after === before) throw new Error(`the edit of ${file} changed nothing`);
      await writeFile(path, after);
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
