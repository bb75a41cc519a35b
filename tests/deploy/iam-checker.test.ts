import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSpec } from '../../scripts/lib/function-build.ts';
import { functionStatements, grants, resourceProblems, transformedTemplate } from '../../scripts/lib/iam.ts';
import { analysisMetafile, sdkCalls } from '../../scripts/lib/sdk-calls.ts';
import { loadStacks, serverlessFunctions } from '../../scripts/lib/stacks.ts';
import { CFN_LINT_MISSING, cfnLint, ROOT } from './support.ts';

// The IAM analysis on a fixture whose policy is wrong both ways, so the repository check can be trusted.
describe('IAM analysis (fixture stack)', () => {
  const work = mkdtempSync(join(tmpdir(), 'cr-iam-fixture-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const [stack] = loadStacks(join(ROOT, 'tests/deploy/fixtures/iam')).stacks;
  const [fn] = serverlessFunctions(stack!);

  it('finds exactly the SDK calls the code reaches (data layer tree-shaken to GetItem, plus SSM)', async () => {
    const calls = sdkCalls(await analysisMetafile(buildSpec(fn!), work));
    expect(calls.map((c) => c.actions.join('+'))).toEqual(['dynamodb:GetItem', 'ssm:GetParameter']);
  }, 120_000);

  if (!cfnLint.version) {
    if (cfnLint.required) it('the SAM translator (cfn-lint) is installed', () => expect.fail(CFN_LINT_MISSING));
    else it.skip(CFN_LINT_MISSING, () => undefined);
    return;
  }

  it('reads the role SAM creates, and sees the missing grant and the "*" resource', async () => {
    const statements = functionStatements(await transformedTemplate(stack!.templatePath), fn!.functionId, stack!);
    expect(grants(statements, 'ssm:GetParameter')).toEqual([]);
    expect(grants(statements, 'dynamodb:GetItem')).toHaveLength(1);
    expect(resourceProblems('dynamodb:GetItem', grants(statements, 'dynamodb:GetItem'))).toEqual([
      'dynamodb:GetItem is granted on "*" (ReaderFunctionRole inline ReaderFunctionRolePolicy0)',
    ]);
    expect(statements.map((s) => s.source)).toContain('AWSLambdaBasicExecutionRole');
  }, 120_000);
});
