import { afterEach, describe, expect, it } from 'vitest';
import { listTurnRecords, loadConversation } from '../../layers/data/index.ts';
import { startEngine, type EngineHarness } from './support.ts';

let engine: EngineHarness | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

// Reads a turn may make before its LLM request (the session pointer, the conversation Query).
const READS = new Set(['GetItem', 'Query']);

describe('the LLM request goes out before the turn writes anything', () => {
  it('the turn claim and the caller message reach the table only after the LLM request reached the LLM server', async () => {
    engine = await startEngine({ responder: () => ({ tokens: ['One ', 'two ', 'three.'] }), timing: { firstTokenMs: 60, tokenGapMs: 2 }, recordTable: true });
    const recorder = engine.tableRecorder!;
    const call = await engine.startCall();
    call.send({ type: 'setup', sessionId: 'VX1', callSid: `CA${call.sessionId}`, from: '+14065550100', to: '+14065550199' });
    const turns = 6;
    for (let turn = 1; turn <= turns; turn++) {
      const from = recorder.requests.length;
      call.send({ type: 'prompt', voicePrompt: `Question ${turn}`, lang: 'en-US', last: true });
      await call.waitForReplies(turn);
      await expect.poll(async () => (await listTurnRecords(engine!.table, call.sessionId)).length).toBe(turn);
      const llmRequest = engine.llm.requests[turn - 1]!;
      const writes = recorder.requests.slice(from).filter((r) => !READS.has(r.operation));
      // The claim (UpdateItem) comes first, then the caller's message.
      expect(writes[0]?.operation, `turn ${turn}: first write`).toBe('UpdateItem');
      expect(writes.length).toBeGreaterThanOrEqual(2);
      for (const write of writes) {
        expect(write.receivedAt, `turn ${turn}: ${write.operation} after the LLM request`).toBeGreaterThanOrEqual(llmRequest.receivedAt);
      }
    }
    const { messages } = await loadConversation(engine.table, call.sessionId);
    expect(messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(Array.from({ length: turns }, (_, i) => `Question ${i + 1}`));
  });
});
