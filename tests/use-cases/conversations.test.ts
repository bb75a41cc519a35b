import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { listOutbox } from '../../04_util-send-message/src/outbox.ts';
import { querySlots } from '../../06_use-case-apartment-search/src/inventory.ts';
import { createScriptedResponder, findOfflineScriptFiles, loadOfflineScripts } from '../../dev/llm/index.ts';
import { getProfile } from '../../layers/data/profiles.ts';
import { getSession, loadConversation } from '../../layers/data/sessions.ts';
import { getUseCase, listUseCases } from '../../layers/data/use-cases.ts';
import { createLocalMessageSender } from '../../layers/messaging/local-message-sender.ts';
import { logger } from '../../layers/observability/logger.ts';
import { renderPrompt } from '../../layers/prompts/render.ts';
import { toLambdaHandler } from '../../layers/tools/lambda-handler.ts';
import { discoverUseCases } from '../../scripts/lib/use-case-folders.ts';
import { loadUseCases } from '../../scripts/load-use-cases.ts';
import { startEngine, waitFor, type Call, type EngineHarness } from '../engine/support.ts';

/**
 * Each shipped use case, end to end through the conversation engine (real handlers behind the local API Gateway,
 * tools as Lambda functions behind a local Invoke endpoint, local DynamoDB) with the offline model reading the
 * use case's own offline-model.json.
 */
const ROOT = resolve(import.meta.dirname, '../..');

/**
 * One engine for the file, and a caller number of its own for each test: what a test may see of another's is
 * keyed by caller (the profile and its saved demo, bookings, appointments, texts) or by session, so every test
 * starts as a first-time caller without paying for a second engine.
 */
let engine: EngineHarness;
let CALLER = '';
let callers = 0;
/** Route results before this test, and frames sent in it: each frame's handler must have returned before the next test. */
let routesBefore = 0;
let framesSent = 0;
beforeAll(async () => {
  engine = await start();
}, 60_000);
afterAll(async () => {
  await engine?.stop();
});
beforeEach(() => {
  CALLER = `+1406555${String(142 + callers++).padStart(4, '0')}`;
  routesBefore = engine.routeResults.length;
  framesSent = 0;
});
afterEach(async () => {
  await waitFor(() => engine.routeResults.length >= routesBefore + 1 + framesSent, 10_000, 'in-flight turns to finish');
});

function send(call: Call, frame: Record<string, unknown>): void {
  framesSent += 1;
  call.send(frame);
}

async function start(): Promise<EngineHarness> {
  const scripts = await loadOfflineScripts(await findOfflineScriptFiles(ROOT));
  const harness = await startEngine({ responder: createScriptedResponder(scripts), timing: { firstTokenMs: 5, tokenGapMs: 0 } });
  await loadUseCases(harness.table, { env: { ENVIRONMENT_NAME: 'test' }, log: () => undefined }, ROOT);
  const messages = createLocalMessageSender({ table: harness.table, logger, env: {}, print: () => undefined });
  for (const useCase of await discoverUseCases(ROOT)) {
    harness.toolFunctions[`cr-test-tools-${useCase.id}`] = toLambdaHandler(useCase.tools, { deps: () => ({ table: harness.table, logger, messages }) });
  }
  return harness;
}

/** A call the way call setup starts it: the stored use case, its prompt rendered for this caller. */
async function callInto(harness: EngineHarness, useCaseId: string): Promise<Call> {
  const config = await getUseCase(harness.table, useCaseId);
  const demos = (await listUseCases(harness.table)).filter((u) => u.listed && u.id !== 'default');
  const profile = await getProfile(harness.table, CALLER);
  const systemPrompt = renderPrompt(config.promptTemplate, {
    caller: { phone: CALLER, ...(profile?.firstName ? { firstName: profile.firstName } : {}), ...(profile?.lastName ? { lastName: profile.lastName } : {}) },
    now: new Date(),
    timeZone: config.timeZone,
    useCaseName: config.name,
    demos,
  });
  return harness.startCall({
    from: CALLER,
    useCaseId,
    systemPrompt,
    tools: config.tools,
    dtmfMap: config.dtmfMap,
    llm: config.llm,
    // Replies here are instant; a filler would only add noise to the transcript.
    filler: { ...config.filler, afterMs: 10_000 },
    timeZone: config.timeZone,
  });
}

async function say(call: Call, words: string, expected: RegExp): Promise<string> {
  const before = call.replies().length;
  send(call, { type: 'prompt', voicePrompt: words, lang: 'en-US', last: true });
  await waitFor(() => expected.test(call.replies().slice(before).join(' ')), 10_000, `a reply matching ${expected}`);
  return call.replies().slice(before).join(' ');
}

const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The demos the chooser offers, in its order: whatever listed use cases the repository has. */
async function offered(harness: EngineHarness) {
  return (await listUseCases(harness.table)).filter((u) => u.listed && u.id !== 'default').sort((a, b) => a.name.localeCompare(b.name));
}

