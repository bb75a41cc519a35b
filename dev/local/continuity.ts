import { connectionGoneProbe } from '../../02_cr-application/src/edges/connection-probe.ts';
import { inProcessSilenceTimer, onSilenceDue, type SilenceTimer } from '../../02_cr-application/src/engine/continuity/silence.ts';
import type { ConnectionsEndpoint, Sink, Store } from '../../02_cr-application/src/engine/ports.ts';
import { systemClock, type Clock } from '../../02_cr-application/src/engine/ports.ts';
import { logger } from '../../layers/observability/logger.ts';

/**
 * Call continuity on this machine: the silence timer runs its checks in process (the same code the SQS consumer
 * runs in AWS), and $connect asks the local gateway's @connections API whether a dropped connection is gone.
 * `stop()` cancels every pending check, so stopping the runtime leaves no timer behind.
 */
export interface LocalContinuity {
  silenceTimer: SilenceTimer;
  connectionGone: (connectionId: string, endpoint: ConnectionsEndpoint) => Promise<boolean>;
  stop(): void;
}

export function localContinuity(store: Store, sinkFor: (endpoint: ConnectionsEndpoint) => Sink, connectionsEndpoint: string): LocalContinuity {
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
  const silenceTimer: SilenceTimer = inProcessSilenceTimer(clock, (check) =>
    stopped ? Promise.resolve() : onSilenceDue({ store, sinkFor, timer: silenceTimer, clock, log: logger }, check).catch((err: unknown) => logger.error('silence check failed', { error: err as Error })),
  );
  return {
    silenceTimer,
    connectionGone: connectionGoneProbe({ CONNECTIONS_ENDPOINT: connectionsEndpoint, AWS_REGION: 'local' }),
    stop() {
      stopped = true;
      for (const cancel of pending) cancel();
      pending.clear();
    },
  };
}
