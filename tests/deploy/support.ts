import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Metafile } from 'esbuild';
import { inject } from 'vitest';
import { cfnLintVersion } from '../../scripts/lib/cfn-lint.ts';
import { buildFunction, buildSpec, type FunctionBuild } from '../../scripts/lib/function-build.ts';
import { analysisMetafile, sdkCalls, type SdkCall } from '../../scripts/lib/sdk-calls.ts';
import { loadStacks, type FunctionResource, type StackInventory } from '../../scripts/lib/stacks.ts';
import { functionKey } from './global-setup.ts';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

let inventory: StackInventory | undefined;
/** The repository's stacks, loaded once per test file. */
export function repoStacks(): StackInventory {
  inventory ??= loadStacks(ROOT);
  return inventory;
}

/**
 * cfn-lint (and the SAM translator it bundles) may be missing on a developer machine: the checks that need it
 * skip with a message then. CI sets REQUIRE_CFN_LINT=1, and there a missing cfn-lint fails the run.
 */
export const cfnLint = {
  // Asked once per run by the project's global setup (tests/deploy/global-setup.ts); a file run with another
  // config asks itself.
  version: inject('cfnLintVersion') ?? cfnLintVersion(),
  required: process.env.REQUIRE_CFN_LINT === '1',
};
export const CFN_LINT_MISSING = 'cfn-lint is not installed (pip install cfn-lint): template lint and IAM checks skipped';

/** The esbuild banner every function carries: bundled CommonJS code and layer packages need a real `require`. */
export const BANNER = "js=import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * A function's bundle from the deploy project's one build per run (tests/deploy/global-setup.ts). Outside that
 * project (a file run on its own with another config) it builds the function itself.
 */
export async function builtFunction(fn: FunctionResource): Promise<FunctionBuild> {
  const spec = buildSpec(fn);
  const shared = inject('functionBundles')?.[functionKey(fn)];
  if (!shared) return buildFunction(spec, mkdtempSync(join(tmpdir(), 'cr-bundle-')), ROOT);
  if ('error' in shared) throw new Error(shared.error);
  const metafile = JSON.parse(readFileSync(shared.metafilePath, 'utf8')) as Metafile;
  return { spec, entries: shared.entries, metafile, handlerFile: shared.handlerFile, handlerFileExports: shared.handlerFileExports };
}

/**
 * The SDK calls a function's code makes (scripts/lib/sdk-calls.ts), from the deploy project's one analysis per
 * run. Outside that project it analyses the function itself.
 */
export async function functionSdkCalls(fn: FunctionResource): Promise<SdkCall[]> {
  const shared = inject('functionSdkCalls')?.[functionKey(fn)];
  if (!shared) return sdkCalls(await analysisMetafile(buildSpec(fn), mkdtempSync(join(tmpdir(), 'cr-analysis-'))));
  if ('error' in shared) throw new Error(shared.error);
  return shared.calls;
}
