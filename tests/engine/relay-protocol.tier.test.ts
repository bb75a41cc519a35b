import { afterEach, describe, expect, it } from 'vitest';
import { ToolOutcomeSchema } from '../../02_cr-application/src/edges/lambda-tools.ts';
import type { LlmMessage } from '../../02_cr-application/src/engine/ports.ts';
import { encodeOutbound, parseInbound } from '../../layers/protocol/conversation-relay.ts';
import type { ToolManifestEntry } from '../../layers/data/index.ts';
import { createEngineTier, type EngineTier } from './tier/engine-tier.ts';
import { finish, says, text, toolCall } from './tier/scripted-llm.ts';

/**
 * The newer ConversationRelay frames as the engine sends and receives them: tool actions that change call
 * settings, set recognition hints or say a line the caller cannot cut off; Twilio's configUpdated; replies in the
 * caller's language; the greeting in the history. In memory, on a manual clock.
 */
let tier: EngineTier;
afterEach(async () => {
  await tier?.drain().catch(() => undefined);
});

const tool = (name: string): ToolManifestEntry => ({ name, description: name, parameters: { type: 'object', properties: {} } });
const conversation = (messages: LlmMessage[]) => messages.filter((m) => m.role !== 'system' || !m.content.startsWith('You are')).map((m) => [m.role, 'content' in m ? m.content : null]);

describe('the newer frames on the wire', () => {
  it('parses configUpdated leniently and encodes config and hints strictly', () => {
    expect(parseInbound(JSON.stringify({ type: 'configUpdated', voice: 'x', extra: 1 }))).toEqual({ ok: true, message: { type: 'configUpdated', voice: 'x', extra: 1 } });
    const config = encodeOutbound({ type: 'config', interruptible: false, voice: 'en-US-Chirp3-HD-Kore' });
    expect(config.ok && JSON.parse(config.frame)).toEqual({ type: 'config', interruptible: false, voice: 'en-US-Chirp3-HD-Kore' });
    expect(encodeOutbound({ type: 'config' }).ok).toBe(false);
    expect(encodeOutbound({ type: 'config', colour: 'red' } as never).ok).toBe(false);
    expect(encodeOutbound({ type: 'hints', hints: 'Aspen 2B,Birch 4A' }).ok).toBe(true);
    expect(encodeOutbound({ type: 'hints', hints: '' }).ok).toBe(false);
    expect(encodeOutbound({ type: 'text', token: 'Hola', last: true, lang: 'es-US', interruptible: false, preemptible: false }).ok).toBe(true);
  });

  it('checks the new tool actions where a tool Lambda answers', () => {
    const outcome = (action: unknown) => ToolOutcomeSchema.safeParse({ ok: true, result: {}, actions: [action] }).success;
    expect(outcome({ type: 'say', text: 'Your tour is booked.', interruptible: false, preemptible: false })).toBe(true);
    expect(outcome({ type: 'say', text: '' })).toBe(false);
    expect(outcome({ type: 'config', settings: { voice: 'v' } })).toBe(true);
    expect(outcome({ type: 'config', settings: {} })).toBe(false);
    expect(outcome({ type: 'hints', hints: ['Aspen 2B'] })).toBe(true);
    expect(outcome({ type: 'play', source: 'not a url' })).toBe(false);
    expect(outcome({ type: 'collectDigits', entry: { description: 'PIN', maxDigits: 4 } })).toBe(true);
    expect(outcome({ type: 'collectDigits', entry: { description: 'PIN', maxDigits: 0 } })).toBe(false);
  });
});

