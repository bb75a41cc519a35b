import { describe, expect, it } from 'vitest';
import { signedHandshakeUrl, verifyHandshake, type HandshakeEvent } from '../../layers/security/handshake.ts';
import { signTwilioRequest } from '../../layers/security/webhook.ts';

const TOKEN = 'handshake-token-8c1d2e';
const PUBLIC_URL = 'wss://ws789.execute-api.us-east-1.amazonaws.com/prod';
const SESSION = '01JDX7K9Q2M4ZP8W3T6R5Y1N0B';

/** A $connect event as API Gateway delivers it, signed over the URL ConversationRelay opened. */
function connectEvent(options: { signedUrl?: string; token?: string; query?: Record<string, string>; signature?: string | null; headerName?: string } = {}): HandshakeEvent {
  const query = options.query ?? { session: SESSION };
  const signedUrl = options.signedUrl ?? `${PUBLIC_URL}?session=${SESSION}`;
  const headers: Record<string, string> = { Host: 'ws789.execute-api.us-east-1.amazonaws.com', 'Sec-WebSocket-Version': '13' };
  const signature = options.signature === undefined ? signTwilioRequest(options.token ?? TOKEN, signedUrl) : options.signature;
  if (signature !== null) headers[options.headerName ?? 'X-Twilio-Signature'] = signature;
  return { headers, queryStringParameters: query };
}

describe('WebSocket handshake signature ($connect)', () => {
  const verify = (event: HandshakeEvent) => verifyHandshake(event, { authToken: TOKEN, publicUrl: PUBLIC_URL });

  it('accepts a handshake signed over the exact wss:// URL with its query string', () => {
    expect(verify(connectEvent())).toBe(true);
    expect(verify(connectEvent({ headerName: 'x-twilio-signature' }))).toBe(true);
  });

  it('rebuilds the signed URL from the public URL and the query string', () => {
    expect(signedHandshakeUrl(connectEvent(), PUBLIC_URL)).toBe(`${PUBLIC_URL}?session=${SESSION}`);
    expect(signedHandshakeUrl({ queryStringParameters: null }, PUBLIC_URL)).toBe(PUBLIC_URL);
  });

  it('refuses a missing signature', () => {
    expect(verify(connectEvent({ signature: null }))).toBe(false);
    expect(verify({})).toBe(false);
  });

  it('refuses a tampered signature', () => {
    const event = connectEvent();
    const sig = event.headers!['X-Twilio-Signature']!;
    event.headers!['X-Twilio-Signature'] = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    expect(verify(event)).toBe(false);
  });

  it('refuses a signature made with another token, and refuses everything without a token', () => {
    expect(verify(connectEvent({ token: 'other-token' }))).toBe(false);
    expect(verifyHandshake(connectEvent(), { authToken: '', publicUrl: PUBLIC_URL })).toBe(false);
  });

  it('refuses a signature over another URL (another stage, host or session)', () => {
    expect(verify(connectEvent({ signedUrl: `wss://ws789.execute-api.us-east-1.amazonaws.com/dev?session=${SESSION}` }))).toBe(false);
    expect(verify(connectEvent({ signedUrl: `wss://evil.example.test/prod?session=${SESSION}` }))).toBe(false);
    expect(verify(connectEvent({ signedUrl: `${PUBLIC_URL}?session=01OTHERSESSION` }))).toBe(false);
  });

  it('refuses an extra query parameter that was not signed', () => {
    expect(verify(connectEvent({ query: { session: SESSION, admin: '1' } }))).toBe(false);
  });

  it('refuses a session id swapped after signing', () => {
    expect(verify(connectEvent({ query: { session: '01OTHERSESSION' } }))).toBe(false);
  });
});
