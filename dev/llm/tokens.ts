/**
 * Word-sized streaming tokens with their spacing kept, so joining them gives the text back exactly:
 * "Hello there, friend." -> ["Hello", " there,", " friend."].
 */
export function splitIntoTokens(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

/** Tool-call arguments arrive in small fragments from OpenAI, often cutting through keys and strings. */
export const ARGUMENT_FRAGMENT_CHARS = 7;

export function splitArguments(json: string, size = ARGUMENT_FRAGMENT_CHARS): string[] {
  const fragments: string[] = [];
  for (let i = 0; i < json.length; i += size) fragments.push(json.slice(i, i + size));
  return fragments;
}
