import { afterEach, describe, expect, it } from 'vitest';
import { listTurnRecords, loadConversation } from '../../layers/data/index.ts';
import { sleep, startEngine, tool, waitFor, type EngineHarness } from './support.ts';

let engine: EngineHarness | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

const words = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i} `);

describe('interrupt and supersede (separate invocations, coordinated through the table)', () => {
  it('interrupt while streaming: the turn stops, the LLM stream is aborted, and history holds exactly what was heard', async () => {
    // A reply long enough (10 s) that the interrupt lands mid-stream however busy the machine is.
    engine = await startEngine({ responder: () => ({ tokens: words(400, 'long') }), timing: { tokenGapMs: 25 }, postLatencyMs: 5 });
    const call = await engine.startCall();
    call.send({ type: 'prompt', voicePrompt: 'Tell me a long story', last: true });
    await waitFor(() => call.textFrames().length >= 3, 15_000, 'a few streamed frames');
    call.send({ type: 'interrupt', utteranceUntilInterrupt: 'long0 long1', durationUntilInterruptMs: '812.5' });

    await expect.poll(async () => (await listTurnRecords(engine!.table, call.sessionId)).length, { timeout: 15_000 }).toBe(1);
    const [record] = await listTurnRecords(engine.table, call.sessionId);
    expect(record!.outcome).toBe('interrupted');
    expect(record!.interruptedAt).toBeTypeOf('number');
    expect(engine.llm.requests[0]!.aborted).toBe(true);
    const framesAtStop = call.textFrames().length;
    // Nothing more of its words; one empty last:true closes it.
    expect(call.textFrames().filter((f) => f.last)).toEqual([expect.objectContaining({ token: '', last: true })]);
    expect(call.textFrames().at(-1)).toMatchObject({ token: '', last: true });
    expect(call.replies()[0]!.split(' ').length).toBeLessThan(400);

    const { messages } = await loadConversation(engine.table, call.sessionId);
    expect(messages.map((m) => [m.role, m.content, m.interrupted ?? false])).toEqual([
      ['user', 'Tell me a long story', false],
      ['assistant', 'long0 long1', true],
    ]);
    await sleep(150);
    expect(call.textFrames().length).toBe(framesAtStop);

    // The next turn's LLM request sees only the heard text.
    engine.llm.setResponder(() => ({ text: 'Sure.' }));
    call.send({ type: 'prompt', voicePrompt: 'Stop, go on', last: true });
    await waitFor(() => call.textFrames().filter((f) => f.last).length === 2, 15_000, 'the next reply');
    const history = engine.llm.requests[1]!.body.messages.map((m) => [m.role, m.content]);
    expect(history.slice(1)).toEqual([
      ['user', 'Tell me a long story'],
      ['assistant', 'long0 long1'],
      ['user', 'Stop, go on'],
    ]);
  });

  it('interrupt after streaming: the stored reply is rewritten to what was heard', async () => {
    engine = await startEngine({ responder: () => ({ text: 'The office opens at nine and closes at five on weekdays.' }) });
    const call = await engine.startCall();
    call.send({ type: 'prompt', voicePrompt: 'When are you open?', last: true });
    await call.waitForReplies(1);
    await expect.poll(async () => (await listTurnRecords(engine!.table, call.sessionId)).length).toBe(1);
    // Text-to-speech is still playing the reply when the caller cuts in.
    call.send({ type: 'interrupt', utteranceUntilInterrupt: 'The office opens at nine', durationUntilInterruptMs: 1400 });
    await expect
      .poll(async () => (await loadConversation(engine!.table, call.sessionId)).messages.map((m) => [m.role, m.content, m.interrupted ?? false]))
      .toEqual([
        ['user', 'When are you open?', false],
        ['assistant', 'The office opens at nine', true],
      ]);
  });

  it('an interrupt during the welcome greeting (no reply yet) changes nothing', async () => {
    engine = await startEngine();
    const call = await engine.startCall();
    call.send({ type: 'interrupt', utteranceUntilInterrupt: 'Welcome to', durationUntilInterruptMs: 300 });
    call.send({ type: 'prompt', voicePrompt: 'Hi', last: true });
    await call.waitForReplies(1);
    await expect.poll(async () => (await loadConversation(engine!.table, call.sessionId)).messages.map((m) => m.content)).toEqual(['Hi', 'Hello.']);
  });

  it('a newer prompt supersedes a turn still streaming: the older stops, closed by one empty last:true before the newer reply', async () => {
    let n = 0;
    engine = await startEngine({
      // A real LLM takes a while to its first token; the older turn learns it was superseded within one post.
      responder: () => (++n === 1 ? { tokens: words(80, 'old'), tokenGapMs: 25 } : { text: 'New answer.', firstTokenMs: 150 }),
      postLatencyMs: 5,
    });
    const call = await engine.startCall();
    call.send({ type: 'prompt', voicePrompt: 'First thing', last: true });
    await waitFor(() => call.textFrames().length >= 3, 15_000, 'the older reply streaming');
    call.send({ type: 'prompt', voicePrompt: 'Actually, something else', last: true });
    await call.waitForReplies(1);
    await expect.poll(async () => (await listTurnRecords(engine!.table, call.sessionId)).length, { timeout: 15_000 }).toBe(2);

    const records = await listTurnRecords(engine.table, call.sessionId);
    expect(records.map((r) => r.outcome).sort()).toEqual(['completed', 'superseded']);
    expect(engine.llm.requests[0]!.aborted).toBe(true);
    // Each reply ended exactly once: the older by an empty close before the newer reply started; the older never
    // said its last word nor anything after the new reply.
    const frames = call.textFrames();
    const newReplyStart = frames.findIndex((f) => f.token.startsWith('New'));
    expect(frames.filter((f) => f.last).map((f) => f.token)).toEqual(['', 'New answer.']);
    expect(frames.findIndex((f) => f.last)).toBeLessThan(newReplyStart);
    expect(frames.slice(newReplyStart + 1).every((f) => !f.token.includes('old'))).toBe(true);
    expect(frames.map((f) => f.token).join('')).not.toContain('old79');

    const { messages } = await loadConversation(engine.table, call.sessionId);
    const roles = messages.map((m) => [m.role, m.content?.startsWith('old') ? 'old…' : m.content, m.interrupted ?? false]);
    expect(roles).toEqual([
      ['user', 'First thing', false],
      ['assistant', 'old…', true],
      ['user', 'Actually, something else', false],
      ['assistant', 'New answer.', false],
    ]);
    const older = messages[1]!.content!;
    expect(frames.map((f) => f.token).join('').startsWith(older)).toBe(true);
  });

  it('an interrupt while tools run stops the turn before the next LLM round', async () => {
    engine = await startEngine({ responder: () => ({ toolCalls: [{ name: 'search', arguments: { city: 'Denver' } }] }) });
    // The tool answers only once both the interrupt's invocation and the turn's own have returned: the turn has to
    // notice the interrupt and give up on the tool by itself, however long a busy machine takes to deliver it (a
    // 400 ms tool raced the interrupt). A turn that never notices gets the answer after 15 s and fails below.
    engine.toolFunctions['cr-test-tools-search'] = async () => {
      const returned = engine!.routeResults.length;
      await waitFor(() => engine!.routeResults.length >= returned + 2, 15_000, 'the interrupted turn to end').catch(() => undefined);
      return { ok: true, result: 'found' };
    };
    const call = await engine.startCall({ tools: [tool('search')], filler: { afterMs: 50, text: 'One moment.' } });
    call.send({ type: 'prompt', voicePrompt: 'Search', last: true });
    await waitFor(() => call.textFrames().length >= 1, 15_000, 'the filler');
    call.send({ type: 'interrupt', utteranceUntilInterrupt: 'One', durationUntilInterruptMs: 100 });
    await expect.poll(async () => (await listTurnRecords(engine!.table, call.sessionId)).map((r) => r.outcome), { timeout: 15_000 }).toEqual(['interrupted']);
    expect(engine.llm.requests).toHaveLength(1);
    const { messages } = await loadConversation(engine.table, call.sessionId);
    expect(messages.filter((m) => m.role === 'assistant').at(-1)).toMatchObject({ content: 'One', interrupted: true });
  });
});
