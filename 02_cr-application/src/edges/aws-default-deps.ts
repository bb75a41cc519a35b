import { LambdaClient } from '@aws-sdk/client-lambda';
import { secret } from '../../../layers/config/secrets.ts';
import type { DefaultDeps } from '../handlers/default.ts';
import { awsTable } from './aws-table.ts';
import { connectionsSinkFactory } from './connections-sink.ts';
import { createDynamoStore } from './dynamo-store.ts';
import { createLambdaContinuation } from './lambda-continuation.ts';
import { createLambdaToolInvoker } from './lambda-tools.ts';
import { createOpenAiLlm } from './openai-llm.ts';
import { awsCallTimer } from './sqs-call-timer.ts';

/**
 * $default's dependencies in AWS, from the function's environment; built on the first invocation, SDK clients
 * reused across invocations. The continuation invokes this same function (AWS_LAMBDA_FUNCTION_NAME).
 */
export function awsDefaultDeps(env: NodeJS.ProcessEnv = process.env): DefaultDeps {
  const lambda = new LambdaClient({});
  const deps: DefaultDeps = {
    store: createDynamoStore(awsTable()),
    llm: createOpenAiLlm({
      baseURL: env.OPENAI_BASE_URL || undefined,
      // Only the OpenAI key: $default never checks a Twilio signature, so it neither reads nor may read the token.
      apiKey: () => secret('openaiApiKey').get(),
      defaultModel: env.OPENAI_MODEL || 'gpt-4o-mini',
    }),
    tools: createLambdaToolInvoker(lambda),
    sinkFor: connectionsSinkFactory(env),
  };
  const callTimer = awsCallTimer(env);
  if (callTimer) deps.callTimer = callTimer;
  if (env.AWS_LAMBDA_FUNCTION_NAME) deps.continuation = createLambdaContinuation(lambda, env.AWS_LAMBDA_FUNCTION_NAME);
  return deps;
}
