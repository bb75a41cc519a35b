import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentSmsText, MAX_AGENT_SMS_SEGMENTS, NO_SUMMARY, smsSegments } from '../../03_twiml-api/src/agent-sms-text.ts';
import { HandoffSettingsSchema } from '../../layers/data/use-case-config.ts';
import { readUseCaseConfig, UseCaseConfigError } from '../../scripts/lib/use-case-folders.ts';

/** The text an agent gets on a live-agent handoff, and the use-case setting that turns it on. */
const CALLER = '+14065550101';
const SUMMARY = 'Dana wants the two-bedroom; a tour is booked for Friday at ten and the confirmation was texted.';

describe('the agent text', () => {
  it('says which line, who is calling (name and number to call back) and the summary', () => {
    expect(agentSmsText({ useCaseName: 'Apartment search', callerNumber: CALLER, callerName: 'Dana Reyes', summary: SUMMARY })).toBe(
      `Transfer from the Apartment search assistant.\nCaller: Dana Reyes, ${CALLER}\n${SUMMARY}`,
    );
  });

  it('goes without a name when none is on file, and says so when the handoff gave no summary', () => {
    expect(agentSmsText({ useCaseName: 'Apartment search', callerNumber: CALLER, summary: '   ' })).toBe(
      `Transfer from the Apartment search assistant.\nCaller: ${CALLER}\n${NO_SUMMARY}`,
    );
  });

  it('fits two segments: a long summary is cut at a word and marked, the caller line is kept whole', () => {
    const long = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');
    const text = agentSmsText({ useCaseName: 'Apartment search', callerNumber: CALLER, callerName: 'Dana Reyes', summary: long });
    expect(smsSegments(text)).toBe(MAX_AGENT_SMS_SEGMENTS);
    expect(text).toMatch(new RegExp(`^Transfer from the Apartment search assistant\\.\\nCaller: Dana Reyes, \\${CALLER}\\nword0 word1 .* word\\d+\\.\\.\\.$`));
    const kept = text.split('\n')[2]!.replace(/\.\.\.$/, '');
    expect(long.startsWith(kept)).toBe(true);
    // One word more would not have fitted.
    const next = long.split(' ')[kept.split(' ').length]!;
    expect(smsSegments(`${text.replace(/\.\.\.$/, '')} ${next}...`)).toBeGreaterThan(MAX_AGENT_SMS_SEGMENTS);
  });

  it('keeps GSM-7 when the LLM wrote typographic quotes and dashes, so a long summary is not halved', () => {
    const text = agentSmsText({ useCaseName: 'Apartment search', callerNumber: CALLER, summary: `The caller said \u201cthe \u2018big\u2019 one\u201d \u2013 ${'x '.repeat(100)}` });
    expect(text).toContain('The caller said "the \'big\' one" - x x');
    expect(text).not.toMatch(/\.\.\.$/);
    expect(smsSegments(text)).toBe(2);
  });

  it('still fits two segments when the summary needs UCS-2 (an emoji)', () => {
    const text = agentSmsText({ useCaseName: 'Apartment search', callerNumber: CALLER, summary: `Happy caller \u{1F600} ${'wants a tour '.repeat(20)}` });
    expect(smsSegments(text)).toBeLessThanOrEqual(MAX_AGENT_SMS_SEGMENTS);
    expect(text).toMatch(/\u{1F600} wants a tour .*\.\.\.$/u);
  });

  it('removes a card or account number the caller read out, and keeps phone numbers', () => {
    const text = agentSmsText({ useCaseName: 'Apartment search', callerNumber: CALLER, summary: 'Paid with 4111 1111 1111 1111 and 4111-1111-1111-1111; call back on +14065550199 or 406 555 0123.' });
    expect(text).toContain('Paid with [number removed] and [number removed]; call back on +14065550199 or 406 555 0123.');
    expect(text).not.toContain('4111');
  });

  it('flattens line breaks and control characters from the name and the summary', () => {
    const text = agentSmsText({ useCaseName: 'Apartment search', callerNumber: CALLER, callerName: 'Dana\nReyes\u0007', summary: 'Line one\r\nline\ttwo' });
    expect(text.split('\n')).toEqual(['Transfer from the Apartment search assistant.', `Caller: Dana Reyes, ${CALLER}`, 'Line one line two']);
  });
});

describe('handoff settings', () => {
  it('agentSms alone texts the number dialed; agentSmsTo names another number that takes texts', () => {
    expect(HandoffSettingsSchema.parse({})).toEqual({ agentSms: false });
    expect(HandoffSettingsSchema.parse({ agentSms: true })).toEqual({ agentSms: true });
    expect(HandoffSettingsSchema.parse({ agentSms: true, agentSmsTo: '+14065550188' })).toEqual({ agentSms: true, agentSmsTo: '+14065550188' });
  });

  describe('a mistake names the file and the field', () => {
    let root: string;
    let dir: string;
    const settings = { id: 'broken', name: 'Broken', description: 'For tests.' };
    const problems = async (handoff: unknown) => {
      await writeFile(join(dir, 'use-case', 'settings.json'), JSON.stringify({ ...settings, handoff }));
      const err = await readUseCaseConfig({ id: 'broken', dir, tools: [] }, {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UseCaseConfigError);
      return (err as UseCaseConfigError).problems;
    };
    beforeEach(async () => {
      root = await mkdtemp(join(tmpdir(), 'handoff-settings-'));
      dir = join(root, '09_use-case-broken');
      await mkdir(join(dir, 'use-case'), { recursive: true });
      await writeFile(join(dir, 'use-case', 'prompt.md'), 'Hello {{callerName}}.');
      await writeFile(join(dir, 'use-case', 'dtmf.json'), '{}');
    });
    afterEach(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it('a number that is not E.164, a number without agentSms, a wrong type and an unknown key', async () => {
      expect(await problems({ agentSms: true, agentSmsTo: '406-555-0188' })).toEqual([
        '09_use-case-broken/use-case/settings.json: handoff.agentSmsTo: an E.164 number that accepts SMS, such as +14065550188',
      ]);
      expect(await problems({ agentSmsTo: '+14065550188' })).toEqual([
        '09_use-case-broken/use-case/settings.json: handoff.agentSmsTo: is set but agentSms is not true: set "agentSms": true, or remove agentSmsTo',
      ]);
      expect(await problems({ agentSms: 'yes' })).toEqual(['09_use-case-broken/use-case/settings.json: handoff.agentSms: Invalid input: expected boolean, received string']);
      expect(await problems({ agentSms: true, sms: true })).toEqual(['09_use-case-broken/use-case/settings.json: handoff: Unrecognized key: "sms"']);
    });
  });
});
