import type { ChatMessage, Session } from '../../../../layers/data/index.ts';
import type { SilenceSettings } from '../../../../layers/data/use-case-config.ts';
import type { AppLogger } from '../../../../layers/observability/logger.ts';
import type { Clock, Llm, LlmMessage } from '../ports.ts';

/** How much of the conversation the phrasing request sees: enough to follow on from it, small enough to be quick. */
export const PHRASING_CONTEXT_MESSAGES = 6;

/** A reprompt is one spoken sentence: anything longer than this is not what was asked for. */
const MAX_CHARS = 300;

export type Phrasing = NonNullable<SilenceSettings['llmPhrasing']>;

/**
 * A reprompt phrased by the LLM ("Still there? Take your time picking a tour day."), for a use case that opts in.
 * The request is small (the system prompt, the last few spoken messages, no tools) and bounded by `timeoutMs`:
 * the caller has been silent for seconds already, so on any error, an empty or overlong answer, or no answer in
 * time, the configured line is said instead. Never throws.
 */
export async function phraseReprompt(
  deps: { llm: Llm; clock: Pick<Clock, 'setTimer'>; log: AppLogger },
  session: Session,
  messages: readonly ChatMessage[],
  phrasing: Phrasing,
  fallback: string,
): Promise<{ text: string; by: 'llm' | 'line' }> {
  const abort = new AbortController();
  const cancel = deps.clock.setTimer(phrasing.timeoutMs, () => abort.abort(new Error(`no reprompt phrasing within ${phrasing.timeoutMs} ms`)));
  try {
    let text = '';
    const llmRequest = { model: session.llm?.model, temperature: session.llm?.temperature, messages: request(session, messages, phrasing, fallback) };
    const stream = deps.llm.stream({ ...llmRequest, tools: [], toolChoice: 'none' }, abort.signal);
    for await (const chunk of stream) {
      if (chunk.type === 'text') text += chunk.text;
      if (text.length > MAX_CHARS) throw new Error('reprompt phrasing too long');
    }
    const line = text.replace(/\s+/g, ' ').trim();
    if (!line) throw new Error('empty reprompt phrasing');
    return { text: line, by: 'llm' };
  } catch (err) {
    deps.log.warn('reprompt not phrased by the LLM; saying the configured line', { error: err as Error });
    return { text: fallback, by: 'line' };
  } finally {
    cancel();
    abort.abort();
  }
}

function request(session: Session, messages: readonly ChatMessage[], phrasing: Phrasing, fallback: string): LlmMessage[] {
  const spoken = messages
    .filter((m) => (m.role === 'user' || m.role === 'assistant') && !m.toolCalls?.length && typeof m.content === 'string' && m.content.trim())
    .slice(-PHRASING_CONTEXT_MESSAGES)
    .map((m) => ({ role: m.role, content: m.content }) as LlmMessage);
  const system =
    `${session.systemPrompt}\n\nThe caller has said nothing for a while since your last words. Reply with one short spoken sentence ` +
    `(at most ${phrasing.maxWords} words, no lists, no markup) that checks whether they are still there, following on naturally ` +
    `from the conversation and in its language. For example: "${fallback}"`;
  return [{ role: 'system', content: system }, ...spoken];
}
