import type { IncomingMessage, ServerResponse } from 'node:http';
import { logger } from '../../layers/observability/logger.ts';
import {
  httpAnswer,
  httpApiEvent,
  INTERNAL_SERVER_ERROR,
  NOT_FOUND,
  PAYLOAD_TOO_LARGE,
  SERVICE_UNAVAILABLE,
  type HttpAnswer,
  type MatchedRoute,
} from './http-api-event.ts';
import type { Integrations } from './integration.ts';
import { readBody } from './request-body.ts';
import type { HttpRoute } from './types.ts';

/** The HTTP API: routes matched by method and path, each call one Lambda-style invocation. */

/** HTTP APIs accept request bodies up to 10 MB. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

interface CompiledRoute {
  route: HttpRoute;
  method: string;
  pattern: RegExp;
  parameterNames: string[];
  routeKey: string;
}

function compile(route: HttpRoute): CompiledRoute {
  const parameterNames: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const greedy = /^\{(\w+)\+\}$/.exec(segment);
      if (greedy) {
        parameterNames.push(greedy[1]!);
        return '(.+)';
      }
      const single = /^\{(\w+)\}$/.exec(segment);
      if (single) {
        parameterNames.push(single[1]!);
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  const method = route.method.toUpperCase();
  return { route, method, pattern: new RegExp(`^${source}$`), parameterNames, routeKey: `${method} ${route.path}` };
}

export class HttpApi {
  private readonly routes: CompiledRoute[];

  constructor(
    routes: HttpRoute[],
    private readonly integrations: Integrations,
  ) {
    this.routes = routes.map(compile);
  }

  handle(request: IncomingMessage, response: ServerResponse, pathname: string): void {
    const match = this.match(request.method ?? 'GET', pathname);
    if (!match) {
      request.resume();
      return send(response, NOT_FOUND);
    }
    readBody(request, MAX_BODY_BYTES, (body) => {
      if (!body) return send(response, PAYLOAD_TOO_LARGE);
      const event = httpApiEvent(request, body, match.matched);
      const { requestId } = event.requestContext;
      this.integrations.invoke(
        () => match.route.handler(event),
        (outcome) => {
          if (outcome.kind === 'abandoned') return;
          if (outcome.kind === 'timed-out') {
            logger.error('HTTP route handler timed out', { routeKey: match.matched.routeKey, requestId });
            return send(response, SERVICE_UNAVAILABLE, requestId);
          }
          if (outcome.kind === 'threw') {
            logger.error('HTTP route handler failed', { routeKey: match.matched.routeKey, requestId, error: outcome.error as Error });
            return send(response, INTERNAL_SERVER_ERROR, requestId);
          }
          const answer = httpAnswer(outcome.value);
          if (!answer) logger.error('HTTP route handler returned a malformed result', { routeKey: match.matched.routeKey, requestId });
          send(response, answer ?? INTERNAL_SERVER_ERROR, requestId);
        },
      );
    });
  }

  private match(method: string, pathname: string): { route: HttpRoute; matched: MatchedRoute } | undefined {
    for (const compiled of this.routes) {
      if (compiled.method !== 'ANY' && compiled.method !== method.toUpperCase()) continue;
      const found = compiled.pattern.exec(pathname);
      if (!found) continue;
      const matched: MatchedRoute = { routeKey: compiled.routeKey };
      if (compiled.parameterNames.length) {
        matched.pathParameters = Object.fromEntries(
          compiled.parameterNames.map((name, i) => [name, safeDecode(found[i + 1]!)]),
        );
      }
      return { route: compiled.route, matched };
    }
    return undefined;
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function send(response: ServerResponse, answer: HttpAnswer, requestId?: string): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(answer.status, {
    ...answer.headers,
    'content-length': answer.body.length,
    ...(requestId ? { 'apigw-requestid': requestId } : {}),
  });
  response.end(answer.body);
}
