import { describe, expect, it } from 'vitest';
import { encodeOutbound, parseInbound } from '../../layers/protocol/conversation-relay.ts';
import { toLlmMessages } from '../../02_cr-application/src/engine/history.ts';
import { checkToolArguments } from '../../02_cr-application/src/engine/tool-arguments.ts';
import { ToolCallAssembler } from '../../02_cr-application/src/engine/tool-calls.ts';
import { assembleUtterance } from '../../02_cr-application/src/engine/utterance.ts';
import type { ChatMessage } from '../../layers/data/index.ts';

describe('ConversationRelay messages', () => {
  it('parses every inbound type and tolerates unknown fields', () => {
    const setup = parseInbound(JSON.stringify({ type: 'setup', sessionId: 'VX1', callSid: 'CA1', from: '+1', to: '+2', customParameters: { a: 'b' }, newField: 1 }));
    expect(setup).toMatchObject({ ok: true, message: { type: 'setup', callSid: 'CA1', newField: 1 } });
    expect(parseInbound('{"type":"prompt","voicePrompt":"hi"}')).toMatchObject({ ok: true, message: { type: 'prompt', last: true } });
    expect(parseInbound('{"type":"prompt","voicePrompt":"hi","last":false,"lang":"en-US"}')).toMatchObject({ ok: true, message: { last: false } });
    expect(parseInbound('{"type":"dtmf","digit":"5"}')).toMatchObject({ ok: true, message: { digit: '5' } });
    expect(parseInbound('{"type":"error","description":"bad"}')).toMatchObject({ ok: true, message: { type: 'error' } });
    expect(parseInbound('{"type":"info","anything":1}')).toMatchObject({ ok: true, message: { type: 'info' } });
  });

  it('coerces the interrupt duration (number, decimal or string) and keeps the heard text', () => {
    for (const [raw, expected] of [[1200, 1200], ['812.5', 812.5], [33.25, 33.25]] as const) {
      const parsed = parseInbound(JSON.stringify({ type: 'interrupt', utteranceUntilInterrupt: 'Hello th', durationUntilInterruptMs: raw }));
      expect(parsed).toMatchObject({ ok: true, message: { utteranceUntilInterrupt: 'Hello th', durationUntilInterruptMs: expected } });
    }
    expect(parseInbound('{"type":"interrupt","utteranceUntilInterrupt":"x","durationUntilInterruptMs":"soon"}')).toMatchObject({ ok: true });
  });

  it('reports malformed, unknown and invalid frames as values, never throwing', () => {
    expect(parseInbound('not json')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(parseInbound('')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(parseInbound(undefined)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(parseInbound('[]')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(parseInbound('{"type":7}')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(parseInbound('{"type":"transcript"}')).toEqual({ ok: false, reason: 'unknown-type', type: 'transcript' });
    expect(parseInbound('{"type":"prompt"}')).toMatchObject({ ok: false, reason: 'invalid', type: 'prompt' });
    expect(parseInbound('{"type":"dtmf","digit":5}')).toMatchObject({ ok: false, reason: 'invalid', type: 'dtmf' });
  });

  it('encodes only valid outbound frames', () => {
    expect(encodeOutbound({ type: 'text', token: 'Hi', last: false })).toEqual({ ok: true, frame: '{"type":"text","token":"Hi","last":false}' });
    expect(encodeOutbound({ type: 'text', token: '', last: true }).ok).toBe(true);
    expect(encodeOutbound({ type: 'play', source: 'https://example.com/hold.mp3' }).ok).toBe(true);
    expect(encodeOutbound({ type: 'sendDigits', digits: '12w#' }).ok).toBe(true);
    expect(encodeOutbound({ type: 'language', ttsLanguage: 'es-ES' }).ok).toBe(true);
    expect(encodeOutbound({ type: 'end', handoffData: '{"reason":"agent"}' }).ok).toBe(true);

    expect(encodeOutbound({ type: 'play', source: 'not a url' }).ok).toBe(false);
    expect(encodeOutbound({ type: 'sendDigits', digits: 'abc' }).ok).toBe(false);
    expect(encodeOutbound({ type: 'language' }).ok).toBe(false);
    expect(encodeOutbound({ type: 'text', token: 'x' } as never).ok).toBe(false);
    expect(encodeOutbound({ type: 'text', token: 'x', last: true, extra: 1 } as never).ok).toBe(false);
    expect(encodeOutbound({ type: 'end', handoffData: { reason: 'agent' } } as never).ok).toBe(false);
  });
});

describe('engine pieces', () => {
  it('assembles streamed tool calls by index, even interleaved, with the id only in the first fragment', () => {
    const a = new ToolCallAssembler();
    a.add({ type: 'tool-call', index: 1, id: 'call_b', name: 'time', arguments: '' });
    a.add({ type: 'tool-call', index: 0, id: 'call_a', name: 'weather', arguments: '{"ci' });
    a.add({ type: 'tool-call', index: 1, arguments: '{"zone":"MT"}' });
    a.add({ type: 'tool-call', index: 0, arguments: 'ty":"Denver"}' });
    expect(a.result('t')).toEqual([
      { id: 'call_a', name: 'weather', arguments: '{"city":"Denver"}' },
      { id: 'call_b', name: 'time', arguments: '{"zone":"MT"}' },
    ]);
    const noId = new ToolCallAssembler();
    noId.add({ type: 'tool-call', index: 0, name: 'x', arguments: '{}' });
    expect(noId.result('s1_2')[0]!.id).toBe('call_s1_2_0');
  });

  it('validates tool arguments against the JSON schema the LLM saw', () => {
    const entry = {
      name: 'search',
      description: 'Search',
      parameters: {
        type: 'object' as const,
        properties: { beds: { type: 'integer', minimum: 0 }, city: { type: 'string' }, sort: { enum: ['price', 'size'] } },
        required: ['city'],
      },
    };
    expect(checkToolArguments(entry, '{"city":"Denver","beds":2,"sort":"price"}')).toMatchObject({ ok: true, args: { city: 'Denver', beds: 2 } });
    expect(checkToolArguments({ ...entry, parameters: { type: 'object', properties: {} } }, '')).toEqual({ ok: true, args: {} });
    const bad = checkToolArguments(entry, '{"beds":-1,"sort":"age"}');
    expect(bad.ok).toBe(false);
    const message = (bad as { outcome: { ok: false; error: { message: string } } }).outcome.error.message;
    expect(message).toContain('city');
    expect(message).toContain('beds');
    expect(checkToolArguments(entry, '{oops')).toMatchObject({ ok: false, outcome: { error: { code: 'invalid_arguments' } } });
  });

  it('joins partial prompts, piecewise or cumulative', () => {
    expect(assembleUtterance(undefined, ' Hello ')).toBe('Hello');
    expect(assembleUtterance(['I want', 'a two bedroom'], 'apartment')).toBe('I want a two bedroom apartment');
    expect(assembleUtterance(['I want', 'I want a two'], 'I want a two bedroom')).toBe('I want a two bedroom');
  });

  it('drops tool calls whose results were never stored, so the chat API accepts the history', () => {
    const base = { createdAt: '', expireAt: 0, turn: 1 };
    const messages: ChatMessage[] = [
      { ...base, messageId: '1', role: 'user', content: 'hi' },
      { ...base, messageId: '2', role: 'assistant', content: null, toolCalls: [{ id: 'a', name: 'x', arguments: '{}' }, { id: 'b', name: 'y', arguments: '{}' }] },
      { ...base, messageId: '3', role: 'tool', content: '"ok"', toolCallId: 'a' },
      { ...base, messageId: '4', role: 'assistant', content: 'Checking.', toolCalls: [{ id: 'c', name: 'z', arguments: '{}' }] },
      { ...base, messageId: '5', role: 'assistant', content: 'Heard part', interrupted: true },
    ];
    expect(toLlmMessages('sys', messages)).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: null, toolCalls: [{ id: 'a', name: 'x', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'a', content: '"ok"' },
      { role: 'assistant', content: 'Checking.' },
      { role: 'assistant', content: 'Heard part' },
    ]);
  });
});
