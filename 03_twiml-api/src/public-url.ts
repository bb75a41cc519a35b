import { header, type HttpEvent } from './http.ts';

/**
 * The public URLs of this API. Twilio signs the URL it requested, so the check must use that URL, not the one
 * API Gateway or the local runtime routed internally: scheme from `x-forwarded-proto` (else https), host from the
 * `host` header (else the request context's domain), the stage unless it is `$default`, then the path and the
 * query string exactly as received. A custom domain (or the local runtime) sets PUBLIC_BASE_URL instead.
 */
export function publicBaseUrl(event: HttpEvent, override?: string): string {
  if (override) return override.replace(/\/+$/, '');
  const proto = header(event, 'x-forwarded-proto')?.split(',')[0]?.trim() || 'https';
  const host = header(event, 'host') || event.requestContext?.domainName;
  if (!host) throw new Error('cannot rebuild the public URL: the request has no host header and no domain name');
  return `${proto}://${host}${stagePrefix(event)}`;
}

/** The full URL Twilio requested, query string included. */
export function requestUrl(event: HttpEvent, override?: string): string {
  const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
  return `${publicBaseUrl(event, override)}${routePath(event)}${query}`;
}

/** Path below the stage: HTTP API puts a named stage in rawPath, the local runtime does not. */
export function routePath(event: HttpEvent): string {
  const raw = event.rawPath || '/';
  const prefix = stagePrefix(event);
  if (prefix && (raw === prefix || raw.startsWith(`${prefix}/`))) return raw.slice(prefix.length) || '/';
  return raw;
}

function stagePrefix(event: HttpEvent): string {
  const stage = event.requestContext?.stage;
  return stage && stage !== '$default' ? `/${stage}` : '';
}

/** Where Twilio posts when the ConversationRelay session ends; the session id rides along. */
export function connectActionUrl(base: string, sessionId: string): string {
  return `${base}/connect-action?session=${encodeURIComponent(sessionId)}`;
}

/** The WebSocket URL for one session; `$connect` verifies the signature over exactly this string. */
export function sessionWebSocketUrl(websocketUrl: string, sessionId: string): string {
  return `${websocketUrl}?session=${encodeURIComponent(sessionId)}`;
}

/** Where Twilio asks, once the agent answers a handoff, what to whisper to them; the session id rides along. */
export function whisperUrl(base: string, sessionId: string): string {
  return `${base}/whisper?session=${encodeURIComponent(sessionId)}`;
}
