import { z } from 'zod';
import { DTMF_KEY, DTMF_KEY_MESSAGE } from '../protocol/keypad.ts';

/**
 * The shape of a use case as stored in the table and loaded from a use-case folder. Validated on load (so a
 * typo names its file and field) and on read (so a hand-edited item never reaches a caller half-valid).
 */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export const ToolManifestEntrySchema = z
  .object({
    name: z.string().regex(TOOL_NAME, 'tool names are 1-64 letters, digits, _ or - (the OpenAI limit)'),
    description: z.string().min(1),
    /** JSON Schema of the arguments, exactly what the LLM sees. */
    parameters: z
      .object({ type: z.literal('object'), properties: z.record(z.string(), z.unknown()).default({}) })
      .loose(),
    /** Lambda function that runs the tool in AWS; locally the tool runs in-process by name. */
    functionName: z.string().min(1).optional(),
    /** After this, the call is abandoned and the LLM is told the tool timed out. */
    timeoutMs: z.number().int().positive().max(120_000).optional(),
  })
  .strict();
export type ToolManifestEntry = z.infer<typeof ToolManifestEntrySchema>;

export const DtmfActionSchema = z
  .object({
    /** Spoken at once when the key is pressed. */
    say: z.string().min(1).optional(),
    /** Forces the LLM to call this tool (tool_choice) for the turn. */
    tool: z.string().regex(TOOL_NAME).optional(),
    /** What the key means, in words; recorded as the caller's turn so the LLM knows what happened. */
    description: z.string().min(1),
  })
  .strict()
  .refine((a) => a.say !== undefined || a.tool !== undefined, { message: 'a keypad action needs `say`, `tool` or both' });
export type DtmfAction = z.infer<typeof DtmfActionSchema>;

/**
 * Keys are checked on the input's own keys first: zod's record leaves out a `__proto__` key (JSON.parse makes it
 * an own key) without a word, and a keypad map that silently loses a key is not one the author wrote.
 */
export const DtmfMapSchema = z.preprocess(
  (value, ctx) => {
    if (typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')) {
      ctx.issues.push({ code: 'invalid_key', origin: 'record', input: '__proto__', path: ['__proto__'], issues: [{ code: 'custom', message: DTMF_KEY_MESSAGE, input: '__proto__', path: [] }] });
    }
    return value;
  },
  z.record(z.string().regex(DTMF_KEY, DTMF_KEY_MESSAGE), DtmfActionSchema),
);
export type DtmfMap = z.infer<typeof DtmfMapSchema>;

/**
 * The action a key is mapped to: own properties only, and only for a real keypad key, so `constructor`,
 * `__proto__` or `toString` never reach an inherited member of the map, whatever a stored map holds.
 */
export function keypadAction(map: DtmfMap | undefined, key: string): DtmfAction | undefined {
  if (!map || !DTMF_KEY.test(key) || !Object.hasOwn(map, key)) return undefined;
  return map[key];
}

export const LanguageSchema = z
  .object({
    code: z.string().min(2),
    ttsProvider: z.string().optional(),
    voice: z.string().optional(),
    transcriptionProvider: z.string().optional(),
    speechModel: z.string().optional(),
  })
  .strict();