describe('tool actions for the call', () => {
  it('config changes call settings mid-call: a config frame in reply order, recorded on the session', async () => {
    tier = await createEngineTier();
    tier.tools.calm_voice = async () => ({ ok: true, result: { done: true }, actions: [{ type: 'config', settings: { voice: 'en-US-Chirp3-HD-Kore', interruptible: 'dtmf' } }] });
    tier.llm.enqueue([text('Switching. '), toolCall({ id: 'c1', name: 'calm_voice', arguments: {} }), finish('tool_calls')], says('Is this better?'));
    const call = await tier.call({ tools: [tool('calm_voice')] });
    void call.prompt('Can you use another voice?');
    await tier.drain();
    expect(call.frames()).toEqual([
      { type: 'text', token: 'Switching. ', last: false },
      { type: 'config', voice: 'en-US-Chirp3-HD-Kore', interruptible: 'dtmf' },
      { type: 'text', token: 'Is this better?', last: true },
    ]);
    expect(tier.store.session(call.sessionId)?.configRequested).toEqual({ settings: { voice: 'en-US-Chirp3-HD-Kore', interruptible: 'dtmf' }, at: expect.any(String) });
  });

  it('hints tell speech recognition what the caller is about to say, before the question is asked', async () => {
    tier = await createEngineTier();
    tier.tools.list_units = async () => ({ ok: true, result: { units: ['Aspen 2B', 'Birch 4A'] }, actions: [{ type: 'hints', hints: ['Aspen 2B', 'Birch 4A'] }] });
    tier.llm.enqueue([toolCall({ id: 'c1', name: 'list_units', arguments: {} }), finish('tool_calls')], says('Aspen 2B or Birch 4A: which one?'));
    const call = await tier.call({ tools: [tool('list_units')] });
    void call.prompt('What units do you have?');
    await tier.drain();
    expect(call.frames()).toEqual([
      { type: 'hints', hints: 'Aspen 2B,Birch 4A' },
      { type: 'text', token: 'Aspen 2B or Birch 4A: which one?', last: true },
    ]);
  });

  it('an uninterruptible read-back goes out in its own frames with interruptible and preemptible false, and is in the history', async () => {
    tier = await createEngineTier();
    const readBack = 'Your tour is booked for Tuesday at 10 AM at Parkview, unit 4A.';
    tier.tools.schedule_tour = async () => ({ ok: true, result: { booked: true }, actions: [{ type: 'say', text: readBack, interruptible: false, preemptible: false }] });
    tier.llm.enqueue([text('Booking it now.'), toolCall({ id: 'c1', name: 'schedule_tour', arguments: {} }), finish('tool_calls')], says('Anything else?'));
    const call = await tier.call({ tools: [tool('schedule_tour')] });
    void call.prompt('Book Tuesday at ten.');
    await tier.drain();
    expect(call.frames()).toEqual([
      { type: 'text', token: 'Booking it now.', last: false },
      { type: 'text', token: ` ${readBack} `, last: false, interruptible: false, preemptible: false },
      { type: 'text', token: 'Anything else?', last: true },
    ]);
    expect(call.history()).toContainEqual(['assistant', readBack]);
    // The LLM's next round knows the line was said, so it does not read it back again.
    expect(conversation(tier.llm.requests[1]!.request.messages).at(-1)).toEqual(['assistant', readBack]);
  });

  it('play carries loop and the per-message flags', async () => {
    tier = await createEngineTier();
    tier.tools.hold_music = async () => ({ ok: true, result: {}, actions: [{ type: 'play', source: 'https://audio.example/hold.mp3', loop: 2, interruptible: false }] });
    tier.llm.enqueue([toolCall({ id: 'c1', name: 'hold_music', arguments: {} }), finish('tool_calls')], says('Back with you.'));
    const call = await tier.call({ tools: [tool('hold_music')] });
    void call.prompt('Put me on hold.');
    await tier.drain();
    expect(call.frames()[0]).toEqual({ type: 'play', source: 'https://audio.example/hold.mp3', loop: 2, interruptible: false });
  });
});

