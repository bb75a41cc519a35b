import * as z from 'zod/mini';
import '../config/zod-locale.ts';

/**
 * The `<ConversationRelay>` attributes a use case may set, typed one by one, plus an escape hatch
 * (`extraAttributes`) so an attribute Twilio adds after this release never blocks an author. `url` and the
 * `<Connect action>` URL are ours. Every string here ends up in TwiML: XML 1.0 cannot carry most control
 * characters, so a value holding one is refused with its field's path (the loader adds the file).
 */

// C0 controls (tab, newline and carriage return included: attribute values are normalised to spaces by XML
// parsers, so they never reach the speech engine as written), DEL and the C1 block.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

/** Where the first control character is, for an error the author can act on. */
function controlCharacterIssue(value: string): string | undefined {
  const match = CONTROL.exec(value);
  if (!match) return undefined;
  const code = match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  return `contains the control character U+${code} at position ${match.index}; TwiML cannot carry it`;
}

/** A string that can be written into TwiML as is. */
export const twimlString = () =>
  z.string().check(
    z.superRefine((value, ctx) => {
      const issue = controlCharacterIssue(value);
      if (issue) ctx.addIssue({ code: 'custom', message: issue, input: value });
    }),
  );

/** For values that reach TwiML at call time (a caller's name in the greeting): removed, never a failed call. */
export function stripControlCharacters(value: string): string {
  return value.replace(new RegExp(CONTROL.source, 'g'), ' ').replace(/ {2,}/g, ' ');
}

const who = z.union([z.enum(['none', 'dtmf', 'speech', 'any']), z.boolean()]);
const onOff = z.union([z.boolean(), z.enum(['true', 'false'])]);
const str = () => z.optional(twimlString());

export const LanguageSchema = z.strictObject({
  code: twimlString().check(z.minLength(2)),
  ttsProvider: str(),
  voice: str(),
  transcriptionProvider: str(),
  speechModel: str(),
});
export type RelayLanguage = z.infer<typeof LanguageSchema>;

/** What the TwiML attribute names look like (letters first; the builder writes any name it is given). */
export const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** Every typed attribute, by the name Twilio's TwiML reference spells it (camelCase). */
export const RelayAttributesShape = {
  // connection and greeting
  welcomeGreeting: str(),
  welcomeGreetingInterruptible: z.optional(who),
  /** ConversationRelay reconnects a dropped WebSocket to the same URL and replays what it buffered. */
  applicationReconnect: z.optional(onOff),
  // language and voice
  language: str(),
  ttsLanguage: str(),
  transcriptionLanguage: str(),
  ttsProvider: str(),
  voice: str(),
  transcriptionProvider: str(),
  speechModel: str(),
  /** Comma-separated words speech recognition should expect (unit names, street names). */
  hints: str(),
  elevenlabsTextNormalization: z.optional(z.enum(['on', 'off', 'auto'])),
  deepgramSmartFormat: z.optional(onOff),
  // interruption and turn-taking
  interruptible: z.optional(who),
  /** Legacy form of `interruptible: "dtmf"`. */
  interruptByDtmf: z.optional(onOff),
  preemptible: z.optional(onOff),
  interruptSensitivity: z.optional(z.enum(['low', 'medium', 'high'])),
  ignoreBackchannel: z.optional(onOff),
  reportInputDuringAgentSpeech: z.optional(who),
  /** End-of-turn detection threshold (0-1; higher waits for more certainty that the caller finished). */
  eotThreshold: z.optional(z.union([z.number().check(z.minimum(0), z.maximum(1)), twimlString().check(z.regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'a number from 0 to 1'))])),
  speechTimeout: z.optional(z.union([z.int().check(z.positive()), twimlString()])),
  backgroundNoiseReduction: z.optional(z.union([onOff, twimlString()])),
  // input
  dtmfDetection: z.optional(onOff),
  partialPrompts: z.optional(onOff),
  profanityFilter: z.optional(onOff),
  // other
  /** Which events ConversationRelay reports over the socket (comma-separated, e.g. speaker events). */
  events: str(),
  /** A Conversations configuration SID or name the session is recorded under. */
  conversationConfiguration: str(),
  intelligenceService: str(),
  debug: str(),
} as const;

export type RelayAttributeName = keyof typeof RelayAttributesShape;
export const RELAY_ATTRIBUTE_NAMES = Object.keys(RelayAttributesShape) as RelayAttributeName[];
/** Names that are ours to set (the WebSocket URL) or spelled differently by older SDK typings. */
const RESERVED = new Set(['url', 'action', 'method', 'languages', 'customparameters', 'extraattributes']);
const typedLowerCase = new Map(RELAY_ATTRIBUTE_NAMES.map((n) => [n.toLowerCase(), n]));

const ExtraAttributesSchema = z.record(z.string(), z.union([twimlString(), z.number(), z.boolean()])).check(
  z.superRefine((attributes, ctx) => {
    for (const name of Object.keys(attributes)) {
      if (!ATTRIBUTE_NAME.test(name)) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'attribute names are letters, digits, _ and -, starting with a letter', input: name });
        continue;
      }
      const typed = typedLowerCase.get(name.toLowerCase());
      if (typed) ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is a typed setting: set conversationRelay.${typed} instead`, input: name });
      else if (RESERVED.has(name.toLowerCase())) ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is set by the app, not the use case`, input: name });
    }
  }),
);

export const ConversationRelaySettingsSchema = z.strictObject({
    ...RelayAttributesShape,
    /** `<Language>` children: the voice and recognition settings per language the call may switch to. */
    languages: z.optional(z.array(LanguageSchema)),
    /** Sent back to us in `setup.customParameters`. Never secrets or card data: Twilio logs them. */
    customParameters: z.optional(z.record(twimlString(), twimlString())),
    /**
     * Attributes this release does not type yet (a newer Twilio feature), written as given. Loading warns,
     * naming them, so they are typed (and checked) once the project catches up.
     */
    extraAttributes: z.optional(ExtraAttributesSchema),
  });
export type ConversationRelaySettings = z.infer<typeof ConversationRelaySettingsSchema>;

/** The load-time warning for untyped attributes, or undefined when there are none. */
export function extraAttributesWarning(settings: ConversationRelaySettings): string | undefined {
  const names = Object.keys(settings.extraAttributes ?? {});
  if (names.length === 0) return undefined;
  return `conversationRelay.extraAttributes: ${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} not typed by this release; written to the TwiML unchecked`;
}

/** The attributes of `<ConversationRelay>` as strings, in a stable order: typed ones, then the extra ones. */
export function relayAttributeValues(settings: ConversationRelaySettings): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of RELAY_ATTRIBUTE_NAMES) {
    const value = settings[name];
    if (value !== undefined) out[name] = String(value);
  }
  for (const [name, value] of Object.entries(settings.extraAttributes ?? {})) out[name] = String(value);
  return out;
}
