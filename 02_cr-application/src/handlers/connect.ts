import { ConditionFailedError } from '../../../layers/data/errors.ts';
import { awsConnectDeps } from '../edges/aws-connect-deps.ts';
import { logger as sharedLogger } from '../../../layers/observability/logger.ts';
import type { Store } from '../engine/ports.ts';
import type { HandshakeVerifier } from '../edges/handshake-verifier.ts';
import { countTableErrors } from './counted-edges.ts';
import { invocationContext, type HandlerLogger, type LambdaContextLike, type RouteResult, type WebSocketEvent } from './websocket-event.ts';
import { countMetric, flushMetrics } from './turn-metrics.ts';
import { lazy } from '../../../layers/runtime/lazy.ts';

export interface ConnectDeps {
  store: Pick<Store, 'bindConnection'>;
  /** X-Twilio-Signature check of the handshake; tests pass a verifier with a test token and sign for real. */
  verifySignature: HandshakeVerifier;
  log?: HandlerLogger;
}

/**
 * $connect: ConversationRelay opens the WebSocket with `?session=<id>` from the TwiML. A bad signature is
 * refused (403); a session that is unknown, expired or already bound is refused (404); otherwise the connection
 * is bound to the session (the pointer later frames use) and accepted.
 */
export function createConnectHandler(deps: ConnectDeps) {
  const log = deps.log ?? sharedLogger;
  const store = countTableErrors(deps.store);
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
      try {
        const { callSid } = await store.bindConnection(sessionId, connectionId);
        log.appendKeys({ callSid });
      } catch (err) {
        if (err instanceof ConditionFailedError) {
          log.warn('handshake refused: session unknown, expired or already connected');
        } else {
          // Without its session the call cannot go on; Twilio reports the refused connection (64102).
          log.error('could not bind the connection to its session; refusing', { error: err as Error });
        }
        return { statusCode: 404 };
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
