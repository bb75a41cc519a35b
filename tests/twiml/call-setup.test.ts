import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallSetupHandler, type Deps } from '../../03_twiml-api/src/handlers/call-setup.ts';
import { createTable, getSession, putUseCase, updateProfile, type ConversationRelaySettings } from '../../layers/data/index.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import {
  APARTMENT_USE_CASE,
  AUTH_TOKEN,
  captureLogger,
  closedPort,
  DEFAULT_USE_CASE,
  expectApology,
  HOST,
  parseTwiml,
  sessionItems,
  twilioPost,
  WEBSOCKET_URL,
} from './support.ts';

const CALL = { CallSid: 'CA0123456789abcdef0123456789abcdef', AccountSid: 'AC0123456789abcdef0123456789abcdef', To: '+14065550199', CallStatus: 'ringing', Direction: 'inbound' };
/** Each test is its own call: one CallSid per caller number (a CallSid seen again reuses its session). */
const callFrom = (from: string) => ({ ...CALL, CallSid: `CA${from.replace(/\D/g, '').padStart(32, '0')}`, From: from });
// 2025-11-26 03:30 UTC is still Tuesday evening, Nov 25, in Denver: the date must come from the use case's zone.
const NOW = new Date('2025-11-26T03:30:00Z');

let counter = 0;
function deps(table: TestTable, overrides: Partial<Deps> = {}): Deps & { log: ReturnType<typeof captureLogger> } {
  const log = captureLogger();
  return {
    table,
    authToken: async () => AUTH_TOKEN,
    websocketUrl: WEBSOCKET_URL,
    logger: log.logger,
    now: () => NOW,
    newSessionId: () => `01TESTSESSION${String(++counter).padStart(4, '0')}`,
    ...overrides,
    log,
  };
}

function relayOf(body: string | undefined) {
  const response = parseTwiml(body ?? '');
  const connect = response.Connect as Record<string, any>;
  expect(connect).toBeDefined();
  return { connect, relay: connect.ConversationRelay as Record<string, any> };
}

