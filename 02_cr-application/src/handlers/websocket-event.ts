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

export interface LambdaContextLike {
  getRemainingTimeInMillis?: () => number;
}

export function frameText(event: WebSocketEvent): string | undefined {
  if (typeof event.body !== 'string') return undefined;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

export const CALL_LOG_KEYS = ['callSid', 'sessionId', 'connectionId', 'turn'];
