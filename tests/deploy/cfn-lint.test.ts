import { describe, expect, it } from 'vitest';
import { cfnLint as runCfnLint } from '../../scripts/lib/cfn-lint.ts';
import { CFN_LINT_MISSING, cfnLint, repoStacks, ROOT } from './support.ts';

// Zero errors and zero warnings; anything ignored is ignored in .cfnlintrc.yaml, with the reason beside it.
describe('cfn-lint (with the SAM translator) on every template', () => {
  const { stacks, missing } = repoStacks();
  for (const m of missing) it.skip(`${m.folder}: no template.yaml yet`, () => undefined);

  if (!cfnLint.version) {
    if (cfnLint.required) it('cfn-lint is installed (REQUIRE_CFN_LINT=1)', () => expect.fail(CFN_LINT_MISSING));
    else it.skip(CFN_LINT_MISSING, () => undefined);
    return;
  }

  let findings: Awaited<ReturnType<typeof runCfnLint>> | undefined;
  const lintAll = async () => (findings ??= await runCfnLint(stacks.map((s) => s.templatePath), ROOT));

  for (const stack of stacks) {
    it(`${stack.folder}/template.yaml has no errors or warnings`, async () => {
      const mine = (await lintAll()).filter((f) => f.file.endsWith(`${stack.folder}/template.yaml`) && f.level !== 'Informational');
      expect(mine.map((f) => `${f.level} ${f.rule} line ${f.line}: ${f.message}`)).toEqual([]);
    }, 120_000);
  }
});
