import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { awsCallTimerDeps } from '../edges/aws-call-timer-deps.ts';
import { logger as sharedLogger } from '../../../layers/observability/logger.ts';
import { parseTimerCheck } from '../engine/continuity/call-timer.ts';
import { onTimerDue, type TimerDeps, type TimerOutcome } from '../engine/continuity/timer-due.ts';
import { countTableErrors } from './counted-edges.ts';
import { countMetric, flushMetrics } from './turn-metrics.ts';
import { lazy } from '../../../layers/runtime/lazy.ts';

/** Metrics per outcome that an operator watches (the rest are routine: stale checks, early arrivals). */
const COUNTED: Partial<Record<TimerOutcome, string>> = {
  reprompted: 'SilenceReprompts',
  'hung-up': 'SilenceHangUps',
  ended: 'GraceExpiries',
  forwarded: 'KeypadTimeouts',
};

/**
 * The call timer's consumer: each SQS message is one check (silence, keypad entry, reconnect grace) that has
 * waited out its delay. The records of a batch belong to different calls and run side by side, so one call's
 * check never waits behind another's. A malformed message is logged and dropped (retrying cannot fix it); a check
 * that fails is reported as a batch item failure, so SQS retries it (a retried check is harmless: the ledger
 * answers a stale one with nothing).
 */
export function createCallTimerHandler(deps: TimerDeps) {
  const log = deps.log ?? sharedLogger;
  const store = countTableErrors(deps.store);
  const run = async (record: SQSRecord): Promise<boolean> => {
    const parsed = parseTimerCheck(record.body);
    if (!parsed.ok) {
      log.error('malformed call timer check dropped', { messageId: record.messageId, detail: parsed.detail });
      return true;
    }
    const { check } = parsed;
    try {
      const outcome = await onTimerDue({ ...deps, store, log }, check);
      // A silence check forwarded to $default is counted there, as the reprompt it becomes.
      const metric = outcome === 'forwarded' && check.kind !== 'digits' ? undefined : COUNTED[outcome];
      if (metric) countMetric(metric);
      return true;
    } catch (err) {
      log.error('call timer check failed; SQS will retry it', { error: err as Error, sessionId: check.sessionId, kind: check.kind });
      return false;
    }
  };
  return async function onCallTimer(event: SQSEvent): Promise<SQSBatchResponse> {
    try {
      const done = await Promise.all(event.Records.map(run));
      return { batchItemFailures: event.Records.filter((_, i) => !done[i]).map((r) => ({ itemIdentifier: r.messageId })) };
    } finally {
      flushMetrics();
    }
  };
}

const callTimerHandler = lazy(() => createCallTimerHandler(awsCallTimerDeps()));

/** The Lambda entry point: AWS deps built once per container, on the first invocation. */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => callTimerHandler()(event);
