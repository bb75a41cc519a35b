import { resolveIfs } from './iam.ts';
import { render } from './intrinsics.ts';
import type { FunctionResource } from './stacks.ts';

/**
 * A function's environment variables as CloudFormation will set them: Globals merged, every `Fn::If` resolved with
 * the stack's deployed parameter values, `AWS::NoValue` dropped; values rendered (what exists only after
 * deployment stays symbolic, e.g. `${Import:cr-dynamodb-TableName}`).
 */
export function functionEnvironment(fn: FunctionResource): Record<string, string> {
  const env = resolveIfs(fn.properties.Environment, fn.stack.template, fn.stack) as { Variables?: Record<string, unknown> } | undefined;
  return Object.fromEntries(Object.entries(env?.Variables ?? {}).map(([k, v]) => [k, render(v, fn.stack)]));
}

/** NODE_OPTIONS as Lambda will start node for this function ('' when unset). */
export function lambdaNodeOptions(fn: FunctionResource): string {
  return functionEnvironment(fn).NODE_OPTIONS ?? '';
}
