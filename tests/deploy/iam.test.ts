import { describe, expect, it } from 'vitest';
import { functionStatements, grants, resourceProblems, RESOURCE_SHAPE, transformedTemplate, type Statement } from '../../scripts/lib/iam.ts';
import { render } from '../../scripts/lib/intrinsics.ts';
import type { SdkCall } from '../../scripts/lib/sdk-calls.ts';
import { serverlessFunctions, type Stack } from '../../scripts/lib/stacks.ts';
import type { Template } from '../../scripts/lib/cfn-yaml.ts';
import { CFN_LINT_MISSING, cfnLint, functionSdkCalls, repoStacks } from './support.ts';

/**
 * Every AWS API call a function's code can make (the SDK commands its bundle keeps) is allowed by the role SAM
 * will create for it, on our resources, and the role grants nothing broader: no `*` action, no `*` resource
 * where the service lets you name one, no API action of a mapped service that the code never calls.
 */
// Actions that IAM cannot scope to a resource, or that the managed basic execution role grants for logging.
const RESOURCE_STAR_OK = /^(logs:(CreateLogGroup|CreateLogStream|PutLogEvents)|xray:(PutTraceSegments|PutTelemetryRecords|GetSampling\w+)|cloudwatch:PutMetricData)$/;

const { stacks, missing } = repoStacks();

const transformed = new Map<string, Promise<Template>>();
const transform = (stack: Stack) => {
  if (!transformed.has(stack.folder)) transformed.set(stack.folder, transformedTemplate(stack.templatePath));
  return transformed.get(stack.folder)!;
};

describe('IAM: the code\'s AWS calls are allowed, and nothing broader', () => {
  for (const m of missing) it.skip(`${m.folder}: no template.yaml yet`, () => undefined);
  if (!cfnLint.version) {
    if (cfnLint.required) it('the SAM translator (cfn-lint) is installed (REQUIRE_CFN_LINT=1)', () => expect.fail(CFN_LINT_MISSING));
    else it.skip(CFN_LINT_MISSING, () => undefined);
    return;
  }

  for (const stack of stacks) {
    for (const fn of serverlessFunctions(stack)) {
      const name = `${stack.folder}/${fn.functionId}`;
      let facts: Promise<{ calls: SdkCall[]; statements: Statement[] }> | undefined;
      const load = () =>
        (facts ??= (async () => ({
          // The project's global setup analyses every function's bundle once per run.
          calls: await functionSdkCalls(fn),
          statements: functionStatements(await transform(stack), fn.functionId, stack),
        }))());

      it(`${name}: every SDK call its code makes is granted on our resources`, async () => {
        const { calls, statements } = await load();
        const problems: string[] = [];
        for (const call of calls) {
          const granted = call.actions.filter((a) => grants(statements, a).length > 0);
          if (call.anyOf ? granted.length === 0 : granted.length < call.actions.length) {
            problems.push(`${call.client} ${call.command}Command needs ${call.actions.join(call.anyOf ? ' or ' : ' and ')}: not granted`);
          }
          for (const action of granted) problems.push(...resourceProblems(action, grants(statements, action)));
        }
        expect(problems).toEqual([]);
      }, 120_000);

      it(`${name}: grants no wildcard action, no "*" resource that could be named, no API its code never calls`, async () => {
        const { calls, statements } = await load();
        const called = new Set(calls.flatMap((c) => c.actions));
        const problems: string[] = [];
        for (const s of statements) {
          for (const action of s.actions) {
            if (action === '*' || action.endsWith(':*')) problems.push(`${action} (${s.source})`);
            const service = action.split(':')[0]!;
            if (s.resources.includes('*') && !RESOURCE_STAR_OK.test(action)) problems.push(`${action} on "*" (${s.source})`);
            // Services whose calls we can see: a grant without a call is privilege nobody needs.
            if (service in RESOURCE_SHAPE && !action.includes('*') && !called.has(action)) {
              problems.push(`${action} is granted but the bundle makes no such call (${s.source})`);
            }
          }
        }
        expect(problems).toEqual([]);
      }, 120_000);
    }
  }

  // ConversationRelay's engine (02) invokes the use cases' tool functions by a naming convention, not a list.
  it('every tool function is named so that the engine\'s lambda:InvokeFunction grant covers it', async () => {
    const tools = stacks.flatMap((s) =>
      serverlessFunctions(s)
        .map((fn) => (fn.properties.FunctionName === undefined ? '' : render(fn.properties.FunctionName, s)))
        .filter((n) => /-tools-/.test(n)),
    );
    const patterns: string[] = [];
    for (const stack of stacks) {
      for (const fn of serverlessFunctions(stack)) {
        const statements = functionStatements(await transform(stack), fn.functionId, stack);
        for (const s of grants(statements, 'lambda:InvokeFunction')) patterns.push(...s.resources.filter((r) => /:function:.*-tools-/.test(r)));
      }
    }
    if (!tools.length || !patterns.length) {
      expect(missing.length, 'tool functions and the engine\'s invoke grant exist once all stacks are there').toBeGreaterThan(0);
      return;
    }
    const covered = (tool: string) => patterns.some((p) => new RegExp(`:function:${p.split(':function:')[1]!.replace(/[.$^{}()|[\]\\+?]/g, '\\$&').replace(/\*/g, '.*')}$`).test(`:function:${tool}`));
    expect(tools.filter((t) => !covered(t))).toEqual([]);
  }, 120_000);
});
