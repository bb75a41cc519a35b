import { describe, expect, it } from 'vitest';
import { buildSpec } from '../../scripts/lib/function-build.ts';
import { functionStatements, grants, resourceProblems, transformedTemplate } from '../../scripts/lib/iam.ts';
import { analysisRunKey, sdkCalls } from '../../scripts/lib/sdk-calls.ts';
import { loadStacks, serverlessFunctions } from '../../scripts/lib/stacks.ts';
import { IAM_FIXTURE_ROOT } from './global-setup.ts';
import { builtFunction, CFN_LINT_MISSING, cfnLint, functionSdkCalls, repoStacks } from './support.ts';

// The IAM analysis on a fixture whose policy is wrong both ways, so the repository check can be trusted.
describe('IAM analysis (fixture stack)', () => {
  const [stack] = loadStacks(IAM_FIXTURE_ROOT).stacks;
  const [fn] = serverlessFunctions(stack!);
  const actions = (calls: { actions: string[] }[]) => calls.map((c) => c.actions.join('+'));

  it('finds exactly the SDK calls the code reaches (data layer tree-shaken to GetItem, plus SSM)', async () => {
    expect(actions(await functionSdkCalls(fn!))).toEqual(['dynamodb:GetItem', 'ssm:GetParameter']);
  }, 120_000);

  it('sees only the function\'s own calls when it shares an esbuild run with functions that make many more', async () => {
    // The fixture has the repository functions' build options, so the global setup analyses it in their run.
    const repoFunctions = repoStacks().stacks.flatMap((s) => serverlessFunctions(s));
    const sameRun = repoFunctions.filter((f) => analysisRunKey(buildSpec(f)) === analysisRunKey(buildSpec(fn!)));
    expect(sameRun.length).toBeGreaterThan(1);
    const theirs = new Set((await Promise.all(sameRun.map(functionSdkCalls))).flatMap(actions));
    expect([...theirs]).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'lambda:InvokeFunction']));
    expect(actions(await functionSdkCalls(fn!))).toEqual(['dynamodb:GetItem', 'ssm:GetParameter']);
  });

  it('reads what the code calls, not what the deployed bundle keeps: lib-dynamodb (no sideEffects in its package.json) keeps Query and Scan through its paginators in every bundle', async () => {
    // The call-setup whisper only reads a session, through the document client. Both results come from the
    // deploy project's setup: the bundle as `sam build` makes it, and the analysis.
    const whisper = serverlessFunctions(repoStacks().stacks.find((s) => s.folder === '03_twiml-api')!).find((f) => f.functionId === 'WhisperFunction')!;
    const bundle = (await builtFunction(whisper)).metafile;
    const kept = (file: RegExp) => Object.values(bundle.outputs).some((o) => Object.entries(o.inputs).some(([path, i]) => file.test(path) && i.bytesInOutput > 0));
    expect(kept(/@aws-sdk\/lib-dynamodb\/dist-es\/pagination\/QueryPaginator\.js$/)).toBe(true);
    expect(kept(/@aws-sdk\/lib-dynamodb\/dist-es\/pagination\/ScanPaginator\.js$/)).toBe(true);
    expect(actions(sdkCalls(bundle))).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan']));
    expect(actions(await functionSdkCalls(whisper))).toEqual(['dynamodb:GetItem', 'ssm:GetParameter']);
  });

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
