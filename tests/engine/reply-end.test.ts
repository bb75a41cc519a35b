import { afterEach, describe, expect, it } from 'vitest';
import { listTurnRecords } from '../../layers/data/index.ts';
import { startEngine, type EngineHarness } from './support.ts';

let engine: EngineHarness | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

describe('the end of a reply travels with its last words', () => {
  it('at 0 ms per post: never more posts than tokens, and the last post carries the last words with last:true', async () => {
    const tokens = Array.from({ length: 12 }, (_, i) => `w${i} `);
    engine = await startEngine({ responder: () => ({ tokens }), timing: { firstTokenMs: 20, tokenGapMs: 8 }, postLatencyMs: 0 });
    const call = await engine.startCall();
    const turns = 4;
    for (let turn = 1; turn <= turns; turn++) {
      const before = engine.gateway.posts.filter((p) => p.connectionId === call.connectionId).length;
      call.send({ type: 'prompt', voicePrompt: `Question ${turn}`, lang: 'en-US', last: true });
      await call.waitForReplies(turn);
      const posts = engine.gateway.posts.filter((p) => p.connectionId === call.connectionId).slice(before);
      expect(posts.length, `turn ${turn}: posts`).toBeLessThanOrEqual(tokens.length);
      const frames = call.textFrames();
      const last = frames[frames.length - 1]!;
      expect(last.last).toBe(true);
      expect(last.token, `turn ${turn}: the closing frame carries words`).not.toBe('');
    }
    expect(call.replies()).toEqual(Array.from({ length: turns }, () => tokens.join('')));
    await expect.poll(async () => (await listTurnRecords(engine!.table, call.sessionId)).length).toBe(turns);
    for (const record of await listTurnRecords(engine.table, call.sessionId)) {
      expect(record.outcome).toBe('completed');
      expect(record.posts!).toBeLessThanOrEqual(record.tokens!);
    }
  });
});
