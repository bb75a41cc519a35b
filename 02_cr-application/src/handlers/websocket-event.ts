import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { AppLogger } from '../../../layers/observability/logger.ts';

/**
 * The parts of API Gateway's WebSocket proxy event the handlers read ($connect carries headers and the query
 * string; $default the frame in `body`). Declared here because @types/aws-lambda's WebSocket type omits them.
 */
export interface WebSocketEvent {
  requestContext: {
    connectionId: string;
    routeKey?: string;
    eventType?: string;
    domainName?: string;
    stage?: string;
    requestTimeEpoch?: number;
    disconnectStatusCode?: number;
    disconnectReason?: string;
  };
  headers?: Record<string, string | undefined> | null;
  queryStringParameters?: Record<string, string | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
}

/** What a WebSocket route returns. Never a body: API Gateway would forward it to Twilio (error 64107). */
export interface RouteResult {
  statusCode: 200 | 401 | 403 | 404;
}

/** Lambda's context in AWS; the local runtime passes none (or only a deadline). */
export type LambdaContextLike = Partial<Context>;

/** The shared Powertools logger is one; tests may pass a plain AppLogger without `addContext`. */
export type HandlerLogger = AppLogger & Partial<Pick<Logger, 'addContext'>>;

/**
 * Starts each invocation's log context for one route handler: the previous call's keys dropped, the Lambda context
 * added (Powertools sets cold_start and the request id), or locally, where there is none, our own cold-start flag.
 * Returns whether this invocation is the handler's first (a cold start).
 */
export function invocationContext(log: HandlerLogger): (context: LambdaContextLike | undefined) => boolean {
  let first = true;
  return (context) => {
    const coldStart = first;
    first = false;
    log.removeKeys(CALL_LOG_KEYS);
    if (context?.awsRequestId && log.addContext) log.addContext(context as Context);
    else log.appendKeys({ cold_start: coldStart });
    return coldStart;
  };
}

export function frameText(event: WebSocketEvent): string | undefined {
  if (typeof event.body !== 'string') return undefined;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

export const CALL_LOG_KEYS = ['callSid', 'sessionId', 'connectionId', 'turn'];