/** `<ConversationRelay>` attributes a use case may set; `url` and the action URL are ours. */
export const ConversationRelaySettingsSchema = z
  .object({
    welcomeGreeting: z.string().optional(),
    welcomeGreetingInterruptible: z.enum(['none', 'dtmf', 'speech', 'any']).or(z.boolean()).optional(),
    language: z.string().optional(),
    ttsLanguage: z.string().optional(),
    transcriptionLanguage: z.string().optional(),
    ttsProvider: z.string().optional(),
    voice: z.string().optional(),
    transcriptionProvider: z.string().optional(),
    speechModel: z.string().optional(),
    hints: z.string().optional(),
    interruptible: z.enum(['none', 'dtmf', 'speech', 'any']).or(z.boolean()).optional(),
    preemptible: z.boolean().optional(),
    interruptSensitivity: z.enum(['low', 'medium', 'high']).optional(),
    ignoreBackchannel: z.boolean().optional(),
    reportInputDuringAgentSpeech: z.enum(['none', 'dtmf', 'speech', 'any']).or(z.boolean()).optional(),
    dtmfDetection: z.boolean().optional(),
    partialPrompts: z.boolean().optional(),
    speechTimeout: z.union([z.number().int().positive(), z.string()]).optional(),
    profanityFilter: z.boolean().optional(),
    elevenlabsTextNormalization: z.enum(['on', 'off', 'auto']).optional(),
    intelligenceService: z.string().optional(),
    debug: z.string().optional(),
    /** ConversationRelay reconnects a dropped WebSocket to the same URL and replays what it buffered. */
    applicationReconnect: z.boolean().optional(),
    languages: z.array(LanguageSchema).optional(),
    /** Sent back to us in `setup.customParameters`. Never secrets or card data: Twilio logs them. */
    customParameters: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type ConversationRelaySettings = z.infer<typeof ConversationRelaySettingsSchema>;

/** Whether the runtime knows the zone: the same check that would otherwise fail at the first call's "today". */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Reprompts for a silent caller, then a goodbye and the end of the call. */
export const SilenceSettingsSchema = z
  .object({
    /** Seconds of silence after the agent finished speaking before a reprompt. */
    afterSeconds: z.number().min(2).max(120).default(8),
    /** Reprompts before the goodbye. */
    reprompts: z.number().int().min(0).max(5).default(2),
    /** Said in turn (the last one repeats when there are more reprompts than lines). */
    lines: z.array(z.string().min(1)).min(1).default(['Are you still there?', "I'm still here if you need me. Is there anything else I can help with?"]),
    goodbye: z.string().min(1).default("It sounds like now isn't a good time. Feel free to call back anytime. Goodbye."),
  })
  .strict();
export type SilenceSettings = z.infer<typeof SilenceSettingsSchema>;

export const UseCaseConfigSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]{1,64}$/, 'use-case ids are lowercase letters, digits and -'),
    /** How the demo chooser names it to callers. */
    name: z.string().min(1),
    description: z.string().min(1),
    /** Whether the demo chooser offers it. */
    listed: z.boolean().default(true),
    /** System prompt with {{placeholders}} filled at call setup (see prompt rendering). */
    promptTemplate: z.string().min(1, 'the prompt is empty'),
    tools: z.array(ToolManifestEntrySchema).default([]),
    dtmfMap: DtmfMapSchema.default({}),
    conversationRelay: ConversationRelaySettingsSchema.default({}),
    llm: z
      .object({
        model: z.string().optional(),
        temperature: z.number().min(0).max(2).optional(),
        maxToolRounds: z.number().int().min(1).max(10).default(4),
      })
      .strict()
      .default({ maxToolRounds: 4 }),
    filler: z
      .object({
        /** Say the filler when tools have not answered after this long. */
        afterMs: z.number().int().min(0).default(800),
        text: z.string().min(1).default('One moment please.'),
        /** Audio to `play` instead of speaking the text. */
        playUrl: z.url().optional(),
      })
      .strict()
      .default({ afterMs: 800, text: 'One moment please.' }),
    /** IANA zone used for "today" in prompts and for scheduling. */
    timeZone: z
      .string()
      .superRefine((zone, ctx) => {
        if (!isTimeZone(zone)) ctx.addIssue({ code: 'custom', message: `"${zone}" is not an IANA time zone; expected one like "America/New_York" or "Europe/London"` });
      })
      .default('America/Denver'),
    /** Calls that drop: how long a reconnect (`conversationRelay.applicationReconnect`) may take. */
    continuity: z
      .object({
        reconnectGraceSeconds: z.number().int().min(5).max(600).default(60),
        /**
         * A caller whose call dropped and who calls back within this many minutes resumes the conversation;
         * absent: every call starts fresh.
         */
        resumeWindowMinutes: z.number().int().min(1).max(240).optional(),
        /** What to do when the caller says nothing after a reply; absent: nothing (Twilio hangs up eventually). */
        silence: SilenceSettingsSchema.optional(),
      })
      .strict()
      .default({ reconnectGraceSeconds: 60 }),
  })
  .strict()
  .superRefine((config, ctx) => {
    const names = new Set(config.tools.map((t) => t.name));
    for (const [digit, action] of Object.entries(config.dtmfMap)) {
      if (action.tool && !names.has(action.tool)) {
        ctx.addIssue({ code: 'custom', path: ['dtmfMap', digit, 'tool'], message: `unknown tool "${action.tool}"` });
      }
    }
  });
export type UseCaseConfig = z.infer<typeof UseCaseConfigSchema>;
export type UseCaseConfigInput = z.input<typeof UseCaseConfigSchema>;
