import { describe, expect, it } from 'vitest';
import { heardCuts, heardPrefix, heardReply, heardTurn } from '../../02_cr-application/src/engine/ledger/heard.ts';

/** Stored heard text is always a prefix of what was posted, located by the heard words. */
describe('heardPrefix', () => {
  const posted = 'The two-bedroom at Parkview rents for $1,450 a month, and it is available on March 3rd. Shall I book a tour?';
  it.each([
    { name: 'exact words', heard: 'The two-bedroom at Parkview', expected: 'The two-bedroom at Parkview' },
    { name: 'case and punctuation differ', heard: 'the two bedroom at parkview rents', expected: 'The two-bedroom at Parkview rents' },
    { name: 'a number read out', heard: 'rents for one thousand four hundred fifty dollars a month', expected: '' },
    {
      name: 'a number read out, from the start',
      heard: 'The two bedroom at Parkview rents for one thousand four hundred fifty dollars a month and it is',
      expected: 'The two-bedroom at Parkview rents for $1,450 a month, and it is',
    },
    { name: 'cut inside a word', heard: 'The two-bedroom at Park', expected: 'The two-bedroom at Parkview' },
    { name: 'words never posted are never stored', heard: `${posted} And also a free parking spot forever`, expected: posted },
    { name: 'nothing heard', heard: '', expected: '' },
    { name: 'words that match nothing', heard: 'completely different sentence here', expected: '' },
  ])('$name', ({ heard, expected }) => {
    const out = heardPrefix(posted, heard);
    expect(out).toBe(expected);
    expect(posted.startsWith(out)).toBe(true);
  });

  it('with no words, estimates from how long the caller listened, at a word boundary', () => {
    const out = heardPrefix(posted, '', 2_000);
    expect(posted.startsWith(out)).toBe(true);
    expect(out.length).toBeGreaterThan(10);
    expect(out.length).toBeLessThanOrEqual(28);
    expect(posted[out.length]).toBe(' ');
  });

  it('keeps only the reply share of what was heard after a line said before it', () => {
    expect(heardReply('Let me check. ', 'We have two units left.', 'let me check we have two')).toBe('We have two');
    expect(heardReply('Let me check. ', 'We have two units left.', 'let me')).toBe('');
  });
});

/** Where an interrupt leaves each message that holds words said before the reply. */
describe('heardCuts', () => {
  // "Let me check. " is the tool-call message's, "One moment please. Your viewing is booked. " a tool line's.
  const said = 'Let me check. One moment please. Your viewing is booked. Anything else?';
  const held = [
    { messageId: 'call', start: 0, end: 14 },
    { messageId: 'line', start: 14, end: 57 },
  ];
  it.each([
    { name: 'heard inside the first message: it is cut, the next keeps nothing', heardUpTo: 6, cuts: [{ messageId: 'call', content: 'Let me' }, { messageId: 'line', content: '' }] },
    { name: 'heard to the end of the first message (its trailing space aside): only the next is cut', heardUpTo: 13, cuts: [{ messageId: 'line', content: '' }] },
    { name: 'heard inside the second message', heardUpTo: 24, cuts: [{ messageId: 'line', content: 'One moment' }] },
    { name: 'heard past every held word (into the reply): nothing is cut', heardUpTo: 60, cuts: [] },
    { name: 'nothing heard: every message keeps nothing', heardUpTo: 0, cuts: [{ messageId: 'call', content: '' }, { messageId: 'line', content: '' }] },
  ])('$name', ({ heardUpTo, cuts }) => {
    expect(heardCuts(said, held, heardUpTo)).toEqual(cuts);
    for (const cut of cuts) expect(said.startsWith(cut.content, held.find((h) => h.messageId === cut.messageId)!.start)).toBe(true);
  });
});

describe('heardTurn (an interrupt after the commit)', () => {
  // The tool-call message holds "Let me check. "; the filler said during the tools went with the reply.
  const spokenBefore = 'Let me check. ';
  const reply = 'One moment please. Unit 4B is free.';
  const held = [{ messageId: 'call', start: 0, end: 14 }];
  it.each([
    { name: 'heard into the reply: the reply is cut, the round is whole', heard: 'let me check one moment please unit four', cut: 'One moment please. Unit 4B', cuts: [] },
    { name: 'heard the round and part of the filler', heard: 'let me check one', cut: 'One', cuts: [] },
    { name: 'heard part of the round: no reply, the round is cut', heard: 'let me', cut: '', cuts: [{ messageId: 'call', content: 'Let me' }] },
  ])('$name', ({ heard, cut, cuts }) => {
    expect(heardTurn(spokenBefore, reply, held, heard)).toEqual({ reply: cut, cuts });
  });
});