describe('call setup', () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await createTestTable();
    await putUseCase(table, DEFAULT_USE_CASE);
    await putUseCase(table, APARTMENT_USE_CASE);
  });
  afterAll(async () => {
    await table.drop();
  });

  it('answers a caller without a profile with the demo chooser, writes the session and connects ConversationRelay', async () => {
    const d = deps(table);
    const from = '+14065550101';
    const result = await createCallSetupHandler(d)(twilioPost({ path: '/call-setup', params: callFrom(from) }));

    expect(result.statusCode).toBe(200);
    expect(String(result.headers?.['content-type'])).toMatch(/^text\/xml/);
    const { connect, relay } = relayOf(result.body);
    const url = new URL(relay.url as string);
    const sessionId = url.searchParams.get('session')!;
    expect(`${url.origin}${url.pathname}`).toBe(WEBSOCKET_URL);
    expect(connect.action).toBe(`https://${HOST}/connect-action?session=${sessionId}`);
    expect(relay.welcomeGreeting).toBe('Hi! Which demo would you like?');
    expect(relay.voice).toBe('en-US-Journey-O');
    expect(relay.Parameter).toEqual([{ name: 'sessionId', value: sessionId }]);

    const session = await getSession(table, sessionId);
    expect(session).toMatchObject({
      callSid: callFrom(from).CallSid,
      accountSid: CALL.AccountSid,
      from,
      to: CALL.To,
      useCaseId: 'default',
      status: 'created',
      tools: [expect.objectContaining({ name: 'choose_demo' })],
      dtmfMap: { '1': expect.objectContaining({ tool: 'choose_demo' }) },
      llm: { maxToolRounds: 4 },
      filler: { afterMs: 800, text: 'One moment please.' },
      timeZone: 'America/Denver',
    });
    expect(session!.systemPrompt).toContain(`Caller: ${from} (name not known yet). Known caller: no.`);
    expect(session!.systemPrompt).toContain('Today is Tuesday, November 25, 2025 (2025-11-25, a Tuesday) in America/Denver.');
    // The chooser is unlisted; the listed demos are offered.
    expect(session!.systemPrompt).toContain('- apartment-search: Parkview Apartments. Find and tour an apartment in Missoula.');
    expect(session!.systemPrompt).not.toContain('{{');
    expect(d.log.lines.some((l) => l.level === 'info' && l.message === 'Call answered')).toBe(true);
  });

  it('sends a caller with a profile to the use case they chose, with their name in the prompt', async () => {
    const from = '+14065550102';
    await updateProfile(table, from, { firstName: 'Dana', lastName: 'Reyes', useCaseId: 'apartment-search' });
    const result = await createCallSetupHandler(deps(table))(twilioPost({ path: '/call-setup', params: callFrom(from) }));

    const { relay } = relayOf(result.body);
    const sessionId = new URL(relay.url as string).searchParams.get('session')!;
    expect(relay.welcomeGreeting).toBe('Thanks for calling Parkview Apartments!');
    expect(relay.Parameter).toEqual(
      expect.arrayContaining([
        { name: 'propertyName', value: 'Parkview Apartments' },
        { name: 'sessionId', value: sessionId },
      ]),
    );
    const session = await getSession(table, sessionId);
    expect(session).toMatchObject({
      useCaseId: 'apartment-search',
      llm: { model: 'gpt-4o-mini', temperature: 0.3, maxToolRounds: 3 },
      filler: { afterMs: 600, text: 'Let me check.' },
      tools: [expect.objectContaining({ name: 'check_availability', timeoutMs: 5000 })],
    });
    expect(session!.systemPrompt).toBe(
      'You lease apartments at Parkview. You are speaking with Dana Reyes (+14065550102). Today is Tuesday, November 25, 2025. Property: Parkview Apartments.',
    );
  });

  it('falls back to the default use case when the profile names one that is not loaded', async () => {
    const from = '+14065550103';
    await updateProfile(table, from, { firstName: 'Sam', useCaseId: 'retired-demo' });
    const d = deps(table);
    const result = await createCallSetupHandler(d)(twilioPost({ path: '/call-setup', params: callFrom(from) }));

    const { relay } = relayOf(result.body);
    const session = await getSession(table, new URL(relay.url as string).searchParams.get('session')!);
    expect(session?.useCaseId).toBe('default');
    expect(session?.systemPrompt).toContain('Caller: Sam (+14065550103). Known caller: yes.');
    expect(d.log.lines.some((l) => l.level === 'warn' && /not loaded/.test(l.message))).toBe(true);
  });

  it('does not give withheld numbers a shared profile', async () => {
    await updateProfile(table, '+266696687', { firstName: 'Somebody', useCaseId: 'apartment-search' });
    const result = await createCallSetupHandler(deps(table))(twilioPost({ path: '/call-setup', params: callFrom('+266696687') }));
    const { relay } = relayOf(result.body);
    const session = await getSession(table, new URL(relay.url as string).searchParams.get('session')!);
    expect(session?.useCaseId).toBe('default');
    expect(session?.systemPrompt).not.toContain('Somebody');
  });

  it('escapes a greeting and custom parameters containing "<>&\' into well-formed XML that reads back unchanged', async () => {
    const nasty = `Say "hi" <b>& welcome</b> to Ann's place`;
    const escTable = await createTestTable();
    try {
      await putUseCase(escTable, {
        ...DEFAULT_USE_CASE,
        promptTemplate: 'Hello {{callerPhone}}, note: {{quirk}}',
        conversationRelay: { welcomeGreeting: nasty, hints: `a<b, "c"&'d'`, customParameters: { quirk: nasty, [`k"<>&'`]: `v"<>&'` } },
      });
      const result = await createCallSetupHandler(deps(escTable))(twilioPost({ path: '/call-setup', params: callFrom('+14065550104') }));
      expect(result.body).not.toContain('<b>');
      const { relay } = relayOf(result.body);
      expect(relay.welcomeGreeting).toBe(nasty);
      expect(relay.hints).toBe(`a<b, "c"&'d'`);
      expect(relay.Parameter).toEqual(expect.arrayContaining([{ name: 'quirk', value: nasty }, { name: `k"<>&'`, value: `v"<>&'` }]));
      const session = await getSession(escTable, new URL(relay.url as string).searchParams.get('session')!);
      expect(session?.systemPrompt).toBe(`Hello +14065550104, note: ${nasty}`);
    } finally {
      await escTable.drop();
    }
  });

  it('puts every attribute the use case sets on <ConversationRelay>, with <Language> and <Parameter> children', async () => {
    const settings: ConversationRelaySettings = {
      welcomeGreeting: 'Welcome.',
      welcomeGreetingInterruptible: 'speech',
      language: 'en-US',
      ttsLanguage: 'en-US',
      transcriptionLanguage: 'en-US',
      ttsProvider: 'ElevenLabs',
      voice: 'UgBBYS2sOqTuMpoF3BR0',
      transcriptionProvider: 'Deepgram',
      speechModel: 'nova-3-general',
      hints: 'Parkview, Missoula, studio',
      interruptible: 'any',
      preemptible: true,
      interruptSensitivity: 'high',
      ignoreBackchannel: true,
      reportInputDuringAgentSpeech: 'none',
      dtmfDetection: true,
      partialPrompts: false,
      speechTimeout: 1200,
      profanityFilter: false,
      elevenlabsTextNormalization: 'on',
      intelligenceService: 'GA0123456789abcdef0123456789abcdef',
      debug: 'debugging speaker-events',
      languages: [
        { code: 'es-MX', ttsProvider: 'Google', voice: 'es-US-Journey-F', transcriptionProvider: 'Google', speechModel: 'telephony' },
        { code: 'fr-FR', voice: 'fr-FR-Neural2-A' },
      ],
      customParameters: { tier: 'gold', region: 'mountain' },
    };
    const allTable = await createTestTable();
    try {
      await putUseCase(allTable, { ...DEFAULT_USE_CASE, promptTemplate: 'Plain prompt.', conversationRelay: settings });
      const result = await createCallSetupHandler(deps(allTable))(twilioPost({ path: '/call-setup', params: callFrom('+14065550105') }));
      const { relay } = relayOf(result.body);
      const { languages, customParameters, ...attributes } = settings;
      for (const [name, value] of Object.entries(attributes)) expect(relay[name], name).toBe(String(value));
      expect(relay.Language).toEqual(languages);
      const sessionId = new URL(relay.url as string).searchParams.get('session')!;
      expect(relay.Parameter).toEqual([
        { name: 'tier', value: 'gold' },
        { name: 'region', value: 'mountain' },
        { name: 'sessionId', value: sessionId },
      ]);
    } finally {
      await allTable.drop();
    }
  });

  it('rebuilds the signed URL with a named stage, and honours x-forwarded-proto and a public base URL override', async () => {
    const staged = await createCallSetupHandler(deps(table))(
      twilioPost({ path: '/call-setup', stage: 'prod', params: callFrom('+14065550106') }),
    );
    expect(relayOf(staged.body).connect.action).toMatch(new RegExp(`^https://${HOST}/prod/connect-action\\?session=`));

    const viaHttp = await createCallSetupHandler(deps(table))(
      twilioPost({ path: '/call-setup', host: '127.0.0.1:8080', forwardedProto: 'http', params: callFrom('+14065550106') }),
    );
    expect(relayOf(viaHttp.body).connect.action).toMatch(/^http:\/\/127\.0\.0\.1:8080\/connect-action\?session=/);

    // A custom domain: Twilio called (and signed) https://voice.example.test/call-setup; API Gateway saw its own host.
    const custom = await createCallSetupHandler(deps(table, { publicBaseUrl: 'https://voice.example.test/' }))(
      twilioPost({ path: '/call-setup', signUrl: 'https://voice.example.test/call-setup', params: callFrom('+14065550106') }),
    );
    expect(relayOf(custom.body).connect.action).toMatch(/^https:\/\/voice\.example\.test\/connect-action\?session=/);
  });

  it('accepts a body that is not base64-encoded', async () => {
    const result = await createCallSetupHandler(deps(table))(twilioPost({ path: '/call-setup', base64: false, params: callFrom('+14065550107') }));
    expect(relayOf(result.body).relay.url).toContain('?session=');
  });

  describe('refuses requests that Twilio did not sign, and writes nothing', () => {
    let refuseTable: TestTable;
    beforeAll(async () => {
      refuseTable = await createTestTable();
      await putUseCase(refuseTable, DEFAULT_USE_CASE);
    });
    afterAll(async () => {
      await refuseTable.drop();
    });

    const cases: [string, Parameters<typeof twilioPost>[0]][] = [
      ['missing signature', { path: '/call-setup', params: callFrom('+14065550110'), signWith: null }],
      ['signed with another token', { path: '/call-setup', params: callFrom('+14065550110'), signWith: 'not-the-token' }],
      ['tampered parameters', { path: '/call-setup', params: callFrom('+14065550110'), tamper: (p) => ({ ...p, From: '+14065550666' }) }],
      ['an added parameter', { path: '/call-setup', params: callFrom('+14065550110'), tamper: (p) => ({ ...p, Extra: '1' }) }],
      ['signed for another URL', { path: '/call-setup', params: callFrom('+14065550110'), signUrl: 'https://evil.example.test/call-setup' }],
      ['signed for another path', { path: '/call-setup', params: callFrom('+14065550110'), signUrl: `https://${HOST}/connect-action` }],
      ['an extra query parameter', { path: '/call-setup', query: 'x=1', params: callFrom('+14065550110'), signUrl: `https://${HOST}/call-setup` }],
    ];
    it.each(cases)('%s -> 403', async (_name, request) => {
      const d = deps(refuseTable);
      const result = await createCallSetupHandler(d)(twilioPost(request));
      expect(result.statusCode).toBe(403);
      expect(result.body).not.toContain('<Response');
      expect(await sessionItems(refuseTable)).toEqual([]);
      const warning = d.log.lines.find((l) => l.level === 'warn');
      expect(warning?.message).toMatch(/signed/);
      expect(warning?.extra[0]).toMatchObject({ route: 'call-setup', callSid: callFrom('+14065550110').CallSid });
      expect(d.log.text()).not.toContain(AUTH_TOKEN);
    });
  });

  describe('never an application error', () => {
    it('table unreachable -> a spoken apology and <Hangup/>, 200 text/xml, an error log with context and no token', async () => {
      const unreachable = createTable({ name: 'nowhere', endpoint: `http://127.0.0.1:${await closedPort()}`, region: 'local' });
      try {
        const d = deps(unreachable as TestTable);
        const result = await createCallSetupHandler(d)(twilioPost({ path: '/call-setup', params: callFrom('+14065550120') }));
        expectApology(result);
        const error = d.log.lines.find((l) => l.level === 'error');
        expect(error?.extra[0]).toMatchObject({ callSid: callFrom('+14065550120').CallSid, error: expect.objectContaining({ name: 'StoreError' }) });
        expect(d.log.text()).not.toContain(AUTH_TOKEN);
      } finally {
        unreachable.doc.destroy();
      }
    });

    it('no use case loaded at all -> apology', async () => {
      const empty = await createTestTable();
      try {
        const d = deps(empty);
        expectApology(await createCallSetupHandler(d)(twilioPost({ path: '/call-setup', params: callFrom('+14065550121') })));
        expect(d.log.lines.find((l) => l.level === 'error')?.extra[0]).toMatchObject({ error: expect.objectContaining({ name: 'NotFoundError' }) });
        expect(await sessionItems(empty)).toEqual([]);
      } finally {
        await empty.drop();
      }
    });

    it('the auth token cannot be loaded -> apology, nothing written', async () => {
      const d = deps(table, {
        authToken: async () => {
          throw new Error('SSM GetParameter failed: AccessDenied');
        },
      });
      const before = (await sessionItems(table)).length;
      expectApology(await createCallSetupHandler(d)(twilioPost({ path: '/call-setup', params: callFrom('+14065550122') })));
      expect((await sessionItems(table)).length).toBe(before);
    });

    it('a signed request without CallSid -> apology', async () => {
      const { CallSid: _omit, ...noSid } = CALL;
      const result = await createCallSetupHandler(deps(table))(twilioPost({ path: '/call-setup', params: { ...noSid, From: '+14065550123' } }));
      expectApology(result);
    });
  });
});
