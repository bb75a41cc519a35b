import { parseFormBody, verifyTwilioSignature, type FormParams } from '../../layers/security/webhook.ts';
import { forbiddenResult, header, requestBody, type HttpEvent, type HttpResult } from './http.ts';
import { requestUrl } from './public-url.ts';
import type { AppLogger } from '../../layers/observability/logger.ts';

export type SignedRequest = { ok: true; params: FormParams; url: string } | { ok: false; result: HttpResult };

/**
 * Reads a Twilio webhook and accepts it only with a valid X-Twilio-Signature over its public URL and form
 * parameters. A refusal is a 403 and a warning; the caller of this function writes nothing in that case.
 */
export async function readSignedRequest(
  event: HttpEvent,
  options: {
    authToken: () => Promise<string>;
    /** Reads the token again (rate-limited); tried once when a signature does not verify with the cached one. */
    refreshAuthToken?: (() => Promise<string>) | undefined;
    publicBaseUrl?: string | undefined;
    logger: AppLogger;
    route: string;
  },
): Promise<SignedRequest> {
  const url = requestUrl(event, options.publicBaseUrl);
  const params = parseFormBody(requestBody(event));
  const request = { signature: header(event, 'x-twilio-signature'), url, params };
  const token = await options.authToken();
  let verdict = verifyTwilioSignature(token, request);
  // Right after a rotation, warm containers still hold the old token: one re-read before refusing Twilio.
  if (verdict.valid === false && verdict.reason === 'invalid-signature' && options.refreshAuthToken) {
    const fresh = await options.refreshAuthToken();
    if (fresh !== token) verdict = verifyTwilioSignature(fresh, request);
  }
  if (verdict.valid) return { ok: true, params, url };
  options.logger.warn('Refused an unsigned or wrongly signed request', {
    route: options.route,
    reason: verdict.reason,
    url,
    callSid: single(params.CallSid),
    sourceIp: event.requestContext?.http?.sourceIp,
  });
  return { ok: false, result: forbiddenResult() };
}

/** One value of a form parameter (Twilio never repeats the ones we read). */
export function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Form parameters as plain strings, for zod. */
export function flatParams(params: FormParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    const value = single(v);
    if (value !== undefined) out[k] = value;
  }
  return out;
}
