import { rootCause } from '../../02_cr-application/src/edges/openai-llm.ts';
import type { LlmChoice } from './settings.ts';

/**
 * A startup probe of the configured LLM, so a server that is not running (an Ollama that was never started) is
 * reported at `npm start` with its address, instead of as an apology on the first call. Any HTTP answer means
 * something is listening; 401/403 means it does not take the key.
 */
export async function checkLlm(choice: LlmChoice, options: { timeoutMs?: number; fetch?: typeof fetch } = {}): Promise<string | undefined> {
  if (choice.kind === 'offline') return undefined;
  const base = (choice.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
  const url = `${base}/models`;
  const headers: Record<string, string> = {};
  if (choice.apiKey) headers.authorization = `Bearer ${choice.apiKey}`;
  try {
    const res = await (options.fetch ?? fetch)(url, { headers, signal: AbortSignal.timeout(options.timeoutMs ?? 3_000) });
    await res.body?.cancel();
    if (res.status === 401 || res.status === 403) return `the LLM at ${base} refused the API key (HTTP ${res.status}): check OPENAI_API_KEY`;
    return undefined;
  } catch (err) {
    const why = (err as Error).name === 'TimeoutError' ? 'no answer within 3 s' : (rootCause(err) ?? (err as Error).message);
    return `the LLM at ${base} does not answer (${why}): calls will hear an apology until it does. Start it, or fix OPENAI_BASE_URL`;
  }
}
