import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { awsSilenceDeps } from '../edges/aws-silence-deps.ts';
import { logger as sharedLogger } from '../../../layers/observability/logger.ts';
import { onSilenceDue, SilenceCheckSchema, type SilenceDeps } from '../engine/continuity/silence.ts';
import { countTableErrors } from './counted-edges.ts';
import { countMetric, flushMetrics } from './turn-metrics.ts';
import { lazy } from '../../../layers/runtime/lazy.ts';

/**
 * The silence timer's consumer: each SQS message is one silence check that has waited out its delay. A malformed
 * message is logged and dropped (retrying cannot fix it); a check that fails on the table is reported as a batch
 * item failure, so SQS retries it (a retried check is harmless: the ledger answers a stale one with nothing).
 */
export function createSilenceHandler(deps: SilenceDeps) {
  const log = deps.log ?? sharedLogger;
  const store = countTableErrors(deps.store);
  return async function onSilence(event: SQSEvent): Promise<SQSBatchResponse> {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    try {
      for (const record of event.Records) {
        let body: unknown;
        try {
          body = JSON.parse(record.body);
        } catch {
          body = undefined;
        }
        const parsed = SilenceCheckSchema.safeParse(body);
        if (!parsed.success) {
          log.error('malformed silence check dropped', { messageId: record.messageId, detail: parsed.success ? undefined : parsed.error.message });
          continue;
        }
        try {
          const outcome = await onSilenceDue({ ...deps, store, log }, parsed.data);
          if (outcome === 'reprompted') countMetric('SilenceReprompts');
          if (outcome === 'hung-up') countMetric('SilenceHangUps');
        } catch (err) {
          log.error('silence check failed; SQS will retry it', { error: err as Error, sessionId: parsed.data.sessionId });
          batchItemFailures.push({ itemIdentifier: record.messageId });
        }
      }
    } finally {
      flushMetrics();
    }
    return { batchItemFailures };
  };
}

const silenceHandler = lazy(() => createSilenceHandler(awsSilenceDeps()));

/** The Lambda entry point: AWS deps built once per container, on the first invocation. */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => silenceHandler()(event);
