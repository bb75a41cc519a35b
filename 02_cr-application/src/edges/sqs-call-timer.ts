import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { CallTimer } from '../engine/continuity/call-timer.ts';

/** SQS holds a message back for at most 15 minutes; a check due later is sent again when this one arrives. */
export const MAX_DELAY_SECONDS = 900;

/**
 * The call timer in AWS: one message on an SQS queue per check, delayed until it is due (per-message
 * DelaySeconds, rounded up to the second). Nothing runs, and nothing is paid for, while it waits; a check that
 * arrives early is sent again for the rest of the wait, and one made stale meanwhile finds nothing to do.
 */
export function createSqsCallTimer(client: SQSClient, queueUrl: string, now: () => number = Date.now): CallTimer {
  return {
    async schedule(check) {
      const delay = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((check.dueAt - now()) / 1000)));
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(check), DelaySeconds: delay }));
    },
  };
}

/** The call timer of a function whose environment names the queue (CALL_TIMER_QUEUE_URL); undefined when unset. */
export function awsCallTimer(env: NodeJS.ProcessEnv = process.env): CallTimer | undefined {
  const queueUrl = env.CALL_TIMER_QUEUE_URL;
  return queueUrl ? createSqsCallTimer(new SQSClient({}), queueUrl) : undefined;
}
