import { verifyHandshake, type HandshakeEvent } from '../../../layers/security/handshake.ts';

export type HandshakeVerifier = (event: HandshakeEvent) => Promise<boolean>;

/** The auth token as the verifier needs it: the cached value, and a re-read when a signature does not verify. */
export interface AuthTokenSource {
  get(): Promise<string>;
  refresh(): Promise<string>;
}

export interface HandshakeSettings {
  authToken: AuthTokenSource;
  /** The URL call setup puts in the TwiML (the handshake signature covers it). */
  publicUrl: () => string;
}

/** A token that never rotates (the local runtime, tests): settings resolved once, on first use. */
export type FixedHandshakeSettings = () => Promise<{ authToken: string; publicUrl: string }>;

/**
 * Checks X-Twilio-Signature on the WebSocket handshake. The token is read lazily, so a cold $connect pays for SSM
 * only when it is first needed. A signature that does not verify with the cached token is checked once more with
 * the token read again (rate-limited by the source): right after a rotation, warm containers still hold the old
 * one, and refusing every call until it expires would take the line down.
 */
export function twilioHandshakeVerifier(settings: HandshakeSettings | FixedHandshakeSettings): HandshakeVerifier {
  const { authToken, publicUrl } = typeof settings === 'function' ? fixed(settings) : settings;
  return async (event) => {
    const token = await authToken.get();
    const url = publicUrl();
    if (verifyHandshake(event, { authToken: token, publicUrl: url })) return true;
    const fresh = await authToken.refresh();
    return fresh !== token && verifyHandshake(event, { authToken: fresh, publicUrl: url });
  };
}

function fixed(settings: FixedHandshakeSettings): HandshakeSettings {
  let resolved: Promise<{ authToken: string; publicUrl: string }> | undefined;
  let url = '';
  const load = () =>
    (resolved ??= settings().then(
      (s) => ((url = s.publicUrl), s),
      (err: unknown) => {
        resolved = undefined;
        throw err;
      },
    ));
  const token = async () => (await load()).authToken;
  return { authToken: { get: token, refresh: token }, publicUrl: () => url };
}
