import type { ChatMessage } from '../../../layers/data/index.ts';
import type { LlmMessage } from './ports.ts';

/**
 * The stored history as LLM messages. A tool call whose result never got stored (a turn stopped mid-tools, a
 * crash) is dropped with its orphaned results: the chat API rejects a request where a call has no result.
 */
export function toLlmMessages(systemPrompt: string, messages: ChatMessage[]): LlmMessage[] {
  const answered = new Set(messages.filter((m) => m.role === 'tool' && m.toolCallId).map((m) => m.toolCallId as string));
  const kept = new Set<string>();
  const out: LlmMessage[] = [{ role: 'system', content: systemPrompt }];
  for (const message of messages) {
    if (message.role === 'user') {
      out.push({ role: 'user', content: message.content ?? '' });
    } else if (message.role === 'assistant') {
      const calls = (message.toolCalls ?? []).filter((c) => answered.has(c.id));
      for (const c of calls) kept.add(c.id);
      if (calls.length > 0) out.push({ role: 'assistant', content: message.content, toolCalls: calls });
      else if (message.content) out.push({ role: 'assistant', content: message.content });
    } else if (message.role === 'tool' && message.toolCallId && kept.has(message.toolCallId)) {
      out.push({ role: 'tool', toolCallId: message.toolCallId, content: message.content ?? '' });
    }
  }
  return out;
}
