import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSpec } from '../../scripts/lib/function-build.ts';
import { functionStatements, grants, resourceProblems, transformedTemplate } from '../../scripts/lib/iam.ts';
import { analysisMetafiles, sdkCalls } from '../../scripts/lib/sdk-calls.ts';
import { loadStacks, serverlessFunctions } from '../../scripts/lib/stacks.ts';
import { IAM_FIXTURE_ROOT } from './global-setup.ts';
import { CFN_LINT_MISSING, cfnLint, functionSdkCalls, repoStacks } from './support.ts';

// The IAM analysis on a fixture whose policy is wrong both ways, so the repository check can be trusted.
describe('IAM analysis (fixture stack)', () => {
  const work = mkdtempSync(join(tmpdir(), 'cr-iam-fixture-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const [stack] = loadStacks(IAM_FIXTURE_ROOT).stacks;
  const [fn] = serverlessFunctions(stack!);
  const actions = (calls: { actions: string[] }[]) => calls.map((c) => c.actions.join('+'));

  it('finds exactly the SDK calls the code reaches (data layer tree-shaken to GetItem, plus SSM)', async () => {
    expect(actions(await functionSdkCalls(fn!))).toEqual(['dynamodb:GetItem', 'ssm:GetParameter']);
  }, 120_000);

  it('analyses functions that share one build apart: each sees only the calls its own code reaches', async () => {
    // The fixture built with a repository function's options, so both land in one esbuild run.
    const neighbour = serverlessFunctions(repoStacks().stacks.find((s) => s.folder === '02_cr-application')!).find((f) => f.functionId === 'ConnectFunction')!;
    const other = buildSpec(neighbour);
    const own = buildSpec(fn!);
    const results = await analysisMetafiles([{ ...own, properties: { ...other.properties, EntryPoints: own.properties.EntryPoints } }, other], work);
    const [fixture, connect] = results.map((m) => {
      if (m instanceof Error) throw m;
      return actions(sdkCalls(m));
    });
    expect(fixture).toEqual(['dynamodb:GetItem', 'ssm:GetParameter']);
    // The neighbour makes calls the fixture does not (PutItem, UpdateItem, GetConnection), and the same ones as in
    // the global setup's run with every other function.
    const shared = actions(await functionSdkCalls(neighbour));
    expect(shared).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'execute-api:ManageConnections']));
    expect(connect).toEqual(shared);
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
