import { awsDisconnectDeps } from '../edges/aws-disconnect-deps.ts';
import { logger as sharedLogger, type AppLogger } from '../../../layers/observability/logger.ts';
import type { Store } from '../engine/ports.ts';
import { flushMetrics } from './turn-metrics.ts';
import { CALL_LOG_KEYS, type RouteResult, type WebSocketEvent } from './websocket-event.ts';

export interface DisconnectDeps {
  store: Pick<Store, 'sessionIdForConnection' | 'endSession'>;
  log?: AppLogger;
}

/** $disconnect: the caller hung up or the session ended; the session is marked ended (TTL removes it later). */
export function createDisconnectHandler(deps: DisconnectDeps) {
  const log = deps.log ?? sharedLogger;
  return async function disconnect(event: WebSocketEvent): Promise<RouteResult> {
    const connectionId = event.requestContext.connectionId;
    log.removeKeys(CALL_LOG_KEYS);
    log.appendKeys({ connectionId });
    try {
      const sessionId = await deps.store.sessionIdForConnection(connectionId);
      if (!sessionId) {
        log.info('disconnect of a connection bound to no session');
        return { statusCode: 200 };
      }
      log.appendKeys({ sessionId });
      const reason = event.requestContext.disconnectReason ? `disconnected: ${event.requestContext.disconnectReason}` : 'disconnected';
      await deps.store.endSession(sessionId, reason);
      log.info('caller disconnected', { code: event.requestContext.disconnectStatusCode });
    } catch (err) {
      log.error('could not mark the session ended', { error: err as Error });
    } finally {
      flushMetrics();
    }
    return { statusCode: 200 };
  };
}

let disconnectHandler: ReturnType<typeof createDisconnectHandler> | undefined;

/** The Lambda entry point: AWS deps built once per container, on the first invocation. */
export const handler = async (event: WebSocketEvent): Promise<RouteResult> => {
  if (!disconnectHandler) {
    disconnectHandler = createDisconnectHandler(awsDisconnectDeps());
  }
  return disconnectHandler(event);
};
