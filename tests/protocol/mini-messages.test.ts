import { describe, expect, it } from 'vitest';
import { encodeOutbound, parseInbound } from '../../layers/protocol/conversation-relay.ts';

/**
 * The protocol module validates with zod/mini, which ships no messages: it loads the English locale itself, so a
 * bad frame is still described field by field in the logs. This file imports nothing that loads classic zod (each
 * test file has its own module graph), as in a bundle where the protocol module is the only validator.
 */
describe('protocol validation messages with zod/mini alone', () => {
  it('an invalid inbound frame names the field and what was expected', () => {
    const parsed = parseInbound(JSON.stringify({ type: 'prompt', voicePrompt: 42 }));
    expect(parsed).toMatchObject({ ok: false, reason: 'invalid', type: 'prompt' });
    expect(parsed.ok === false && parsed.reason === 'invalid' ? parsed.detail : '').toMatch(/expected string, received number[\s\S]*voicePrompt/);
  });

  it('an invalid outbound frame is refused with a readable reason, and a valid one is encoded as before', () => {
    const refused = encodeOutbound({ type: 'sendDigits', digits: 'abc' });
    expect(refused).toMatchObject({ ok: false });
    expect(refused.ok ? '' : refused.error).toContain('digits are 0-9, *, # and w');
    const extra = encodeOutbound({ type: 'text', token: 'Hi', last: true, voice: 'x' } as never);
    expect(extra.ok ? '' : extra.error).toMatch(/Unrecognized key/);
    expect(encodeOutbound({ type: 'text', token: 'Hi', last: true })).toEqual({ ok: true, frame: '{"type":"text","token":"Hi","last":true}' });
    const lang = encodeOutbound({ type: 'language' });
    expect(lang.ok ? '' : lang.error).toContain('a language frame names ttsLanguage, transcriptionLanguage or both');
  });
});
