/**
 * The caller's whole utterance from the partial prompts kept so far and the final one. Partial transcripts may
 * be cumulative (each repeats the previous) or pieces; a final that starts with the last piece is taken as the
 * complete transcript, otherwise the pieces are joined in order.
 */
export function assembleUtterance(pieces: readonly string[] | undefined, final: string): string {
  const kept = (pieces ?? []).map((p) => p.trim()).filter(Boolean);
  const last = kept[kept.length - 1];
  if (!last) return final.trim();
  if (final.trim().startsWith(last)) return final.trim();
  return [...kept, final.trim()].filter(Boolean).join(' ');
}
