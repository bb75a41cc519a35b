import { ConditionFailedError } from '../../../layers/data/errors.ts';
import { awsConnectDeps } from '../edges/aws-connect-deps.ts';
import { logger as sharedLogger } from '../../../layers/observability/logger.ts';
import { reconnect, recordFirstConnection, type ConnectionDeps, type ConnectionStore } from '../engine/continuity/connection.ts';
import { systemClock, type Clock } from '../engine/ports.ts';
import type { HandshakeVerifier } from '../edges/handshake-verifier.ts';
import { countTableErrors } from './counted-edges.ts';
import { invocationContext, type HandlerLogger, type LambdaContextLike, type RouteResult, type WebSocketEvent } from './websocket-event.ts';
import { countMetric, flushMetrics } from './turn-metrics.ts';
import { lazy } from '../../../layers/runtime/lazy.ts';

export interface ConnectDeps {
  store: ConnectionStore;
  /** X-Twilio-Signature check of the handshake; tests pass a verifier with a test token and sign for real. */
  verifySignature: HandshakeVerifier;
  /** Asks API Gateway whether a connection is gone, for a reconnect that beats the old connection's $disconnect. */
  connectionGone?: ConnectionDeps['connectionGone'];
  clock?: Pick<Clock, 'now'>;
  log?: HandlerLogger;
}

/**
 * $connect: ConversationRelay opens the WebSocket with `?session=<id>` from the TwiML. A bad signature is
 * refused (403). The first connection binds its `created` session (the pointer later frames use) and is recorded
 * in the turn ledger; a later one is a reconnect, accepted only as the ledger decides (within the grace of a
 * dropped connection of a call that reconnects). An unknown, expired or ended session, or a refused reconnect,
 * gets 404.
 */
export function createConnectHandler(deps: ConnectDeps) {
  const log = deps.log ?? sharedLogger;
  const store = countTableErrors(deps.store);
  const clock = deps.clock ?? systemClock;
  const connection: ConnectionDeps = { store, connectionGone: deps.connectionGone, log };
  const beginInvocation = invocationContext(log);
  return async function connect(event: WebSocketEvent, context?: LambdaContextLike): Promise<RouteResult> {
    const connectionId = event.requestContext.connectionId;
    beginInvocation(context);
    log.appendKeys({ connectionId });
    try {
      let signed = false;
      try {
        signed = await deps.verifySignature(event);
      } catch (err) {
        log.error('could not check the handshake signature; refusing', { error: err as Error });
      }
      if (!signed) {
        log.warn('handshake refused: bad or missing X-Twilio-Signature');
        countMetric('HandshakeRefused');
        return { statusCode: 403 };
      }
      const sessionId = event.queryStringParameters?.session;
      if (!sessionId) {
        log.warn('handshake refused: no session in the URL');
        return { statusCode: 404 };
      }
      log.appendKeys({ sessionId });
      const epoch = event.requestContext.requestTimeEpoch;
      const at = typeof epoch === 'number' ? epoch : clock.now();
      try {
        const { callSid, reconnectGraceMs } = await store.bindConnection(sessionId, connectionId);
        log.appendKeys({ callSid });
        await recordFirstConnection(connection, sessionId, connectionId, at, reconnectGraceMs ?? 0);
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) {
          // Without its session the call cannot go on; Twilio reports the refused connection (64102).
          log.error('could not bind the connection to its session; refusing', { error: err as Error });
          return { statusCode: 404 };
        }
        // Not `created`: unknown, expired, ended, or a call reconnecting a dropped socket.
        const endpoint = { domainName: event.requestContext.domainName, stage: event.requestContext.stage };
        const outcome = await reconnect(connection, sessionId, connectionId, at, endpoint);
        if (!outcome.accepted) {
          log.warn('handshake refused: session unknown, expired, ended or already connected', { reason: outcome.reason });
          countMetric('HandshakeRefused');
          return { statusCode: 404 };
        }
        log.info('caller reconnected', { generation: outcome.gen, retired: outcome.retired });
        countMetric('Reconnects');
        return { statusCode: 200 };
      }
      log.info('caller connected');
      return { statusCode: 200 };
    } catch (err) {
      log.error('unexpected $connect failure; refusing', { error: err as Error });
      countMetric('HandlerErrors');
      return { statusCode: 404 };
    } finally {
      flushMetrics();
    }
  };
}

const connectHandler = lazy(() => createConnectHandler(awsConnectDeps()));

/** The Lambda entry point: AWS deps built once per container, on the first invocation. */
export const handler = async (event: WebSocketEvent, context?: LambdaContextLike): Promise<RouteResult> => {
  return connectHandler()(event, context);
};
