import type { Context } from 'aws-lambda';
import { tableFromEnv } from '../data/table.ts';
import { createLambdaMessageSender } from '../messaging/lambda-message-sender.ts';
import { logger } from '../observability/logger.ts';
import type { ToolOutcome } from './contract.ts';
import type { ToolDefinition, ToolDeps } from './define-tool.ts';
import { describeIssues } from './describe-issues.ts';
import { ToolInvocationSchema } from './invocation-schema.ts';
import { createToolbox } from './toolbox.ts';

export type ToolLambdaHandler = (event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>) => Promise<ToolOutcome>;

/** Time kept back before Lambda's own timeout so the handler can still answer with a `timeout` outcome. */
const LAMBDA_TIMEOUT_MARGIN_MS = 500;

/**
 * One Lambda per use case: the payload of the engine's Invoke is a ToolInvocation, the response a ToolOutcome.
 * Dependencies are built once per container, on first use, from TABLE_NAME and SEND_MESSAGE_FUNCTION.
 * The handler never throws: a throw would reach the engine as a FunctionError with no message for the caller.
 */
export function toLambdaHandler(tools: readonly ToolDefinition[], options: { deps?: () => ToolDeps } = {}): ToolLambdaHandler {
  const toolbox = createToolbox(tools);
  let deps: ToolDeps | undefined;
  return async (event, context) => {
    const parsed = ToolInvocationSchema.safeParse(event);
    if (!parsed.success) {
      logger.error('malformed tool invocation', { issues: parsed.error.issues });
      return { ok: false, error: { code: 'invalid_arguments', message: `Malformed tool invocation: ${describeIssues(parsed.error.issues, event)}` } };
    }
    const invocation = parsed.data;
    try {
      deps ??= (options.deps ?? depsFromEnv)();
    } catch (err) {
      logger.error('tool function is misconfigured', { error: err as Error });
      return { ok: false, error: { code: 'failed', message: 'The tool is not available right now.' } };
    }
    logger.appendKeys({ sessionId: invocation.caller.sessionId, callSid: invocation.caller.callSid, tool: invocation.tool, callId: invocation.callId });
    try {
      const remaining = context?.getRemainingTimeInMillis?.();
      const signal = remaining ? AbortSignal.timeout(Math.max(1, remaining - LAMBDA_TIMEOUT_MARGIN_MS)) : undefined;
      return await toolbox.run(invocation, signal ? { ...deps, signal } : deps);
    } finally {
      logger.removeKeys(['sessionId', 'callSid', 'tool', 'callId']);
    }
  };
}

function depsFromEnv(): ToolDeps {
  const functionName = process.env.SEND_MESSAGE_FUNCTION;
  return {
    table: tableFromEnv(),
    logger,
    messages: functionName
      ? createLambdaMessageSender({ functionName })
      : {
          send: () => Promise.reject(new Error('SEND_MESSAGE_FUNCTION is not set: this tool function cannot send messages')),
        },
  };
}
