import { awsDisconnectDeps } from '../edges/aws-disconnect-deps.ts';
import { logger as sharedLogger } from '../../../layers/observability/logger.ts';
import type { Store } from '../engine/ports.ts';
import { countTableErrors } from './counted-edges.ts';
import { countMetric, flushMetrics } from './turn-metrics.ts';
import { invocationContext, type HandlerLogger, type LambdaContextLike, type RouteResult, type WebSocketEvent } from './websocket-event.ts';
import { lazy } from '../../../layers/runtime/lazy.ts';

export interface DisconnectDeps {
  store: Pick<Store, 'sessionIdForConnection' | 'endSession' | 'callSidOf'>;
  log?: HandlerLogger;
}

/** $disconnect: the caller hung up or the session ended; the session is marked ended (TTL removes it later). */
export function createDisconnectHandler(deps: DisconnectDeps) {
  const log = deps.log ?? sharedLogger;
  const store = countTableErrors(deps.store);
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
      const [callSid] = await Promise.all([store.callSidOf(sessionId).catch(() => undefined), store.endSession(sessionId, reason)]);
      if (callSid) log.appendKeys({ callSid });
      log.info('caller disconnected', { code: event.requestContext.disconnectStatusCode });
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
