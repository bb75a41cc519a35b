import { createRequire } from 'node:module';
import type TwilioSdk from 'twilio';
import type BaseRequestClient from 'twilio/lib/base/RequestClient.js';
import { MessageSendError, OutgoingMessageSchema, type MessageSender } from '../../layers/messaging/message-sender.ts';
import type { TwilioMessagingConfig } from './twilio-config.ts';


/**
 * The full SDK, loaded at run time rather than bundled: in Lambda it comes from the shared-dependencies layer
 * (01_dynamodb, on NODE_PATH, which createRequire honours). This is the one function that loads all of it.
 */
const twilio = createRequire(import.meta.url)('twilio') as typeof TwilioSdk;

/**
 * Twilio's supported extension point for transport: a RequestClient passed as `httpClient`. This one sends every
 * request to another host that speaks the same API (the wire-level test server); path, auth and body are untouched.
 */
export class RedirectingRequestClient extends twilio.RequestClient {
  readonly #baseUrl: string;
  constructor(baseUrl: string) {
    super({ autoRetry: false });
    this.#baseUrl = baseUrl.replace(/\/$/, '');
  }
  override request<TData>(opts: BaseRequestClient.RequestOptions<TData>) {
    const url = new URL(opts.uri);
    return super.request<TData>({ ...opts, uri: `${this.#baseUrl}${url.pathname}${url.search}` });
  }
}

interface TwilioRestError {
  status?: number;
  code?: number;
  message?: string;
  moreInfo?: string;
}

function isTwilioRestError(err: unknown): err is TwilioRestError {
  return typeof err === 'object' && err !== null && typeof (err as TwilioRestError).status === 'number' && 'code' in err;
}

/** Sends through Twilio's Messages API; a refusal (bad number, unverified sender...) becomes a MessageSendError. */
export function createTwilioSender(config: TwilioMessagingConfig): MessageSender {
  const client = twilio(config.accountSid, config.authToken, {
    ...(config.apiBaseUrl ? { httpClient: new RedirectingRequestClient(config.apiBaseUrl) } : {}),
  });
  return {
    async send(message) {
      const { to, body, channel } = OutgoingMessageSchema.parse(message);
      const address = (n: string) => (channel === 'whatsapp' ? `whatsapp:${n}` : n);
      const sender = config.messagingServiceSid
        ? { messagingServiceSid: config.messagingServiceSid }
        : { from: address(config.fromNumber ?? '') };
      try {
        const sent = await client.messages.create({ to: address(to), body, ...sender });
        return { status: sent.status, sid: sent.sid, delivered: true };
      } catch (err) {
        if (isTwilioRestError(err)) {
          const code = typeof err.code === 'number' ? err.code : undefined;
          throw new MessageSendError(`Twilio refused the message${code ? ` (error ${code})` : ''}: ${err.message ?? 'no reason given'}`, {
            twilioCode: code,
            status: err.status,
            cause: err,
          });
        }
        throw err;
      }
    },
  };
}
