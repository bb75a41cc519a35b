import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { buildFunction, buildSpec, type BuiltEntry } from '../../scripts/lib/function-build.ts';
import { loadStacks, serverlessFunctions } from '../../scripts/lib/stacks.ts';

/**
 * The deploy project's global setup: every function of every stack bundled once per run, as `sam build` would,
 * so the checks that read bundles (functions, bundle budgets) share one build instead of each paying for its own.
 * What it provides is plain data: the bundle paths, the metafile's path on disk (a metafile is megabytes, too
 * much to copy into every worker) and, for a function that fails to bundle, the error, which the test that needs
 * the bundle then reports as its own failure.
 */
export type SharedBundle =
  | { entries: BuiltEntry[]; metafilePath: string; handlerFile: string | undefined; handlerFileExports: string[] }
  | { error: string };

declare module 'vitest' {
  export interface ProvidedContext {
    functionBundles: Record<string, SharedBundle>;
  }
}

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export const bundleKey = (folder: string, functionId: string) => `${folder}/${functionId}`;

export default async function setup(project: TestProject) {
  const out = mkdtempSync(join(tmpdir(), 'cr-deploy-bundles-'));
  const functions = loadStacks(ROOT).stacks.flatMap((stack) => serverlessFunctions(stack));
  const bundles: Record<string, SharedBundle> = {};
  // esbuild bundles the functions side by side in its own process; one call each keeps their failures apart.
  await Promise.all(
    functions.map(async (fn) => {
      const key = bundleKey(fn.stack.folder, fn.functionId);
      try {
        const built = await buildFunction(buildSpec(fn), join(out, fn.stack.folder, fn.functionId), ROOT);
        const metafilePath = join(out, fn.stack.folder, `${fn.functionId}.meta.json`);
        writeFileSync(metafilePath, JSON.stringify(built.metafile));
        bundles[key] = { entries: built.entries, metafilePath, handlerFile: built.handlerFile, handlerFileExports: built.handlerFileExports };
      } catch (err) {
        bundles[key] = { error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  project.provide('functionBundles', bundles);
  return () => rmSync(out, { recursive: true, force: true });
}
