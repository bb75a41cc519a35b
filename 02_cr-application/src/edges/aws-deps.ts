import { LambdaClient } from '@aws-sdk/client-lambda';
import { loadSecrets } from '../../../layers/config/secrets.ts';
import { tableFromEnv, type Table } from '../../../layers/data/table.ts';
import type { ConnectDeps } from '../handlers/connect.ts';
import type { DefaultDeps } from '../handlers/default.ts';
import type { DisconnectDeps } from '../handlers/disconnect.ts';
import { connectionsSinkFactory } from './connections-sink.ts';
import { createDynamoStore } from './dynamo-store.ts';
import { twilioHandshakeVerifier } from './handshake-verifier.ts';
import { createLambdaContinuation } from './lambda-continuation.ts';
import { createLambdaToolInvoker } from './lambda-tools.ts';
import { createOpenAiLlm } from './openai-llm.ts';

/**
 * The handlers' dependencies in AWS, from the function's environment. Built once per container (the handlers
 * call these on their first invocation); SDK clients are reused across invocations.
 */
let table: Table | undefined;
const awsTable = () => (table ??= tableFromEnv());

export function awsConnectDeps(env: NodeJS.ProcessEnv = process.env): ConnectDeps {
  return {
    store: createDynamoStore(awsTable()),
    verifySignature: twilioHandshakeVerifier(async () => {
      const publicUrl = env.WEBSOCKET_URL;
      if (!publicUrl) throw new Error('WEBSOCKET_URL is not set: it is the URL call setup puts in the TwiML');
      return { authToken: (await loadSecrets(env)).twilioAuthToken, publicUrl };
    }),
  };
}

export function awsDefaultDeps(env: NodeJS.ProcessEnv = process.env): DefaultDeps {
  const lambda = new LambdaClient({});
  const deps: DefaultDeps = {
    store: createDynamoStore(awsTable()),
    llm: createOpenAiLlm({
      baseURL: env.OPENAI_BASE_URL || undefined,
      apiKey: async () => (await loadSecrets(env)).openaiApiKey,
      defaultModel: env.OPENAI_MODEL ?? 'gpt-4o-mini',
    }),
    tools: createLambdaToolInvoker(lambda),
    sinkFor: connectionsSinkFactory(env),
  };
  if (env.AWS_LAMBDA_FUNCTION_NAME) deps.continuation = createLambdaContinuation(lambda, env.AWS_LAMBDA_FUNCTION_NAME);
  return deps;
}

export function awsDisconnectDeps(): DisconnectDeps {
  return { store: createDynamoStore(awsTable()) };
}
