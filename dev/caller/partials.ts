import type { RelayCall } from './relay-call.ts';

/**
 * How ConversationRelay reports an utterance with `partialPrompts` on: the transcript as it forms, as partial
 * prompts (`last: false`, each carrying the utterance so far), then the final prompt once the caller has been
 * quiet for the recogniser's end-of-speech time. Word pace and that pause are a caller's, roughly; the pause is
 * the time preemptive generation has to get ahead.
 */
export interface PartialPace {
  /** Between one word and the next. */
  wordMs: number;
  /** After the last word, before the final prompt. */
  endOfSpeechMs: number;
}

export const DEFAULT_PACE: PartialPace = { wordMs: 120, endOfSpeechMs: 400 };

/** Speaks `utterance` as partial prompts then the final one. Resolves with when the final prompt was sent. */
export async function speakWithPartials(call: RelayCall, utterance: string, pace: PartialPace = DEFAULT_PACE, lang = 'en-US'): Promise<number> {
  const words = utterance.trim().split(/\s+/).filter(Boolean);
  for (let n = 1; n <= words.length; n++) {
    call.send({ type: 'prompt', voicePrompt: words.slice(0, n).join(' '), lang, last: false });
    await pause(n < words.length ? pace.wordMs : pace.endOfSpeechMs);
  }
  const sentAt = performance.timeOrigin + performance.now();
  call.say(utterance, lang);
  return sentAt;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
