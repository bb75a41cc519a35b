import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { cfnLintVersionAsync } from '../../scripts/lib/cfn-lint.ts';
import { buildFunctions, buildSpec, type BuiltEntry } from '../../scripts/lib/function-build.ts';
import { transformedTemplates } from '../../scripts/lib/iam.ts';
import { analysisMetafiles, sdkCalls, type SdkCall } from '../../scripts/lib/sdk-calls.ts';
import { loadStacks, serverlessFunctions, type FunctionResource } from '../../scripts/lib/stacks.ts';

/**
 * The deploy project's global setup: the work several checks need, done once per run instead of once per test
 * file (or per test):
 * - every function of every stack bundled as `sam build` would (the same bytes, built side by side in one esbuild
 *   run for all whose build options differ at most in their externals), for the checks that read bundles
 *   (functions, bundle budgets);
 * - the SDK calls each function's code makes (the IAM checks), for the repository's functions and the IAM
 *   fixture's, from one analysis run grouped the same way;
 * - SAM's translation of every template (the IAM and operations checks), through one python process;
 * - cfn-lint's version (whether the checks that need it run), from python3's package metadata: once per run, not
 *   once per file.
 * What it provides is plain data: bundle paths, the metafile's path on disk (a metafile is megabytes, too much to
 * copy into every worker) and, for a function that fails to bundle or to analyse, the error, which the test that
 * needs it then reports as its own failure.
 */
export type SharedBundle =
  | { entries: BuiltEntry[]; metafilePath: string; handlerFile: string | undefined; handlerFileExports: string[] }
  | { error: string };

export type SharedSdkCalls = { calls: SdkCall[] } | { error: string };

declare module 'vitest' {
  export interface ProvidedContext {
    functionBundles: Record<string, SharedBundle>;
    functionSdkCalls: Record<string, SharedSdkCalls>;
    /** cfn-lint's version, '' when it is not installed. */
    cfnLintVersion: string;
  }
}

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The IAM checker's fixture stacks: analysed with the repository's functions. */
export const IAM_FIXTURE_ROOT = join(ROOT, 'tests/deploy/fixtures/iam');

/** A function's key in what the setup provides: its stack folder relative to the repository, and its id. */
export const functionKey = (fn: FunctionResource) => `${relative(ROOT, fn.stack.dir)}/${fn.functionId}`;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Each function's build spec; a function whose spec cannot be read gets its error instead. */
function specsOf(functions: FunctionResource[]) {
  const specs: { key: string; spec: ReturnType<typeof buildSpec> }[] = [];
  const errors: Record<string, { error: string }> = {};
  for (const fn of functions) {
    try {
      specs.push({ key: functionKey(fn), spec: buildSpec(fn) });
    } catch (err) {
      errors[functionKey(fn)] = { error: message(err) };
    }
  }
  return { specs, errors };
}

async function bundleAll(functions: FunctionResource[], out: string): Promise<Record<string, SharedBundle>> {
  const { specs, errors } = specsOf(functions);
  const bundles: Record<string, SharedBundle> = { ...errors };
  const keys = specs.map((s) => s.key);
  const built = await buildFunctions(specs.map((s) => s.spec), out, keys, ROOT);
  built.forEach((result, i) => {
    const key = keys[i]!;
    if (result instanceof Error) {
      bundles[key] = { error: result.message };
      return;
    }
    const metafilePath = join(out, `${key}.meta.json`);
    writeFileSync(metafilePath, JSON.stringify(result.metafile));
    bundles[key] = { entries: result.entries, metafilePath, handlerFile: result.handlerFile, handlerFileExports: result.handlerFileExports };
  });
  return bundles;
}

async function analyseAll(functions: FunctionResource[], out: string): Promise<Record<string, SharedSdkCalls>> {
  const { specs, errors } = specsOf(functions);
  const calls: Record<string, SharedSdkCalls> = { ...errors };
  const metafiles = await analysisMetafiles(specs.map((s) => s.spec), out);
  specs.forEach(({ key }, i) => {
    const metafile = metafiles[i]!;
    try {
      calls[key] = metafile instanceof Error ? { error: metafile.message } : { calls: sdkCalls(metafile) };
    } catch (err) {
      calls[key] = { error: message(err) };
    }
  });
  return calls;
}

export default async function setup(project: TestProject) {
  const out = mkdtempSync(join(tmpdir(), 'cr-deploy-setup-'));
  const repo = loadStacks(ROOT).stacks;
  const fixtures = loadStacks(IAM_FIXTURE_ROOT).stacks;
  const repoFunctions = repo.flatMap((stack) => serverlessFunctions(stack));
  const [bundles, calls, version] = await Promise.all([
    bundleAll(repoFunctions, join(out, 'bundles')),
    analyseAll([...repoFunctions, ...fixtures.flatMap((stack) => serverlessFunctions(stack))], join(out, 'analysis')),
    cfnLintVersionAsync().then((v) => v ?? ''),
    // Fills the translation cache the checks read (SAM's translator comes with cfn-lint; without it this fails
    // and is ignored); a template SAM cannot translate fails the test that reads it.
    transformedTemplates([...repo, ...fixtures].map((s) => s.templatePath)).catch(() => undefined),
  ]);
  project.provide('functionBundles', bundles);
  project.provide('functionSdkCalls', calls);
  project.provide('cfnLintVersion', version);
  return () => rmSync(out, { recursive: true, force: true });
}
