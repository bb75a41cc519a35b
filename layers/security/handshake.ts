import { headerValue, twilioWebhooks } from './twilio-webhooks.ts';

/**
 * ConversationRelay signs the WebSocket handshake like a webhook: X-Twilio-Signature over the exact wss:// URL
 * the TwiML gave (query string included) with no POST parameters. API Gateway hands us the parts; the public
 * URL is rebuilt from the configured WebSocket URL (what call setup put in the TwiML) plus the query string.
 */
export interface HandshakeEvent {
  headers?: Record<string, string | undefined> | null;
  queryStringParameters?: Record<string, string | undefined> | null;
}

export interface HandshakeOptions {
  authToken: string;
  /** The WebSocket URL call setup advertises, without query string (e.g. wss://abc.execute-api.../prod). */
  publicUrl: string;
}

/** The URL Twilio signed: our public WebSocket URL plus the query string it connected with. */
export function signedHandshakeUrl(event: HandshakeEvent, publicUrl: string): string {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined) query.append(k, v);
  const qs = query.toString();
  return qs ? `${publicUrl}?${qs}` : publicUrl;
}

export function verifyHandshake(event: HandshakeEvent, options: HandshakeOptions): boolean {
  const signature = headerValue(event.headers, 'x-twilio-signature');
  if (!signature || !options.authToken) return false;
  try {
    return twilioWebhooks().validateRequest(options.authToken, signature, signedHandshakeUrl(event, options.publicUrl), {});
  } catch {
    // An unparseable URL cannot carry a valid signature; refusing is the only safe answer.
    return false;
  }
}
