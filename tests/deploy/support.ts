import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cfnLintVersion } from '../../scripts/lib/cfn-lint.ts';
import { loadStacks, type StackInventory } from '../../scripts/lib/stacks.ts';

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
  version: cfnLintVersion(),
  required: process.env.REQUIRE_CFN_LINT === '1',
};
export const CFN_LINT_MISSING = 'cfn-lint is not installed (pip install cfn-lint): template lint and IAM checks skipped';

/** The esbuild banner every function carries: bundled CommonJS code and layer packages need a real `require`. */
export const BANNER = "js=import { createRequire } from 'module'; const require = createRequire(import.meta.url);";
