import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { CALL_TIMER_EVENT, type DigitsCheck, type TimerEvent } from '../engine/continuity/call-timer.ts';

/**
 * A keypad entry's timeout becomes a caller turn, and turns run in $default (its LLM key, its tools, its
 * continuation): the timer's consumer hands the check over as an async (`Event`) invocation. Lambda queues it and
 * retries it on failure; a retried check is harmless, the ledger ends an entry once.
 */
export function createLambdaTimerForward(client: LambdaClient, functionName: string): (check: DigitsCheck) => Promise<void> {
  return async (check) => {
    const event: TimerEvent = { source: CALL_TIMER_EVENT, check };
    await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: JSON.stringify(event) }));
  };
}
