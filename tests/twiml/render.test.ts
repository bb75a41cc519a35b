import { describe, expect, it } from 'vitest';
import {
  KNOWN_PLACEHOLDERS,
  placeholdersIn,
  PromptTemplateError,
  renderPrompt,
  unknownPlaceholders,
  type PromptContext,
} from '../../layers/prompts/render.ts';

// 03:30 UTC on Wednesday the 26th is 8:30 PM on Tuesday the 25th in Denver.
const base: PromptContext = {
  caller: { phone: '+14065550101', firstName: 'Dana', lastName: 'Reyes' },
  now: new Date('2025-11-26T03:30:00Z'),
  timeZone: 'America/Denver',
  useCaseName: 'Parkview Apartments',
  demos: [
    { id: 'apartment-search', name: 'Parkview Apartments', description: 'Find and tour an apartment.' },
    { id: 'restaurant', name: 'Table booking', description: 'Book a table.' },
  ],
};

describe('prompt rendering', () => {
  it('fills every built-in placeholder, dates in the use case time zone', () => {
    const template = KNOWN_PLACEHOLDERS.map((name) => `${name}=[{{${name}}}]`).join('\n');
    expect(renderPrompt(template, base)).toBe(
      [
        'callerName=[Dana Reyes]',
        'callerFirstName=[Dana]',
        'callerPhone=[+14065550101]',
        'caller=[Dana Reyes (+14065550101)]',
        'knownCaller=[yes]',
        'today=[Tuesday, November 25, 2025]',
        'todayIso=[2025-11-25]',
        'weekday=[Tuesday]',
        'currentTime=[8:30 PM]',
        'timeZone=[America/Denver]',
        'useCaseName=[Parkview Apartments]',
        'demos=[- apartment-search: Parkview Apartments. Find and tour an apartment.\n- restaurant: Table booking. Book a table.]',
      ].join('\n'),
    );
  });

  it('the same instant is already Wednesday in UTC', () => {
    expect(renderPrompt('{{today}} {{todayIso}}', { ...base, timeZone: 'UTC' })).toBe('Wednesday, November 26, 2025 2025-11-26');
  });

  it('renders missing values sensibly', () => {
    const out = renderPrompt('{{caller}} | {{callerName}} | {{callerFirstName}} | {{knownCaller}} | {{demos}}', {
      caller: { phone: '+14065550101' },
      now: base.now,
      timeZone: 'America/Denver',
    });
    expect(out).toBe('+14065550101 (name not known yet) | not known yet | not known yet | no | (no demos are available right now)');
    expect(renderPrompt('{{caller}} {{callerPhone}}', { caller: {}, now: base.now, timeZone: 'UTC' })).toBe('unknown caller unknown');
  });

  it('falls back to UTC for an invalid time zone instead of failing the call', () => {
    expect(renderPrompt('{{timeZone}} {{todayIso}}', { ...base, timeZone: 'Mars/Olympus_Mons' })).toBe('UTC 2025-11-26');
  });

  it('fills custom context and tolerates spaces inside the braces', () => {
    expect(renderPrompt('At {{ propertyName }} ({{city}}), hello {{ callerFirstName }}.', { ...base, custom: { propertyName: 'Parkview', city: 'Missoula' } })).toBe(
      'At Parkview (Missoula), hello Dana.',
    );
  });

  it('lists placeholders once each and reports unknown ones for the use-case loader', () => {
    const template = 'Hi {{callerName}}, {{ callerName }} on {{today}}: {{propertyName}} {{typo_here}}';
    expect(placeholdersIn(template)).toEqual(['callerName', 'today', 'propertyName', 'typo_here']);
    expect(unknownPlaceholders(template, ['propertyName'])).toEqual(['typo_here']);
    expect(unknownPlaceholders('Nothing to fill.')).toEqual([]);
  });

  it('refuses to render a template with an unknown placeholder', () => {
    expect(() => renderPrompt('Hello {{callerNmae}}', base)).toThrowError(PromptTemplateError);
    try {
      renderPrompt('Hello {{callerNmae}} {{x}}', base);
    } catch (err) {
      expect((err as PromptTemplateError).placeholders).toEqual(['callerNmae', 'x']);
    }
  });

  it('refuses custom context that would shadow a built-in', () => {
    expect(() => renderPrompt('{{today}}', { ...base, custom: { today: 'someday' } })).toThrowError(/today/);
  });

  it('leaves text that only looks like braces alone', () => {
    expect(renderPrompt('JSON like {"a": {"b": 1}} and {single} stay.', base)).toBe('JSON like {"a": {"b": 1}} and {single} stay.');
  });
});