describe('demo chooser (05) through the engine', () => {
  it('captures the name, offers the demos and saves the choice for the next call', async () => {
    const call = await callInto(engine, 'default');
    const [first] = await offered(engine);

    await say(call, "Hi, I'm looking for an apartment", /only follow a short script/);
    expect(await getProfile(engine.table, CALLER)).toBeUndefined();
    const offer = await say(call, 'Hi, my name is Jane Doe', new RegExp(`Nice to meet you, Jane\\. You can try the ${literally(first!.name)} demo`));
    for (const [i, demo] of (await offered(engine)).entries()) expect(offer).toContain(`press ${i + 1} for the ${demo.name} demo`);
    expect(await getProfile(engine.table, CALLER)).toMatchObject({ firstName: 'Jane', lastName: 'Doe' });

    await say(call, 'Yes, that one please', new RegExp(`${literally(first!.name)} demo is saved for you\\. Please hang up and call this same number again`));
    expect((await getProfile(engine.table, CALLER))?.useCaseId).toBe(first!.id);
  });

  it('a demo chosen by name or by number is saved', async () => {
    const demos = await offered(engine);
    const last = demos.at(-1)!;
    const call = await callInto(engine, 'default');
    await say(call, `the ${last.name} demo please`, /is saved for you/);
    expect((await getProfile(engine.table, CALLER))?.useCaseId).toBe(last.id);
    await say(call, 'number 1', /is saved for you/);
    expect((await getProfile(engine.table, CALLER))?.useCaseId).toBe(demos[0]!.id);
  });

  it('keypad N chooses demo number N, and 0 lists them again', async () => {
    const demos = await offered(engine);
    const call = await callInto(engine, 'default');
    send(call, { type: 'dtmf', digit: '0' });
    await waitFor(() => call.replies().join(' ').includes(`press 1 for the ${demos[0]!.name} demo`), 10_000, 'the list of demos');
    send(call, { type: 'dtmf', digit: String(demos.length) });
    await expect.poll(async () => (await getProfile(engine.table, CALLER))?.useCaseId, { timeout: 10_000 }).toBe(demos.at(-1)!.id);
  });
});

describe('apartment search (06) through the engine', () => {
  it('walks availability, booking, the confirmation text and the handoff', async () => {
    const call = await callInto(engine, 'apartment-search');

    await say(call, 'What apartments do you have?', /We have the Studio at 1050 dollars a month/);
    await say(call, "I'd like a tour of the two-bedroom", /The first open time for the Two-bedroom is \w+day, \w+ \d+ at \d+:\d\d [AP]M, in-person\. Shall I book it\?/);
    await say(call, 'Yes, book it', /You're booked for a tour of the Two-bedroom \(in-person\) on .* at 1833 Jefferson Avenue/);
    const booked = (await querySlots(engine.table)).filter((s) => s.status === 'booked');
    expect(booked).toEqual([expect.objectContaining({ layoutId: 'two-bedroom', tourType: 'in-person', booking: expect.objectContaining({ phone: CALLER, sessionId: call.sessionId }) })]);

    await say(call, 'Yes please', /texting isn't set up on this line, so the confirmation wasn't sent/);
    expect(await listOutbox(engine.table)).toEqual([expect.objectContaining({ to: CALLER, body: expect.stringContaining('Two-bedroom apartment is confirmed') })]);

    await say(call, 'Do you allow pets?', /For the Studio: No pets allowed\. For the One-bedroom: Cats only/);
    await say(call, 'What are my appointments?', /You have an in-person tour of the Two-bedroom on/);

    await say(call, 'Can I talk to a person?', /connecting you with a leasing agent/);
    await waitFor(() => call.frames().some((f) => f.type === 'end'), 10_000, 'the end frame');
    const end = call.frames().find((f) => f.type === 'end')!;
    expect(JSON.parse(String(end.handoffData))).toMatchObject({ reason: 'live-agent-handoff', summary: expect.stringContaining('leasing agent') });
    await expect.poll(async () => (await getSession(engine.table, call.sessionId))?.status, { timeout: 10_000 }).toBe('ended');
  });

  it('a Spanish prompt gets a Spanish reply tagged with lang, and asking for English switches the call back', async () => {
    const call = await callInto(engine, 'apartment-search');
    send(call, { type: 'prompt', voicePrompt: '¿Qué apartamentos tienen disponibles?', lang: 'es-US', last: true });
    await waitFor(() => /Tenemos estudios y apartamentos/.test(call.replies().join(' ')), 10_000, 'the Spanish reply');
    const texts = call.frames().filter((f) => f.type === 'text');
    expect(texts.length).toBeGreaterThan(0);
    expect(texts.every((f) => f.lang === 'es-US')).toBe(true);
    expect((await getSession(engine.table, call.sessionId))?.language).toBe('es-US');

    await say(call, 'Can we speak English?', /let's continue in English/);
    expect(call.frames().find((f) => f.type === 'language')).toEqual({ type: 'language', ttsLanguage: 'en-US', transcriptionLanguage: 'en-US' });
    expect(call.frames().at(-1)).not.toHaveProperty('lang');
  });

  it('keypad 3 collects a budget, digit by digit until #, as one input', async () => {
    const call = await callInto(engine, 'apartment-search');
    send(call, { type: 'dtmf', digit: '3' });
    await waitFor(() => /Type the most you want to pay/.test(call.replies().join(' ')), 10_000, 'the keypad prompt');
    // At a person's pace: each key's invocation is done before the next key (API Gateway runs them concurrently).
    for (const digit of '1200#') {
      send(call, { type: 'dtmf', digit });
      await waitFor(() => engine.routeResults.length >= routesBefore + 1 + framesSent, 10_000, `key ${digit} handled`);
    }
    await waitFor(() => /up to 1200 dollars a month/.test(call.replies().join(' ')), 10_000, 'the budget read-back');
    const { messages } = await loadConversation(engine.table, call.sessionId);
    expect(messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual([
      '(pressed 3) The caller pressed 3 on the keypad to type a monthly budget.',
      '(typed 1200 on the keypad) The most the caller wants to pay per month, in US dollars, typed on the keypad. Use it as maxRent for list_available_apartments.',
    ]);
  });

  it('keypad 2 reads back the caller’s appointments', async () => {
    const call = await callInto(engine, 'apartment-search');
    send(call, { type: 'dtmf', digit: '2' });
    await waitFor(() => /I don't see any upcoming tours booked from this number/.test(call.replies().join(' ')), 10_000, 'the read-back');
  });
});