describe('configUpdated from Twilio', () => {
  it('is recorded on the session as sent, and starts no turn', async () => {
    tier = await createEngineTier();
    const call = await tier.call();
    void call.send({ type: 'configUpdated', voice: 'en-US-Chirp3-HD-Kore', status: 'applied' });
    await tier.drain();
    expect(tier.store.session(call.sessionId)?.configConfirmed).toEqual({ fields: { voice: 'en-US-Chirp3-HD-Kore', status: 'applied' }, at: expect.any(String) });
    expect(call.frames()).toEqual([]);
    expect(tier.llm.requests).toHaveLength(0);
  });
});

describe('languages', () => {
  it('a Spanish prompt is stored with its lang, answered in Spanish (system note) and sent with lang; the call stays in Spanish', async () => {
    tier = await createEngineTier();
    tier.llm.enqueue(says('Tenemos dos apartamentos disponibles.'), says('Sí, se permiten perros.'));
    const call = await tier.call({ defaultLanguage: 'en-US' });
    void call.send({ type: 'prompt', voicePrompt: '¿Qué apartamentos tienen?', lang: 'es-US', last: true });
    await tier.drain();
    expect(tier.llm.requests[0]!.request.messages.at(-1)).toEqual({ role: 'system', content: 'The caller is speaking es-US. Reply in that language.' });
    expect(call.frames()).toEqual([{ type: 'text', token: 'Tenemos dos apartamentos disponibles.', last: true, lang: 'es-US' }]);
    expect(tier.store.messages(call.sessionId)[0]).toMatchObject({ role: 'user', lang: 'es-US' });
    expect(tier.store.session(call.sessionId)?.language).toBe('es-US');

    // Twilio may leave `lang` off: the call's language holds.
    void call.prompt('¿Aceptan perros?');
    await tier.drain();
    expect(call.frames().at(-1)).toEqual({ type: 'text', token: 'Sí, se permiten perros.', last: true, lang: 'es-US' });
  });

  it('a prompt in the default language (any region) sends no lang', async () => {
    tier = await createEngineTier();
    tier.llm.enqueue(says('Sure.'));
    const call = await tier.call({ defaultLanguage: 'en-US' });
    void call.send({ type: 'prompt', voicePrompt: 'Hello', lang: 'en', last: true });
    await tier.drain();
    expect(call.frames()).toEqual([{ type: 'text', token: 'Sure.', last: true }]);
    expect(tier.store.session(call.sessionId)?.language).toBeUndefined();
  });

  it('the language action switches the call: later replies carry lang', async () => {
    tier = await createEngineTier();
    tier.tools.switch_language = async () => ({ ok: true, result: {}, actions: [{ type: 'language', ttsLanguage: 'es-US', transcriptionLanguage: 'es-US' }] });
    tier.llm.enqueue([toolCall({ id: 'c1', name: 'switch_language', arguments: {} }), finish('tool_calls')], says('Claro.'));
    const call = await tier.call({ defaultLanguage: 'en-US', tools: [tool('switch_language')] });
    void call.prompt('Spanish please');
    await tier.drain();
    expect(call.frames()).toEqual([
      { type: 'language', ttsLanguage: 'es-US', transcriptionLanguage: 'es-US' },
      { type: 'text', token: 'Claro.', last: true, lang: 'es-US' },
    ]);
  });
});

describe('greeting', () => {
  it('the greeting stored at call setup is the first assistant message the LLM sees', async () => {
    tier = await createEngineTier();
    tier.llm.enqueue(says('Nice to meet you, Ana.'));
    const call = await tier.call();
    await tier.store.appendMessages(call.sessionId, [{ role: 'assistant', content: 'Hi, thanks for calling. May I have your name?', turn: 0 }]);
    void call.prompt('Ana Ruiz');
    await tier.drain();
    expect(conversation(tier.llm.requests[0]!.request.messages)).toEqual([
      ['assistant', 'Hi, thanks for calling. May I have your name?'],
      ['user', 'Ana Ruiz'],
    ]);
  });
});
