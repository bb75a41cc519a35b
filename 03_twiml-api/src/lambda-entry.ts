import type { Context } from 'aws-lambda';
import { logger } from '../../layers/observability/logger.ts';
import { twimlResult, type HttpEvent, type HttpResult } from './http.ts';
import { apologyTwiml } from './twiml.ts';

type RouteHandler = (event: HttpEvent) => Promise<HttpResult>;

/**
 * A Lambda entry point for a TwiML route: its AWS wiring is built once per container on first use, so a bad
 * setting is logged and the caller hears a short apology (valid TwiML) instead of Twilio's application error.
 */
export function twimlLambdaEntry(route: string, build: () => RouteHandler): (event: HttpEvent, context?: Context) => Promise<HttpResult> {
  let handler: RouteHandler | undefined;
  return async (event, context) => {
    if (context) logger.addContext(context);
    try {
      handler ??= build();
      return await handler(event);
    } catch (err) {
      logger.error(`${route} is misconfigured; the caller hears an apology`, { error: err as Error });
      return twimlResult(apologyTwiml());
    }
  };
}
