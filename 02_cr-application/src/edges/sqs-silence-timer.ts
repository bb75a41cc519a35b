import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SilenceTimer } from '../engine/continuity/silence.ts';

/** SQS holds a message back for at most 15 minutes; longer silences are checked again when the message arrives. */
export const MAX_DELAY_SECONDS = 900;

/**
 * The silence timer in AWS: one message on an SQS queue, delayed until the check is due (per-message DelaySeconds,
 * rounded up to the second). Nothing runs, and nothing is paid for, while it waits; a check that arrives early is
 * sent again for the rest of the wait, and one that arrives after the caller spoke finds nothing to do.
 */
export function createSqsSilenceTimer(client: SQSClient, queueUrl: string, now: () => number = Date.now): SilenceTimer {
  return {
    async schedule(check) {
      const delay = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((check.dueAt - now()) / 1000)));
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(check), DelaySeconds: delay }));
    },
  };
}
