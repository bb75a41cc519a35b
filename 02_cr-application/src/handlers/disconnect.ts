import { awsDisconnectDeps } from '../edges/aws-disconnect-deps.ts';
import { logger as sharedLogger } from '../../../layers/observability/logger.ts';
import type { CallTimer } from '../engine/continuity/call-timer.ts';
import { disconnected, type LedgerAndEnd } from '../engine/continuity/connection.ts';
import { armGrace } from '../engine/continuity/grace.ts';
import { systemClock, type Clock, type Store } from '../engine/ports.ts';
import { countTableErrors } from './counted-edges.ts';
import { countMetric, flushMetrics } from './turn-metrics.ts';
import { invocationContext, type HandlerLogger, type LambdaContextLike, type RouteResult, type WebSocketEvent } from './websocket-event.ts';
import { lazy } from '../../../layers/runtime/lazy.ts';

export interface DisconnectDeps {
  store: Pick<Store, 'sessionIdForConnection' | 'callSidOf'> & LedgerAndEnd;
  /** Ends a held call when its grace passes with no reconnect; without it, only a late reconnect ends it. */
  callTimer?: CallTimer | undefined;
  clock?: Pick<Clock, 'now'>;
  log?: HandlerLogger;
}

/**
 * $disconnect: the socket closed. A call that reconnects dropped sockets keeps its session for the grace (a reply
 * streaming to the closed socket stops; the turn ledger decides), and the call timer ends it when the grace passes
 * with no reconnect (engine/continuity/grace.ts); otherwise, as after a hang-up, the session is
 * marked ended (TTL removes it later). The close of a connection a reconnect already replaced changes nothing.
 */
export function createDisconnectHandler(deps: DisconnectDeps) {
  const log = deps.log ?? sharedLogger;
  const store = countTableErrors(deps.store);
  const clock = deps.clock ?? systemClock;
  const beginInvocation = invocationContext(log);
  return async function disconnect(event: WebSocketEvent, context?: LambdaContextLike): Promise<RouteResult> {
    const connectionId = event.requestContext.connectionId;
    beginInvocation(context);
    log.appendKeys({ connectionId });
    try {
      const sessionId = await store.sessionIdForConnection(connectionId);
      if (!sessionId) {
        log.info('disconnect of a connection bound to no session');
        return { statusCode: 200 };
      }
      log.appendKeys({ sessionId });
      const reason = event.requestContext.disconnectReason ? `disconnected: ${event.requestContext.disconnectReason}` : 'disconnected';
      // The call SID is read alongside (only for the logs): a failed read must not stop the session's end.
      const epoch = event.requestContext.requestTimeEpoch;
      const at = typeof epoch === 'number' ? epoch : clock.now();
      const [callSid, outcome] = await Promise.all([
        store.callSidOf(sessionId).catch(() => undefined),
        disconnected({ store }, sessionId, connectionId, at, reason),
      ]);
      if (callSid) log.appendKeys({ callSid });
      const code = event.requestContext.disconnectStatusCode;
      if (outcome.type === 'held') {
        log.info('connection dropped; the call may reconnect', { code, graceUntil: new Date(outcome.graceUntil).toISOString() });
        const endpoint = { domainName: event.requestContext.domainName, stage: event.requestContext.stage };
        await armGrace({ timer: deps.callTimer, log }, { sessionId, gen: outcome.gen, dueAt: outcome.graceUntil, endpoint });
      }
      else if (outcome.type === 'stale') log.info('a replaced connection closed', { code });
      else log.info('caller disconnected', { code });
    } catch (err) {
      log.error('could not mark the session ended', { error: err as Error });
      countMetric('HandlerErrors');
    } finally {
      flushMetrics();
    }
    return { statusCode: 200 };
  };
}

const disconnectHandler = lazy(() => createDisconnectHandler(awsDisconnectDeps()));

/** The Lambda entry point: AWS deps built once per container, on the first invocation. */
export const handler = async (event: WebSocketEvent, context?: LambdaContextLike): Promise<RouteResult> => {
  return disconnectHandler()(event, context);
};
