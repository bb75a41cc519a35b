import { LambdaClient } from '@aws-sdk/client-lambda';
import type { TimerDeps } from '../engine/continuity/timer-due.ts';
import { systemClock } from '../engine/ports.ts';
import { logger } from '../../../layers/observability/logger.ts';
import { awsTable } from './aws-table.ts';
import { connectionsSinkFactory } from './connections-sink.ts';
import { createDynamoStore } from './dynamo-store.ts';
import { awsCallTimer } from './sqs-call-timer.ts';
import { createLambdaTimerForward } from './lambda-timer-forward.ts';

/** The call timer consumer's dependencies in AWS; built on the first invocation. */
export function awsCallTimerDeps(env: NodeJS.ProcessEnv = process.env): TimerDeps {
  const timer = awsCallTimer(env);
  if (!timer) throw new Error('CALL_TIMER_QUEUE_URL is not set: it is the queue the call timer checks wait in');
  const engine = env.DEFAULT_FUNCTION_NAME;
  if (!engine) throw new Error('DEFAULT_FUNCTION_NAME is not set: a keypad entry that times out runs its turn there');
  return {
    store: createDynamoStore(awsTable()),
    sinkFor: connectionsSinkFactory(env),
    timer,
    clock: systemClock,
    log: logger,
    runInEngine: createLambdaTimerForward(new LambdaClient({}), engine),
  };
}
