import OpenAI from 'openai';
import { z } from 'zod';

/**
 * The two parts an LLM plays in evals, through any OpenAI-compatible endpoint: the judge, which scores a reply or a
 * call against plain-language criteria, and the simulated caller, which pursues a goal in a persona's words.
 * Neither is the app's LLM: they only read the transcript the caller heard.
 */
export interface LlmEndpoint {
  baseUrl?: string | undefined;
  apiKey?: string | undefined;
  model: string;
}

export interface Verdict {
  score: number;
  reason: string;
}

export interface Judge {
  /** `focus`: the one reply being judged, with the transcript up to it as context; unset: the whole call. */
  score(criteria: string, transcript: string, focus?: string): Promise<Verdict>;
}

export interface SimulatedCallerTurn {
  /** What the caller says next (a goodbye may come with the hang-up, or nothing). */
  say?: string;
  /** The caller hangs up after saying it. */
  hangUp: boolean;
}

export interface CallerSimulator {
  next(persona: string, goal: string, heard: { who: 'caller' | 'app'; text: string }[]): Promise<SimulatedCallerTurn>;
}

export class JudgeError extends Error {}

const VerdictSchema = z.object({ score: z.number().min(0).max(1), reason: z.string().min(1) });

/** Said by the simulated caller to hang up. */
export const END_CALL = '[END CALL]';

export const JUDGE_INSTRUCTIONS = `You grade a phone conversation between a caller and a voice agent, from its transcript.
Score how well the agent meets the criteria, from 0 (not at all) to 1 (fully). Judge only what is in the transcript.
Answer with one JSON object and nothing else: {"score": <number from 0 to 1>, "reason": "<one short sentence>"}.`;

export function simulatedCallerInstructions(persona: string, goal: string): string {
  return `You are a person calling a business on the phone; the other side is a voice agent. Stay in character.
Who you are: ${persona}
What you want from this call: ${goal}
Say only your next words, one or two short spoken sentences, with no stage directions.
When your goal is met, or the agent cannot help further, say goodbye in the same reply and end it with ${END_CALL}.`;
}

function client(endpoint: LlmEndpoint): OpenAI {
  return new OpenAI({ apiKey: endpoint.apiKey ?? 'no-key-needed', baseURL: endpoint.baseUrl, maxRetries: 2, timeout: 60_000 });
}

export function createLlmJudge(endpoint: LlmEndpoint): Judge {
  const openai = client(endpoint);
  return {
    async score(criteria, transcript, focus) {
      const subject = focus === undefined ? `Transcript of the call:\n${transcript}` : `Transcript so far:\n${transcript}\n\nThe agent's reply to grade:\n${focus}`;
      const completion = await openai.chat.completions.create({
        model: endpoint.model,
        temperature: 0,
        response_format: { type: 'json_object' },
        messages: [
          { role: 'system', content: JUDGE_INSTRUCTIONS },
          { role: 'user', content: `${subject}\n\nCriteria: ${criteria}` },
        ],
      });
      const text = completion.choices[0]?.message.content ?? '';
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new JudgeError(`the judge did not answer JSON: ${JSON.stringify(text.slice(0, 200))}`);
      }
      const verdict = VerdictSchema.safeParse(json);
      if (!verdict.success) throw new JudgeError(`the judge's answer is not {score, reason}: ${JSON.stringify(text.slice(0, 200))}`);
      return verdict.data;
    },
  };
}

export function createCallerSimulator(endpoint: LlmEndpoint): CallerSimulator {
  const openai = client(endpoint);
  return {
    async next(persona, goal, heard) {
      const completion = await openai.chat.completions.create({
        model: endpoint.model,
        temperature: 0.3,
        messages: [
          { role: 'system', content: simulatedCallerInstructions(persona, goal) },
          // The simulator speaks as the assistant; what the agent said is its "user".
          ...heard.map((h) => ({ role: h.who === 'caller' ? ('assistant' as const) : ('user' as const), content: h.text })),
        ],
      });
      const text = (completion.choices[0]?.message.content ?? '').trim();
      const said = text.replace(END_CALL, '').trim();
      const hangUp = text.includes(END_CALL);
      return said ? { say: said, hangUp } : { hangUp: true };
    },
  };
}
