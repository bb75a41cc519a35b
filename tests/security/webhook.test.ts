import { describe, expect, it } from 'vitest';
import { parseFormBody, signTwilioRequest, verifyTwilioSignature } from '../../layers/security/webhook.ts';

const TOKEN = 'webhook-token-3a9f';
const URL_ = 'https://abc123.execute-api.us-east-1.amazonaws.com/call-setup';
const PARAMS = { CallSid: 'CA1', From: '+14065550101', To: '+14065550199', Caller: 'Ann & "Bo" <x>' };

describe('webhook signature', () => {
  it('matches the signature Twilio documents: HMAC-SHA1 over URL + sorted name/value pairs', async () => {
    const { createHmac } = await import('node:crypto');
    const data = URL_ + Object.keys(PARAMS).sort().map((k) => k + PARAMS[k as keyof typeof PARAMS]).join('');
    expect(signTwilioRequest(TOKEN, URL_, PARAMS)).toBe(createHmac('sha1', TOKEN).update(data).digest('base64'));
  });

  it('accepts a valid signature and names the reason for each refusal', () => {
    const signature = signTwilioRequest(TOKEN, URL_, PARAMS);
    expect(verifyTwilioSignature(TOKEN, { signature, url: URL_, params: PARAMS })).toEqual({ valid: true });
    expect(verifyTwilioSignature(TOKEN, { signature: undefined, url: URL_, params: PARAMS })).toEqual({ valid: false, reason: 'missing-signature' });
    expect(verifyTwilioSignature('', { signature, url: URL_, params: PARAMS })).toEqual({ valid: false, reason: 'no-auth-token' });
    expect(verifyTwilioSignature(TOKEN, { signature, url: URL_, params: { ...PARAMS, From: '+1999' } })).toEqual({ valid: false, reason: 'invalid-signature' });
    expect(verifyTwilioSignature(TOKEN, { signature, url: `${URL_}?x=1`, params: PARAMS })).toEqual({ valid: false, reason: 'invalid-signature' });
    expect(verifyTwilioSignature(TOKEN, { signature, url: 'not a url', params: PARAMS })).toEqual({ valid: false, reason: 'invalid-signature' });
  });

  it('accepts the URL with or without the default port, as Twilio may sign either', () => {
    const signature = signTwilioRequest(TOKEN, 'https://abc123.execute-api.us-east-1.amazonaws.com:443/call-setup', PARAMS);
    expect(verifyTwilioSignature(TOKEN, { signature, url: URL_, params: PARAMS }).valid).toBe(true);
  });

  it('parses form bodies like Twilio encodes them, repeated names as lists', () => {
    const body = new URLSearchParams([...Object.entries(PARAMS), ['Tag', 'a'], ['Tag', 'b'], ['Space', 'x y']]).toString();
    const parsed = parseFormBody(body.replace('x%20y', 'x+y'));
    expect(parsed).toEqual({ ...PARAMS, Tag: ['a', 'b'], Space: 'x y' });
    const signature = signTwilioRequest(TOKEN, URL_, parsed);
    expect(verifyTwilioSignature(TOKEN, { signature, url: URL_, params: parseFormBody(body) }).valid).toBe(true);
  });
});
