import { SQSClient } from '@aws-sdk/client-sqs';
import type { SilenceDeps } from '../engine/continuity/silence.ts';
import { systemClock } from '../engine/ports.ts';
import { logger } from '../../../layers/observability/logger.ts';
import { awsTable } from './aws-table.ts';
import { connectionsSinkFactory } from './connections-sink.ts';
import { createDynamoStore } from './dynamo-store.ts';
import { createSqsSilenceTimer } from './sqs-silence-timer.ts';

/** The silence timer: its queue, from the function's environment (SILENCE_QUEUE_URL); undefined when unset. */
export function awsSilenceTimer(env: NodeJS.ProcessEnv = process.env) {
  const queueUrl = env.SILENCE_QUEUE_URL;
  return queueUrl ? createSqsSilenceTimer(new SQSClient({}), queueUrl) : undefined;
}

/** The silence consumer's dependencies in AWS; built on the first invocation. */
export function awsSilenceDeps(env: NodeJS.ProcessEnv = process.env): SilenceDeps {
  const timer = awsSilenceTimer(env);
  if (!timer) throw new Error('SILENCE_QUEUE_URL is not set: it is the queue the silence checks wait in');
  return { store: createDynamoStore(awsTable()), sinkFor: connectionsSinkFactory(env), timer, clock: systemClock, log: logger };
}
