import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { headerValue } from '../../layers/security/twilio-webhooks.ts';

/** API Gateway HTTP API (payload 2.0): what AWS hands the functions and what the local runtime builds. */
export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

export function header(event: HttpEvent, name: string): string | undefined {
  return headerValue(event.headers, name);
}

/** The raw request body; API Gateway base64-encodes form posts by default. */
export function requestBody(event: HttpEvent): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/** TwiML always goes out as 200 text/xml: anything else makes Twilio speak an application error. */
export function twimlResult(twiml: string): HttpResult {
  return { statusCode: 200, headers: { 'content-type': 'text/xml; charset=utf-8' }, body: twiml };
}

/** For requests that are not from Twilio: no TwiML, no detail. */
export function forbiddenResult(): HttpResult {
  return { statusCode: 403, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Forbidden' };
}
