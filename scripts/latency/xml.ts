/** Escapes text for an XML/HTML text node or a double-quoted attribute (stored names and errors are untrusted). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Milliseconds as a person reads them on an axis or a label: "0", "250 ms", "1.5 s". */
export function formatMs(ms: number): string {
  if (ms === 0) return '0';
  if (Math.abs(ms) < 1000) return `${Math.round(ms)} ms`;
  return `${Number((ms / 1000).toFixed(2))} s`;
}
