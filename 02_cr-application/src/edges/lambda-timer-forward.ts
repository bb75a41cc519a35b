import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { CALL_TIMER_EVENT, type EngineCheck, type TimerEvent } from '../engine/continuity/call-timer.ts';

/**
 * A keypad entry's timeout becomes a caller turn, and a reprompt may be phrased by the LLM: both run in $default
 * (its LLM key, its tools, its continuation), so the timer's consumer hands the check over as an async (`Event`)
 * invocation. Lambda queues it and retries it on failure; a retried check is harmless, the ledger decides once.
 */
export function createLambdaTimerForward(client: LambdaClient, functionName: string): (check: EngineCheck) => Promise<void> {
  return async (check) => {
    const event: TimerEvent = { source: CALL_TIMER_EVENT, check };
    await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: JSON.stringify(event) }));
  };
}
