import type { LlmChunk } from './ports.ts';

export interface ToolCall {
  id: string;
  name: string;
  /** The raw JSON text the LLM produced, kept verbatim for the history. */
  arguments: string;
}

/**
 * Puts streamed tool-call fragments back together. Fragments are keyed by their `index`: the `id` and `name`
 * arrive only in a call's first fragment, so keying by id (as the original did) files every later fragment under
 * `undefined`. Several calls in one reply arrive interleaved or one after another; both work.
 */
export class ToolCallAssembler {
  private readonly calls = new Map<number, { id?: string; name: string; arguments: string }>();

  add(chunk: Extract<LlmChunk, { type: 'tool-call' }>): void {
    const call = this.calls.get(chunk.index) ?? { name: '', arguments: '' };
    if (chunk.id) call.id = chunk.id;
    if (chunk.name) call.name += chunk.name;
    if (chunk.arguments) call.arguments += chunk.arguments;
    this.calls.set(chunk.index, call);
  }

  get size(): number {
    return this.calls.size;
  }

  /** The calls in index order. A call whose id never came gets a stable made-up one so its result can pair. */
  result(turnTag: string): ToolCall[] {
    return [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call]) => ({ id: call.id ?? `call_${turnTag}_${index}`, name: call.name, arguments: call.arguments }));
  }
}
