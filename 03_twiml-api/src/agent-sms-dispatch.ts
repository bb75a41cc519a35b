import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { AgentSmsRequest } from './agent-sms-request.ts';

/**
 * How the `<Connect action>` callback hands the agent's text off without making the caller wait for Twilio's
 * Messages API. `dispatch` resolves once the request is handed over, never once the text is sent.
 */
export interface AgentSmsDispatcher {
  dispatch(request: AgentSmsRequest): Promise<void>;
}

/**
 * AWS: an asynchronous (`Event`) invocation of the agent-SMS function, the mechanism $default already uses for a
 * slow tool round. Lambda queues the event and answers 202 at once; the function retries on its own. The client
 * is created on the first handoff.
 */
export function lambdaAgentSmsDispatcher(functionName: string, client?: LambdaClient): AgentSmsDispatcher {
  let lambda = client;
  return {
    async dispatch(request) {
      lambda ??= new LambdaClient({});
      const out = await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: JSON.stringify(request) }));
      if (out.StatusCode !== 202) throw new Error(`the agent-SMS function ${functionName} did not accept the event (status ${out.StatusCode})`);
    },
  };
}

/**
 * Locally: the same work in this process, started and not awaited (the runtime tracks it, so a test or shutdown
 * can wait for it). `run` never rejects into the callback: a failure is reported through `onError`.
 */
export function inProcessAgentSmsDispatcher(run: (request: AgentSmsRequest) => Promise<unknown>, onError: (err: unknown) => void): AgentSmsDispatcher {
  return {
    dispatch(request) {
      void run(request).catch(onError);
      return Promise.resolve();
    },
  };
}
