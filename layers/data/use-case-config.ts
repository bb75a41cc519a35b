import * as z from 'zod/mini';
import '../config/zod-locale.ts';

/**
 * The shape of a use case as stored in the table and loaded from a use-case folder. Validated on load (so a
 * typo names its file and field) and on read (so a hand-edited item never reaches a caller half-valid).
 * zod/mini: call setup reads a use case on every call, and its cold start pays for the schema library at import.
 */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const text = (min = 1, message?: string) => z.string().check(z.minLength(min, message));
const oneOf = <T extends readonly [string, ...string[]]>(values: T) => z.optional(z.union([z.enum(values), z.boolean()]));

export const ToolManifestEntrySchema = z.strictObject({
  name: z.string().check(z.regex(TOOL_NAME, 'tool names are 1-64 letters, digits, _ or - (the OpenAI limit)')),
  description: text(),
  /** JSON Schema of the arguments, exactly what the LLM sees. */
  parameters: z.looseObject({ type: z.literal('object'), properties: z._default(z.record(z.string(), z.unknown()), {}) }),
  /** Lambda function that runs the tool in AWS; locally the tool runs in-process by name. */
  functionName: z.optional(text()),
  /** After this, the call is abandoned and the LLM is told the tool timed out. */
  timeoutMs: z.optional(z.int().check(z.positive(), z.maximum(120_000))),
});
export type ToolManifestEntry = z.infer<typeof ToolManifestEntrySchema>;

export const DTMF_DIGIT = /^[0-9*#]$/;

export const DtmfActionSchema = z
  .strictObject({
    /** Spoken at once when the key is pressed. */
    say: z.optional(text()),
    /** Forces the LLM to call this tool (tool_choice) for the turn. */
    tool: z.optional(z.string().check(z.regex(TOOL_NAME))),
    /** What the key means, in words; recorded as the caller's turn so the LLM knows what happened. */
    description: text(),
  })
  .check(z.refine((a) => a.say !== undefined || a.tool !== undefined, { message: 'a keypad action needs `say`, `tool` or both' }));
export type DtmfAction = z.infer<typeof DtmfActionSchema>;

export const DtmfMapSchema = z.record(z.string().check(z.regex(DTMF_DIGIT, 'keypad digits are 0-9, * and #')), DtmfActionSchema);
export type DtmfMap = z.infer<typeof DtmfMapSchema>;

export const LanguageSchema = z.strictObject({
  code: text(2),
  ttsProvider: z.optional(z.string()),
  voice: z.optional(z.string()),
  transcriptionProvider: z.optional(z.string()),
  speechModel: z.optional(z.string()),
});

const INPUT_KINDS = ['none', 'dtmf', 'speech', 'any'] as const;

/** `<ConversationRelay>` attributes a use case may set; `url` and the action URL are ours. */
export const ConversationRelaySettingsSchema = z.strictObject({
  welcomeGreeting: z.optional(z.string()),
  welcomeGreetingInterruptible: oneOf(INPUT_KINDS),
  language: z.optional(z.string()),
  ttsLanguage: z.optional(z.string()),
  transcriptionLanguage: z.optional(z.string()),
  ttsProvider: z.optional(z.string()),
  voice: z.optional(z.string()),
  transcriptionProvider: z.optional(z.string()),
  speechModel: z.optional(z.string()),
  hints: z.optional(z.string()),
  interruptible: oneOf(INPUT_KINDS),
  preemptible: z.optional(z.boolean()),
  interruptSensitivity: z.optional(z.enum(['low', 'medium', 'high'])),
  ignoreBackchannel: z.optional(z.boolean()),
  reportInputDuringAgentSpeech: oneOf(INPUT_KINDS),
  dtmfDetection: z.optional(z.boolean()),
  partialPrompts: z.optional(z.boolean()),
  speechTimeout: z.optional(z.union([z.int().check(z.positive()), z.string()])),
  profanityFilter: z.optional(z.boolean()),
  elevenlabsTextNormalization: z.optional(z.enum(['on', 'off', 'auto'])),
  intelligenceService: z.optional(z.string()),
  debug: z.optional(z.string()),
  languages: z.optional(z.array(LanguageSchema)),
  /** Sent back to us in `setup.customParameters`. Never secrets or card data: Twilio logs them. */
  customParameters: z.optional(z.record(z.string(), z.string())),
});
export type ConversationRelaySettings = z.infer<typeof ConversationRelaySettingsSchema>;

export const UseCaseConfigSchema = z
  .strictObject({
    id: z.string().check(z.regex(/^[a-z0-9-]{1,64}$/, 'use-case ids are lowercase letters, digits and -')),
    /** How the demo chooser names it to callers. */
    name: text(),
    description: text(),
    /** Whether the demo chooser offers it. */
    listed: z._default(z.boolean(), true),
    /** System prompt with {{placeholders}} filled at call setup (see prompt rendering). */
    promptTemplate: text(1, 'the prompt is empty'),
    tools: z._default(z.array(ToolManifestEntrySchema), []),
    dtmfMap: z._default(DtmfMapSchema, {}),
    conversationRelay: z._default(ConversationRelaySettingsSchema, {}),
    llm: z._default(
      z.strictObject({
        model: z.optional(z.string()),
        temperature: z.optional(z.number().check(z.minimum(0), z.maximum(2))),
        maxToolRounds: z._default(z.int().check(z.minimum(1), z.maximum(10)), 4),
      }),
      { maxToolRounds: 4 },
    ),
    filler: z._default(
      z.strictObject({
        /** Say the filler when tools have not answered after this long. */
        afterMs: z._default(z.int().check(z.minimum(0)), 800),
        text: z._default(text(), 'One moment please.'),
        /** Audio to `play` instead of speaking the text. */
        playUrl: z.optional(z.url()),
      }),
      { afterMs: 800, text: 'One moment please.' },
    ),
    /** IANA zone used for "today" in prompts and for scheduling. */
    timeZone: z._default(z.string(), 'America/Denver'),
  })
  .check(
    z.superRefine((config, ctx) => {
      const names = new Set(config.tools.map((t) => t.name));
      for (const [digit, action] of Object.entries(config.dtmfMap)) {
        if (action.tool && !names.has(action.tool)) {
          ctx.addIssue({ code: 'custom', path: ['dtmfMap', digit, 'tool'], message: `unknown tool "${action.tool}"`, input: action.tool });
        }
      }
    }),
  );
export type UseCaseConfig = z.infer<typeof UseCaseConfigSchema>;
export type UseCaseConfigInput = z.input<typeof UseCaseConfigSchema>;
