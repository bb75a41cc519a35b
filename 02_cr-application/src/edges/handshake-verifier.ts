import { verifyHandshake, type HandshakeEvent } from '../../../layers/security/handshake.ts';

export type HandshakeVerifier = (event: HandshakeEvent) => Promise<boolean>;

/**
 * Checks X-Twilio-Signature on the WebSocket handshake. The auth token and the public URL (the one call setup put
 * in the TwiML) are resolved lazily, once, so a cold $connect pays for SSM only when it is first needed.
 */
export function twilioHandshakeVerifier(settings: () => Promise<{ authToken: string; publicUrl: string }>): HandshakeVerifier {
  let resolved: Promise<{ authToken: string; publicUrl: string }> | undefined;
  return async (event) => {
    resolved ??= settings().catch((err: unknown) => {
      resolved = undefined;
      throw err;
    });
    const options = await resolved;
    return verifyHandshake(event, options);
  };
}
