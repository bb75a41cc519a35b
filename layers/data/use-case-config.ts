import * as z from 'zod/mini';
import '../config/zod-locale.ts';
import { DTMF_KEY, DTMF_KEY_MESSAGE } from '../protocol/keypad.ts';
import { DEFAULT_FILLER_WORDS } from './filler-words.ts';
import { DigitEntrySpecSchema } from './digit-entry.ts';
import { ConversationRelaySettingsSchema, twimlString } from './relay-settings.ts';

/**
 * The shape of a use case as stored in the table and loaded from a use-case folder. Validated on load (so a
 * typo names its file and field) and on read (so a hand-edited item never reaches a caller half-valid).
 * zod/mini: call setup reads a use case on every call, and its cold start pays for the schema library at import.
 */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const text = (min = 1, message?: string) => z.string().check(z.minLength(min, message));

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

export const DtmfActionSchema = z
  .strictObject({
    /** Spoken at once when the key is pressed. */
    say: z.optional(text()),
    /** Forces the LLM to call this tool (tool_choice) for the turn. */
    tool: z.optional(z.string().check(z.regex(TOOL_NAME))),
    /** What the key means, in words; recorded as the caller's turn so the LLM knows what happened. */
    description: text(),
    /** The key starts a multi-digit entry (a unit number, a PIN); its digits reach the LLM as one input. */
    collect: z.optional(DigitEntrySpecSchema),
  })
  .check(z.refine((a) => a.say !== undefined || a.tool !== undefined || a.collect !== undefined, { message: 'a keypad action needs `say`, `tool` or `collect`' }));
export type DtmfAction = z.infer<typeof DtmfActionSchema>;

/**
 * Keys are checked on the input's own keys first: zod's record leaves out a `__proto__` key (JSON.parse makes it
 * an own key) without a word, and a keypad map that silently loses a key is not one the author wrote.
 */
