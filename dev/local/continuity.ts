import { connectionGoneProbe } from '../../02_cr-application/src/edges/connection-probe.ts';
import { inProcessCallTimer, type CallTimer, type EngineCheck } from '../../02_cr-application/src/engine/continuity/call-timer.ts';
import { onTimerDue } from '../../02_cr-application/src/engine/continuity/timer-due.ts';
import type { ConnectionsEndpoint, Sink, Store } from '../../02_cr-application/src/engine/ports.ts';
import { systemClock, type Clock } from '../../02_cr-application/src/engine/ports.ts';
import { logger } from '../../layers/observability/logger.ts';

/**
 * Call continuity on this machine: the call timer runs its checks in process (the same code the SQS consumer
 * runs in AWS; a keypad entry's timeout goes to the $default handler, as the consumer's async invocation does),
 * and $connect asks the local gateway's @connections API whether a dropped connection is gone. `stop()` cancels
 * every pending check, so stopping the runtime leaves no timer behind.
 */
export interface LocalContinuity {
  callTimer: CallTimer;
  connectionGone: (connectionId: string, endpoint: ConnectionsEndpoint) => Promise<boolean>;
  stop(): void;
}

export function localContinuity(
  store: Store,
  sinkFor: (endpoint: ConnectionsEndpoint) => Sink,
  connectionsEndpoint: string,
  runInEngine: (check: EngineCheck) => Promise<unknown>,
): LocalContinuity {
  const pending = new Set<() => void>();
  let stopped = false;
  // The system clock, with every timer remembered until it fires or the runtime stops.
  const clock: Clock = {
    now: () => systemClock.now(),
    setTimer(ms, fn) {
      const cancel = systemClock.setTimer(ms, () => {
        pending.delete(cancel);
        fn();
      });
      pending.add(cancel);
      return cancel;
    },
  };
  const callTimer: CallTimer = inProcessCallTimer(clock, (check) =>
    stopped
      ? Promise.resolve()
      : onTimerDue({ store, sinkFor, timer: callTimer, clock, log: logger, runInEngine }, check).catch((err: unknown) =>
          logger.error('call timer check failed', { error: err as Error, kind: check.kind }),
        ),
  );
  return {
    callTimer,
    connectionGone: connectionGoneProbe({ CONNECTIONS_ENDPOINT: connectionsEndpoint, AWS_REGION: 'local' }),
    stop() {
      stopped = true;
      for (const cancel of pending) cancel();
      pending.clear();
    },
  };
}
