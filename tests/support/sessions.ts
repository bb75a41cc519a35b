import type { NewSession } from '../../layers/data/index.ts';

/** A session as call setup would create it, with test defaults; override what the test is about. */
export function sessionFixture(sessionId: string, overrides: Partial<NewSession> = {}): NewSession {
  return {
    sessionId,
    callSid: `CA${sessionId}`,
    from: '+14065550100',
    to: '+14065550199',
    useCaseId: 'test',
    systemPrompt: 'You are a helpful assistant on a phone call.',
    tools: [],
    dtmfMap: {},
    llm: { maxToolRounds: 4 },
    filler: { afterMs: 5_000, text: 'One moment please.' },
    timeZone: 'America/Denver',
    ...overrides,
  };
}
