import { z } from 'zod';

/**
 * The eval file format (`evals/*.yaml` in each use-case folder): who calls, what they say, and what must be true of each
 * reply and of the whole call. README.md ("Conversation evals") shows examples; every field is checked here so a
 * typo fails when the file loads, naming the file, line and field, not silently during a run.
 */

const oneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]));

const RegexSchema = z.string().min(1).superRefine((source, ctx) => {
  try {
    new RegExp(source, 'i');
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(error as Error).message}` });
  }
});

/** Words spoken: case-insensitive substrings, or a case-insensitive regular expression. */
export const WordsSchema = z.strictObject({
  contains: oneOrMany.optional(),
  matches: RegexSchema.optional(),
  notContains: oneOrMany.optional(),
});

/** A tool the agent must call: its name, and optionally a subset of its arguments (deep, exact values). */
const ToolCallExpectation = z.preprocess(
  (v) => (typeof v === 'string' ? { name: v } : v),
  z.strictObject({ name: z.string().min(1), args: z.record(z.string(), z.unknown()).optional() }),
);

export const JudgeSchema = z.strictObject({
  /** Plain-language criteria the reply (or the call) must meet. */
  criteria: z.string().min(1),
  /** Score from 0 to 1 the judge must give for a pass. */
  threshold: z.number().min(0).max(1).default(0.7),
});

/** What must be true of one reply (the answer to one scripted input). */
export const TurnExpectationSchema = z.strictObject({
  says: WordsSchema.optional(),
  called: z.array(ToolCallExpectation).min(1).optional(),
  /** The `called` tools in exactly this order (other calls may come between); any order unless set. */
  inOrder: z.boolean().default(false),
  notCalled: z.array(z.string().min(1)).min(1).optional(),
  /** The caller hears the first word within this many milliseconds of their input. */
  firstWordWithinMs: z.number().int().positive().optional(),
  judge: JudgeSchema.optional(),
});

/** An item in the table: its key (pk exact, sk exact or by prefix) and a subset of its attributes. */
export const TableExpectationSchema = z.strictObject({
  pk: z.string().min(1),
  sk: z.string().min(1).optional(),
  skBeginsWith: z.string().min(1).optional(),
  where: z.record(z.string(), z.unknown()).default({}),
  /** How many items must match; at least one unless set. */
  count: z.number().int().min(0).optional(),
});

/** A text message the app sent (or, locally, kept in the outbox). */
export const MessageExpectationSchema = z.strictObject({
  to: z.string().min(1).default('{{caller}}'),
  contains: oneOrMany.optional(),
  count: z.number().int().min(0).optional(),
});

export const CallExpectationSchema = TurnExpectationSchema.extend({
  /** The app ended the session: with handoff data (a subset) and what Twilio did next. `false`: it did not. */
  ended: z
    .preprocess(
      (v) => (v === false ? { expected: false } : v === true ? {} : v),
      z.strictObject({
        expected: z.boolean().default(true),
        handoffData: z.record(z.string(), z.unknown()).optional(),
        then: z.enum(['dial', 'hangup']).optional(),
      }),
    )
    .optional(),
  table: z.array(TableExpectationSchema).min(1).optional(),
  messagesSent: z.array(MessageExpectationSchema).min(1).optional(),
  /** The call's whole cost (LLM, Lambda, DynamoDB, API Gateway, ConversationRelay) at the prices in config/prices.json. */
  costWithinUsd: z.number().positive().optional(),
});

const StepBase = {
  /** Which caller acts (an id from `callers`); the first caller unless set. */
  caller: z.string().min(1).optional(),
  expect: TurnExpectationSchema.optional(),
};

const StepVariants = {
  say: z.strictObject({
    ...StepBase,
    say: z.string().min(1),
    /** This utterance cuts into the caller's previous reply after hearing this many words of it. */
    cutsInAfterWords: z.number().int().min(0).optional(),
  }),
  press: z.strictObject({ ...StepBase, press: z.string().regex(/^[0-9*#]$/, 'one key: 0-9, * or #') }),
  /** The caller says nothing for this many milliseconds. */
  silence: z.strictObject({ caller: StepBase.caller, silence: z.number().int().min(0).max(60_000) }),
  hangup: z.strictObject({ caller: StepBase.caller, hangup: z.literal(true) }),
  redial: z.strictObject({ caller: StepBase.caller, redial: z.literal(true) }),
};
type StepKind = keyof typeof StepVariants;
const STEP_KINDS = Object.keys(StepVariants) as StepKind[];

/** A step is told apart by its action key, so a mistake is reported against that kind of step, not all five. */
export const StepSchema = z.unknown().transform((value, ctx) => {
  const kinds = value && typeof value === 'object' ? STEP_KINDS.filter((k) => k in value) : [];
  if (kinds.length !== 1) {
    ctx.addIssue({ code: 'custom', message: `a step needs exactly one of ${STEP_KINDS.join(', ')}${kinds.length ? ` (got ${kinds.join(' and ')})` : ''}` });
    return z.NEVER;
  }
  const parsed = StepVariants[kinds[0]!].safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: 'custom', message: issue.message, path: issue.path } as never);
    return z.NEVER;
  }
  return parsed.data as z.output<(typeof StepVariants)[StepKind]>;
});

export const CallerSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and -'),
  /** Seeds the caller's profile, as if they had called before and given it. */
  name: z.string().regex(/^\S+ \S+$/, 'first and last name').optional(),
  /** The use case their profile has chosen; the eval's own unless set. `none`: a first-time caller (the demo chooser). */
  useCase: z.string().min(1).optional(),
});

export const SimulatedCallerSchema = z.strictObject({
  /** Who the caller is, in plain words, for the LLM playing them. */
  persona: z.string().min(1),
  goal: z.string().min(1),
  /** The caller gives up after this many utterances. */
  maxTurns: z.number().int().min(1).max(30).default(8),
});

export const EvalFileSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    callers: z.array(CallerSchema).min(1).default([{ id: 'caller' }]),
    script: z.array(StepSchema).min(1).optional(),
    simulated: SimulatedCallerSchema.optional(),
    expect: CallExpectationSchema.default({ inOrder: false }),
  })
  .superRefine((file, ctx) => {
    if (!file.script === !file.simulated) {
      ctx.addIssue({ code: 'custom', message: 'an eval needs either `script` (scripted lines) or `simulated` (an LLM caller), not both' });
    }
    const ids = new Set<string>();
    file.callers.forEach((c, i) => {
      if (ids.has(c.id)) ctx.addIssue({ code: 'custom', path: ['callers', i, 'id'], message: `"${c.id}" is used twice` });
      ids.add(c.id);
    });
    file.script?.forEach((step, i) => {
      if (step.caller !== undefined && !ids.has(step.caller)) {
        ctx.addIssue({ code: 'custom', path: ['script', i, 'caller'], message: `no caller "${step.caller}" in callers (${[...ids].join(', ')})` });
      }
      if ('cutsInAfterWords' in step && step.cutsInAfterWords !== undefined) {
        const before = file.script![i - 1];
        if (!before || !('say' in before || 'press' in before)) {
          ctx.addIssue({ code: 'custom', path: ['script', i, 'cutsInAfterWords'], message: 'cuts in on a reply: the step before must be a say or a press' });
        }
      }
    });
    if (file.simulated && file.callers.length > 1) {
      ctx.addIssue({ code: 'custom', path: ['callers'], message: 'a simulated caller is one caller' });
    }
  });

export type EvalFileInput = z.input<typeof EvalFileSchema>;
export type EvalSpec = z.output<typeof EvalFileSchema>;
export type Step = z.output<typeof StepSchema>;
export type TurnExpectation = z.output<typeof TurnExpectationSchema>;
export type CallExpectation = z.output<typeof CallExpectationSchema>;
export type Words = z.output<typeof WordsSchema>;
export type JudgeSpec = z.output<typeof JudgeSchema>;
export type CallerSpec = z.output<typeof CallerSchema>;

/** A loaded eval: the spec, where it came from, and the line of each script step (for reports). */
export interface EvalCase {
  /** `<use case>/<file name without .yaml>`, e.g. `apartment-search/booking`. */
  id: string;
  useCaseId: string;
  file: string;
  spec: EvalSpec;
  stepLines: number[];
}
