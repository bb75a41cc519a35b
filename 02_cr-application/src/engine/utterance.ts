// Its own module: the use-case schemas stay out of the $default bundle.
import { DEFAULT_FILLER_WORDS } from '../../../layers/data/filler-words.ts';

/**
 * The caller's utterance from partial prompts (`last: false`) and the final one.
 *
 * Whether Twilio sends partials cumulative (each repeats the utterance so far) or as pieces is not pinned down by
 * its documentation, so every text is read the same way: one that extends what we have (compared as below, so a
 * recased word or added comma still counts) replaces it; one that repeats a prefix of it adds nothing; anything
 * else is the next piece. Cumulative transcripts, which speech recognisers stream by default, thus never double,
 * and pieces are joined in arrival order. The final prompt is read by the same rule, so a final that carries the
 * whole utterance is taken as is.
 */
export function assembleUtterance(pieces: readonly string[] | undefined, final: string): string {
  return extendUtterance(utteranceSoFar(pieces ?? []), final);
}

/** What the caller has said so far, from the partials in arrival order. */
export function utteranceSoFar(pieces: readonly string[]): string {
  return pieces.reduce(extendUtterance, '');
}

function extendUtterance(soFar: string, next: string): string {
  const text = next.trim();
  if (!soFar) return text;
  if (!text) return soFar;
  const have = comparable(soFar);
  const got = comparable(text);
  if (got.startsWith(have)) return text;
  // A repeat of the start (a late cumulative partial) or of the last piece adds nothing: never double words.
  if (have.startsWith(got) || have.endsWith(` ${got}`)) return soFar;
  return `${soFar} ${text}`;
}

/** How a partial and the final prompt are compared (a use case's `preemption.match`). */
export interface MatchRule {
  ignoreCase: boolean;
  ignorePunctuation: boolean;
  /** Words dropped before comparing ("um", "uh"): recognisers add and remove them between partial and final. */
  fillerWords: readonly string[];
}

export const defaultMatchRule: MatchRule = { ignoreCase: true, ignorePunctuation: true, fillerWords: DEFAULT_FILLER_WORDS };

/**
 * The form two transcripts are compared in: whitespace collapsed always; case, punctuation and filler words
 * dropped as the rule says. Apostrophes inside words are kept ("it's" is not "its"); digits are kept as they are.
 */
export function comparable(text: string, rule: MatchRule = defaultMatchRule): string {
  let out = rule.ignoreCase ? text.toLowerCase() : text;
  if (rule.ignorePunctuation) out = out.replace(/(?<=\p{L})['’](?=\p{L})/gu, '\u0000').replace(/[^\p{L}\p{N}\s\u0000]/gu, ' ').replace(/\u0000/g, "'");
  const fillers = new Set(rule.fillerWords.map((w) => (rule.ignoreCase ? w.toLowerCase() : w)));
  return out
    .split(/\s+/)
    .filter((w) => w !== '' && !fillers.has(w))
    .join(' ');
}

/** Whether a transcript reads as a finished sentence (a speculation may start at once). */
export function endsSentence(text: string): boolean {
  return /[.?!]["')\]]?\s*$/.test(text);
}
