import { createIdFactory } from '../layers/data/ids.ts';
import { logger } from '../layers/observability/logger.ts';
import { toLlmMessages } from '../02_cr-application/src/engine/history.ts';
import type { ConnectionsEndpoint, Llm, Sink, Store } from '../02_cr-application/src/engine/ports.ts';
import { SessionDirectory } from '../02_cr-application/src/engine/session-directory.ts';
import { frameText, type RouteResult, type WebSocketEvent } from '../02_cr-application/src/handlers/websocket-event.ts';

/**
 * NAIVE BASELINE, kept only for the benchmark: the original project's $default design, which ours is measured
 * against. For each prompt it reads the history (the same Query ours makes), writes the caller's message and
 * waits for that write, only then calls the LLM, and `await`s one PostToConnection per token, in order, then a
 * closing `last: true` frame, then writes the reply. Same Store, Llm and Sink edges as ours, so the only
 * difference measured is the design. Never deploy this.
 */
export interface NaiveDeps {
  store: Store;
  llm: Llm;
  sinkFor: (endpoint: ConnectionsEndpoint) => Sink;
}

const newId = createIdFactory();

export function createNaiveDefaultHandler(deps: NaiveDeps) {
  const directory = new SessionDirectory(deps.store);
  return async function onNaiveDefault(event: WebSocketEvent): Promise<RouteResult> {
    try {
      const frame = JSON.parse(frameText(event) ?? '{}') as { type?: unknown; voicePrompt?: unknown; last?: unknown };
      if (frame.type !== 'prompt' || frame.last === false || typeof frame.voicePrompt !== 'string') return { statusCode: 200 };
      const connectionId = event.requestContext.connectionId;
      const sessionId = await directory.sessionFor(connectionId);
      if (!sessionId) return { statusCode: 200 };
      const { session, messages } = await deps.store.loadConversation(sessionId, Number.MAX_SAFE_INTEGER);
      const turn = messages.filter((m) => m.role === 'user').length + 1;
      await deps.store.appendMessages(sessionId, [{ messageId: newId(), role: 'user', content: frame.voicePrompt, turn, source: 'speech' }]);
      const history = toLlmMessages(session.systemPrompt, messages);
      history.push({ role: 'user', content: frame.voicePrompt });
      const sink = deps.sinkFor({ domainName: event.requestContext.domainName, stage: event.requestContext.stage });
      let reply = '';
      for await (const chunk of deps.llm.stream({ model: session.llm?.model, messages: history, tools: [], toolChoice: 'auto' }, new AbortController().signal)) {
        if (chunk.type !== 'text') continue;
        reply += chunk.text;
        await sink.post(connectionId, { type: 'text', token: chunk.text, last: false });
      }
      await sink.post(connectionId, { type: 'text', token: '', last: true });
      await deps.store.appendMessages(sessionId, [{ messageId: newId(), role: 'assistant', content: reply, turn }]);
    } catch (err) {
      logger.error('naive baseline: turn failed', { error: err as Error });
    }
    return { statusCode: 200 };
  };
}
