import { twilioWebhooks } from './twilio-webhooks.ts';

/**
 * X-Twilio-Signature for webhooks: base64 HMAC-SHA1, keyed with the account's auth token, over the exact URL
 * Twilio requested followed by the POST parameters sorted by name (name immediately followed by value).
 * The URL must be the public one Twilio called, query string included, not whatever a proxy rewrote it to.
 */
export type FormParams = Record<string, string | string[]>;

export type SignatureVerdict = { valid: true } | { valid: false; reason: 'missing-signature' | 'no-auth-token' | 'invalid-signature' };

export interface WebhookRequest {
  /** The X-Twilio-Signature header as received. */
  signature: string | undefined;
  /** The public URL Twilio requested, with its query string. */
  url: string;
  /** The form-encoded POST parameters; empty for a GET or a WebSocket handshake. */
  params: FormParams;
}

export function verifyTwilioSignature(authToken: string, request: WebhookRequest): SignatureVerdict {
  if (!request.signature) return { valid: false, reason: 'missing-signature' };
  if (!authToken) return { valid: false, reason: 'no-auth-token' };
  let valid = false;
  try {
    valid = twilioWebhooks().validateRequest(authToken, request.signature, request.url, request.params);
  } catch {
    // A malformed URL makes the helper throw; for us that is simply not a valid signature.
    valid = false;
  }
  return valid ? { valid: true } : { valid: false, reason: 'invalid-signature' };
}

/**
 * The signature Twilio would send for this request. The local runtime and the terminal caller sign their own
 * requests with it, so the same validation runs locally as in AWS.
 */
export function signTwilioRequest(authToken: string, url: string, params: FormParams = {}): string {
  return twilioWebhooks().getExpectedTwilioSignature(authToken, url, params);
}

/** Form body -> parameters; a repeated name becomes a list, as Twilio's own helpers expect. */
export function parseFormBody(body: string): FormParams {
  const params: FormParams = {};
  for (const [name, value] of new URLSearchParams(body)) {
    const existing = params[name];
    if (existing === undefined) params[name] = value;
    else params[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return params;
}