export const DtmfMapSchema = z.pipe(
  z.transform((value: unknown, ctx) => {
    if (typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')) {
      ctx.issues.push({ code: 'invalid_key', origin: 'record', input: '__proto__', path: ['__proto__'], issues: [{ code: 'custom', message: DTMF_KEY_MESSAGE, input: '__proto__', path: [] }] });
    }
    return value;
  }),
  z.record(z.string().check(z.regex(DTMF_KEY, DTMF_KEY_MESSAGE)), DtmfActionSchema),
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

export { ConversationRelaySettingsSchema, LanguageSchema, type ConversationRelaySettings } from './relay-settings.ts';

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
export const SilenceSettingsSchema = z.strictObject({
  /** Seconds of silence after the agent finished speaking before a reprompt. */
  afterSeconds: z._default(z.number().check(z.minimum(2), z.maximum(120)), 8),
  /** Reprompts before the goodbye. */
  reprompts: z._default(z.int().check(z.minimum(0), z.maximum(5)), 2),
  /** Said in turn (the last one repeats when there are more reprompts than lines). */
  lines: z._default(z.array(text()).check(z.minLength(1)), ['Are you still there?', "I'm still here if you need me. Is there anything else I can help with?"]),
  goodbye: z._default(text(), "It sounds like now isn't a good time. Feel free to call back anytime. Goodbye."),
  /**
   * The LLM phrases each reprompt from the conversation (one short sentence, in the call's language), with a
   * bounded request: on any error, an empty answer or no answer within `timeoutMs`, the configured line is said.
   */
  llmPhrasing: z.optional(
    z.strictObject({
      timeoutMs: z._default(z.int().check(z.minimum(200), z.maximum(3_000)), 1_200),
      maxWords: z._default(z.int().check(z.minimum(3), z.maximum(40)), 20),
    }),
  ),
});
export type SilenceSettings = z.infer<typeof SilenceSettingsSchema>;

/**
 * Preemptive generation: the LLM starts on a stable partial prompt and its reply is held until the final prompt
 * confirms it (engine/preempt). Turning it on turns on ConversationRelay's `partialPrompts`.
 */
export const PreemptionSchema = z.strictObject({
  enabled: z._default(z.boolean(), false),
  /** A partial that has not changed for this long is stable (the caller paused). */
  stableAfterMs: z._default(z.int().check(z.minimum(0), z.maximum(5_000)), 200),
  /** A partial ending in `.`, `?` or `!` is stable at once. */
  stableOnSentenceEnd: z._default(z.boolean(), true),
  /** Speculative LLM requests per utterance at most (each one the caller talks past is paid for and wasted). */
  maxSpeculativeRequests: z._default(z.int().check(z.minimum(1), z.maximum(5)), 2),
  /** How long a speculation that has its reply waits for the final prompt before it gives up. */
  holdMs: z._default(z.int().check(z.minimum(100), z.maximum(10_000)), 3_000),
  /** How partial and final are compared: whitespace always; case, punctuation and filler words as set here. */
  match: z._default(
    z.strictObject({
      ignoreCase: z._default(z.boolean(), true),
      ignorePunctuation: z._default(z.boolean(), true),
      fillerWords: z._default(z.array(text()), [...DEFAULT_FILLER_WORDS]),
    }),
    { ignoreCase: true, ignorePunctuation: true, fillerWords: [...DEFAULT_FILLER_WORDS] },
  ),
});
export type Preemption = z.infer<typeof PreemptionSchema>;

/** E.164, as Twilio's Messages API takes it (a sip: URI cannot receive a text). */
const E164_NUMBER = /^\+[1-9]\d{6,14}$/;

/**
 * What a live-agent handoff does besides dialing the agent (AGENT_NUMBER). The agent always hears the summary as
 * a whisper; with `agentSms` it is also texted, so it stays on the agent's phone after the whisper is gone.
 */
export const HandoffSettingsSchema = z
  .strictObject({
    /** Text the handoff summary to the agent (to AGENT_NUMBER, or to `agentSmsTo`). */
    agentSms: z._default(z.boolean(), false),
    /** Where the text goes when the number dialed cannot take one (a SIP desk phone, a landline). */
    agentSmsTo: z.optional(z.string().check(z.regex(E164_NUMBER, 'an E.164 number that accepts SMS, such as +14065550188'))),
  })
  .check(
    z.superRefine((handoff, ctx) => {
      if (handoff.agentSmsTo !== undefined && !handoff.agentSms) {
        ctx.addIssue({ code: 'custom', path: ['agentSmsTo'], message: 'is set but agentSms is not true: set "agentSms": true, or remove agentSmsTo', input: handoff.agentSmsTo });
      }
    }),
  );
export type HandoffSettings = z.infer<typeof HandoffSettingsSchema>;

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
    /**
     * Said instead of `conversationRelay.welcomeGreeting` when the caller's name is on file. Both take the
     * prompt's placeholders (`{{callerFirstName}}`).
     */
    knownCallerGreeting: z.optional(twimlString().check(z.minLength(1))),
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
    timeZone: z._default(
      z.string().check(
        z.superRefine((zone, ctx) => {
          if (!isTimeZone(zone)) ctx.addIssue({ code: 'custom', message: `"${zone}" is not an IANA time zone; expected one like "America/New_York" or "Europe/London"`, input: zone });
        }),
      ),
      'America/Denver',
    ),
    /** Calls that drop, and callers who go quiet (call continuity). */
    continuity: z._default(
      z.strictObject({
        /** How long a reconnect (`conversationRelay.applicationReconnect`) may take. */
        reconnectGraceSeconds: z._default(z.int().check(z.minimum(5), z.maximum(600)), 60),
        /**
         * A caller whose call dropped and who calls back within this many minutes resumes the conversation;
         * absent: every call starts fresh.
         */
        resumeWindowMinutes: z.optional(z.int().check(z.minimum(1), z.maximum(240))),
        /** What to do when the caller says nothing after a reply; absent: nothing (Twilio hangs up eventually). */
        silence: z.optional(SilenceSettingsSchema),
      }),
      { reconnectGraceSeconds: 60 },
    ),

    preemption: z.optional(PreemptionSchema),
    /** Live-agent handoff: the summary texted to the agent. */
    handoff: z.optional(HandoffSettingsSchema),
  })
  .check(
    z.superRefine((config, ctx) => {
      const names = new Set(config.tools.map((t) => t.name));
      for (const [digit, action] of Object.entries(config.dtmfMap)) {
        if (action.tool && !names.has(action.tool)) {
          ctx.addIssue({ code: 'custom', path: ['dtmfMap', digit, 'tool'], message: `unknown tool "${action.tool}"`, input: action.tool });
        }
        if (action.collect?.tool && !names.has(action.collect.tool)) {
          ctx.addIssue({ code: 'custom', path: ['dtmfMap', digit, 'collect', 'tool'], message: `unknown tool "${action.collect.tool}"`, input: action.collect.tool });
        }
      }
    }),
  );
export type UseCaseConfig = z.infer<typeof UseCaseConfigSchema>;
export type UseCaseConfigInput = z.input<typeof UseCaseConfigSchema>;
