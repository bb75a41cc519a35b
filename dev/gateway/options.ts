import { z } from 'zod';
import type { ExtraHandler, GatewayOptions, HttpRoute, PostLatency, WebSocketRoutes } from './types.ts';

/** Checks the gateway's options once at start, so a typo fails loudly instead of as a strange 404 later. */

const isFunction = (value: unknown) => typeof value === 'function';

export const PostLatencySchema = z.union([
  z.number().nonnegative().finite(),
  z.custom<(connectionId: string) => number>(isFunction, 'a function of the connection id'),
]);

const GatewayOptionsSchema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(0),
  stage: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'a stage is one path segment of letters, digits, - and _')
    .default('ws'),
  websocket: z
    .custom<WebSocketRoutes>(
      (v) =>
        typeof v === 'object' &&
        v !== null &&
        ['connect', 'message', 'disconnect'].every((k) => isFunction((v as Record<string, unknown>)[k])),
      'connect, message and disconnect handlers',
    )
    .optional(),
  httpRoutes: z
    .array(
      z.custom<HttpRoute>(
        (v) =>
          typeof v === 'object' &&
          v !== null &&
          typeof (v as HttpRoute).method === 'string' &&
          typeof (v as HttpRoute).path === 'string' &&
          (v as HttpRoute).path.startsWith('/') &&
          isFunction((v as HttpRoute).handler),
        'a route { method, path starting with /, handler }',
      ),
    )
    .default([]),
  postLatencyMs: PostLatencySchema.default(0),
  integrationTimeoutMs: z.number().positive().finite().default(29_000),
  extra: z
    .custom<ExtraHandler>((v) => typeof v === 'object' && v !== null && isFunction((v as ExtraHandler).request) && isFunction((v as ExtraHandler).upgrade), 'request and upgrade handlers')
    .optional(),
});

export interface ResolvedGatewayOptions {
  host: string;
  port: number;
  stage: string;
  websocket?: WebSocketRoutes;
  httpRoutes: HttpRoute[];
  postLatencyMs: PostLatency;
  integrationTimeoutMs: number;
  extra?: ExtraHandler;
}

export function resolveGatewayOptions(options: GatewayOptions): ResolvedGatewayOptions {
  const parsed = GatewayOptionsSchema.safeParse(options);
  if (!parsed.success) throw new Error(`startGateway: invalid options: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
