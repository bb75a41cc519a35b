import type { LlmUsage } from './ports.ts';

/** A turn's LLM usage: the sum of its requests' (a turn with tool rounds makes several). */
export function addUsage(total: LlmUsage | undefined, more: LlmUsage): LlmUsage {
  return {
    inputTokens: (total?.inputTokens ?? 0) + more.inputTokens,
    outputTokens: (total?.outputTokens ?? 0) + more.outputTokens,
    cachedTokens: (total?.cachedTokens ?? 0) + more.cachedTokens,
  };
}
