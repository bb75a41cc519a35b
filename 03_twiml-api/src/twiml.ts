import { createRequire } from 'node:module';
import { relayAttributeValues, stripControlCharacters, type ConversationRelaySettings } from '../../layers/data/relay-settings.ts';

/**
 * The TwiML this API returns, built with Twilio's own TwiML builder so every attribute value and every spoken
 * line is XML-escaped by one well-tested writer. The builder module is loaded alone (it pulls in only its base
 * class and xmlbuilder, ~13 ms), never the full SDK; like the webhook helpers it is not bundled, so `twilio` must be
 * resolvable at run time in Lambda.
 */
const requireCjs = createRequire(import.meta.url);
type VoiceResponseClass = typeof import('twilio/lib/twiml/VoiceResponse.js');
let VoiceResponseCtor: VoiceResponseClass | undefined;
function newResponse(): InstanceType<VoiceResponseClass> {
  VoiceResponseCtor ??= requireCjs('twilio/lib/twiml/VoiceResponse.js') as VoiceResponseClass;
  return new VoiceResponseCtor();
}

/** Spoken when anything goes wrong; short, because the caller is waiting. */
export const APOLOGY = "We're sorry, we can't take your call right now. Please try again later. Goodbye.";
export const GOODBYE = 'Thank you for calling. Goodbye.';
export const CONNECTING_TO_AGENT = 'Please hold while I connect you to a member of our team.';
export const NO_AGENT_AVAILABLE = "We're sorry, no one is available to take your call right now. Please try again later. Goodbye.";

export interface RelayTwimlInput {
  /** wss:// URL with the session id in its query string. */
  websocketUrl: string;
  /** Requested by Twilio when the ConversationRelay session ends. */
  actionUrl: string;
  settings: ConversationRelaySettings;
  /** Extra `<Parameter>`s (e.g. the session id); they win over the use case's custom parameters of the same name. */
  parameters?: Record<string, string>;
}

/** `<Connect action><ConversationRelay url ...>` with every attribute the use case sets, `<Language>`s and `<Parameter>`s. */
export function relayTwiml(input: RelayTwimlInput): string {
  const { languages, customParameters } = input.settings;
  // Loading refused control characters; what is filled in per call (a caller's name) is cleaned here.
  const relayAttributes: Record<string, string> = { url: input.websocketUrl };
  for (const [name, value] of Object.entries(relayAttributeValues(input.settings))) relayAttributes[name] = stripControlCharacters(value);
  const response = newResponse();
  // The SDK's attribute types lag the product (some names are lower-cased there); the builder writes any name.
  const relay = response.connect({ action: input.actionUrl, method: 'POST' }).conversationRelay(relayAttributes as object);
  for (const language of languages ?? []) relay.language(withoutUndefined(language));
  const parameters = { ...customParameters, ...input.parameters };
  for (const [name, value] of Object.entries(parameters)) relay.parameter({ name: stripControlCharacters(name), value: stripControlCharacters(value) });
  return response.toString();
}

export function apologyTwiml(line = APOLOGY): string {
  const response = newResponse();
  response.say(line);
  response.hangup();
  return response.toString();
}

/** Hangs up without a word. */
export function hangupTwiml(): string {
  const response = newResponse();
  response.hangup();
  return response.toString();
}

export function goodbyeTwiml(line = GOODBYE): string {
  return apologyTwiml(line);
}

/**
 * A short line, then the agent: an E.164 number or a sip: URI. The call ends when the agent's leg does. With a
 * `whisperUrl`, Twilio requests it when the agent answers and plays its TwiML to the agent alone before the two
 * are connected (a warm transfer).
 */
export function dialAgentTwiml(agent: string, line = CONNECTING_TO_AGENT, whisperUrl?: string): string {
  const response = newResponse();
  response.say(line);
  const dial = response.dial();
  const whisper = whisperUrl ? { url: whisperUrl, method: 'POST' } : {};
  if (/^sips?:/i.test(agent)) dial.sip(whisper, agent);
  else dial.number(whisper, agent);
  return response.toString();
}

/** What the agent hears before the caller is put through. */
export function whisperTwiml(text: string): string {
  const response = newResponse();
  response.say(text);
  return response.toString();
}

function withoutUndefined<T extends object>(value: T): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = stripControlCharacters(String(v));
  return out;
}
