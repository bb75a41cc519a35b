import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listOutbox } from '../../04_util-send-message/src/outbox.ts';
import { addDays, spokenTime } from '../../06_use-case-apartment-search/src/calendar.ts';
import { querySlots, refreshInventory, slotTimeFor } from '../../06_use-case-apartment-search/src/inventory.ts';
import { useCase } from '../../06_use-case-apartment-search/src/index.ts';
import { createLocalMessageSender } from '../../layers/messaging/local-message-sender.ts';
import type { ToolCaller, ToolInvoker, ToolOutcome } from '../../layers/tools/contract.ts';
import { createInProcessToolInvoker } from '../../layers/tools/in-process-invoker.ts';
import { startFakeTwilio, type FakeTwilio } from '../messaging/fake-twilio.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import { CALLER, deps, invocation, recordingLogger } from '../tools/support.ts';

// 07:00 in Missoula (MDT, UTC-6) on Monday, June 15 2026: every slot of the day is still ahead.
const NOW = new Date('2026-06-15T13:00:00Z');
const TODAY = '2026-06-15';
const OTHER: Partial<ToolCaller> = { sessionId: 'session-2', callSid: 'CA00000000000000000000000000000002', from: '+14065550999' };

let table: TestTable;
let clock: Date;
let tools: ToolInvoker;

const call = (tool: string, args: unknown, caller: Partial<ToolCaller> = {}) =>
  tools.invoke(invocation(tool, args, { useCaseId: 'apartment-search', ...caller }), { timeoutMs: 10_000 });

function result<T = Record<string, unknown>>(outcome: ToolOutcome): T {
  if (!outcome.ok) throw new Error(`expected success, got ${JSON.stringify(outcome.error)}`);
  return outcome.result as T;
}

/**
 * A fresh inventory costs a table and sixty conditional writes. Tests that only read slots and layouts, or record
 * an availability check no other test reads, share one; a test that books or refreshes gets its own.
 */
let shared: TestTable;
const owned: TestTable[] = [];
beforeAll(async () => {
  shared = await createTestTable();
  await refreshInventory(shared, NOW);
});
afterAll(async () => {
  await shared?.drop();
});
beforeEach(() => {
  table = shared;
  clock = NOW;
  tools = createInProcessToolInvoker(useCase.tools, deps(table, { now: () => clock }));
});
afterEach(async () => {
  for (const t of owned.splice(0)) await t.drop();
});

/** This test's own inventory, as of NOW, for a test that books or refreshes. */
async function ownInventory(): Promise<void> {
  table = await createTestTable();
  owned.push(table);
  await refreshInventory(table, NOW);
  tools = createInProcessToolInvoker(useCase.tools, deps(table, { now: () => clock }));
}

describe('inventory loader and daily refresh', () => {
  it('opens one slot per day, layout and tour type for 7 days, on the half hour between 8:00 AM and 4:30 PM local', async () => {
    const slots = await querySlots(table);
    expect(slots).toHaveLength(7 * 4 * 2);
    expect(new Set(slots.map((s) => s.date))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6].map((d) => addDays(TODAY, d))));
    expect(new Set(slots.map((s) => `${s.date}|${s.layoutId}|${s.tourType}`)).size).toBe(56);
    for (const s of slots) {
      expect(s.time >= '08:00' && s.time <= '16:30' && /:(00|30)$/.test(s.time), s.time).toBe(true);
      expect(s.status).toBe('open');
      // Missoula is UTC-6 in June.
      const [hh, mm] = s.time.split(':').map(Number) as [number, number];
      expect(s.startsAt).toBe(new Date(Date.UTC(...(s.date.split('-').map(Number) as [number, number, number]).map((v, i) => (i === 1 ? v - 1 : v)) as [number, number, number], hh + 6, mm)).toISOString());
    }
  });

  it('rolls the window forward without touching bookings', async () => {
    await ownInventory();
    result(await call('check_availability', { layout: 'studio', date: TODAY }));
    const time = slotTimeFor(TODAY, 'studio', 'in-person');
    result(await call('schedule_tour', { layout: 'studio', tourType: 'in-person', date: TODAY, time }));

    const tomorrow = new Date(NOW.getTime() + 24 * 3600_000);
    const summary = await refreshInventory(table, tomorrow);
    expect(summary).toEqual({ layouts: 4, slotsCreated: 8, slotsKept: 48, pastSlotsRemoved: 7 });
    const slots = await querySlots(table);
    expect(slots.filter((s) => s.date === TODAY)).toEqual([
      expect.objectContaining({ layoutId: 'studio', tourType: 'in-person', status: 'booked', booking: expect.objectContaining({ phone: CALLER.from }) }),
    ]);
    expect(slots.filter((s) => s.date === addDays(TODAY, 7))).toHaveLength(8);
  });
});

describe('check_availability', () => {
  it('returns the open times for a layout, spoken naturally', async () => {
    const out = result<{ layout: string; openTimes: { date: string; time: string; tourType: string; spoken: string }[] }>(
      await call('check_availability', { layout: 'two-bedroom', tourType: 'self-guided' }),
    );
    expect(out.layout).toBe('Two-bedroom');
    expect(out.openTimes).toHaveLength(7);
    const first = out.openTimes[0]!;
    expect(first).toMatchObject({ date: TODAY, tourType: 'self-guided', time: slotTimeFor(TODAY, 'two-bedroom', 'self-guided') });
    expect(first.spoken).toBe(`Monday, June 15 at ${spokenTime(first.time)}, self-guided`);
  });

  it('leaves out slots that have already started today', async () => {
    clock = new Date('2026-06-15T22:59:00Z'); // 4:59 PM local: today is over
    const out = result<{ openTimes: unknown[] }>(await call('check_availability', { layout: 'studio', date: TODAY }));
    expect(out.openTimes).toEqual([]);
    expect(out).toMatchObject({ note: expect.stringContaining('Tours can be booked from Monday, June 15 to Sunday, June 21') });
  });

  it('asks for a layout it knows', async () => {
    const outcome = await call('check_availability', { layout: 'penthouse' });
    expect(outcome).toMatchObject({ ok: false, error: { code: 'invalid_arguments', message: expect.stringContaining('layout: expected one of "studio", "one-bedroom", "two-bedroom", "three-bedroom", got string "penthouse"') } });
    expect(await call('check_availability', {})).toMatchObject({ ok: false, error: { code: 'invalid_arguments', message: expect.stringContaining('layout: missing') } });
  });
});

describe('schedule_tour', () => {
  beforeEach(ownInventory);
  const date = addDays(TODAY, 2);
  const time = slotTimeFor(date, 'one-bedroom', 'in-person');
  const tour = { layout: 'one-bedroom', tourType: 'in-person', date, time };

  it('is refused until availability was checked in this call', async () => {
    const outcome = await call('schedule_tour', tour);
    expect(outcome).toMatchObject({ ok: false, error: { code: 'conflict', message: expect.stringContaining('Call check_availability first') } });
    // A check in another call does not count for this one.
    await call('check_availability', { layout: 'one-bedroom' }, OTHER);
    expect(await call('schedule_tour', tour)).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  it("books the slot for the session's caller, accepting a spoken time", async () => {
    await call('check_availability', { layout: 'one-bedroom' });
    // A number in the arguments never reaches the handler: it is refused as an unknown argument.
    expect(await call('schedule_tour', { ...tour, phone: '+19995550000' })).toMatchObject({ ok: false, error: { code: 'invalid_arguments', message: expect.stringContaining('unknown argument "phone"') } });
    const out = result(await call('schedule_tour', { ...tour, time: spokenTime(time) }));
    expect(out).toMatchObject({ booked: true, layout: 'One-bedroom', date, time, address: '1705 Adams Street, Missoula, Montana 59802' });
    const slot = (await querySlots(table)).find((s) => s.date === date && s.layoutId === 'one-bedroom' && s.tourType === 'in-person');
    expect(slot).toMatchObject({ status: 'booked', booking: { phone: CALLER.from, sessionId: CALLER.sessionId, bookingId: out.bookingId } });
  });

  it('never books one slot twice: the second caller is refused', async () => {
    await call('check_availability', { layout: 'one-bedroom' });
    await call('check_availability', { layout: 'one-bedroom' }, OTHER);
    expect((await call('schedule_tour', tour)).ok).toBe(true);
    const second = await call('schedule_tour', tour, OTHER);
    expect(second).toEqual({
      ok: false,
      error: { code: 'conflict', message: 'Sorry, that time was just booked by someone else. Call check_availability again and offer another time.' },
    });
  });

  it('lets exactly one of two simultaneous bookings win', async () => {
    await call('check_availability', { layout: 'one-bedroom' });
    await call('check_availability', { layout: 'one-bedroom' }, OTHER);
    const outcomes = await Promise.all([call('schedule_tour', tour), call('schedule_tour', tour, OTHER)]);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(outcomes.filter((o) => !o.ok && o.error.code === 'conflict')).toHaveLength(1);
  });

  it('refuses a time that has no open slot', async () => {
    await call('check_availability', { layout: 'one-bedroom' });
    const other = time === '08:00' ? '08:30' : '08:00';
    expect(await call('schedule_tour', { ...tour, time: other })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await call('schedule_tour', { ...tour, time: '25:00' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_arguments', message: expect.stringContaining('time: expected a time like 14:30') },
    });
  });
});

describe('list_available_apartments', () => {
  const layoutsOf = async (args: unknown) => result<{ apartments: { layoutId: string }[] }>(await call('list_available_apartments', args)).apartments.map((a) => a.layoutId);

  it('lists every layout without filters, with dates relative to today', async () => {
    const out = result<{ apartments: Record<string, unknown>[] }>(await call('list_available_apartments', {}));
    expect(out.apartments.map((a) => a.layoutId)).toEqual(['studio', 'one-bedroom', 'two-bedroom', 'three-bedroom']);
    expect(out.apartments[0]).toMatchObject({
      layout: 'Studio',
      monthlyRent: 1050,
      squareFeet: 450,
      availableFrom: 'Monday, June 29',
      special: "First month's rent free for a move-in before the deadline. Deadline: Tuesday, July 14.",
    });
  });

  it('filters by layout, maximum rent, move-in date and pets', async () => {
    expect(await layoutsOf({ maxRent: 1200 })).toEqual(['studio', 'one-bedroom']);
    expect(await layoutsOf({ moveInBy: addDays(TODAY, 10) })).toEqual(['two-bedroom']);
    expect(await layoutsOf({ pets: ['cat'] })).toEqual(['one-bedroom', 'two-bedroom', 'three-bedroom']);
    expect(await layoutsOf({ pets: ['dog'] })).toEqual(['two-bedroom', 'three-bedroom']);
    expect(await layoutsOf({ pets: ['small-pet'] })).toEqual(['three-bedroom']);
    expect(await layoutsOf({ layout: 'studio', pets: ['cat'] })).toEqual([]);
    expect(await layoutsOf({ layout: 'three-bedroom', maxRent: 3000 })).toEqual(['three-bedroom']);
  });

  it('refuses nonsense filters', async () => {
    expect(await call('list_available_apartments', { maxRent: -5 })).toMatchObject({ ok: false, error: { code: 'invalid_arguments', message: expect.stringContaining('maxRent') } });
    expect(await call('list_available_apartments', { pets: ['parrot'] })).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
  });
});

describe('check_existing_appointments', () => {
  beforeEach(ownInventory);
  it("reads back the session caller's tours only, and refuses a number in the arguments", async () => {
    await call('check_availability', { layout: 'studio' });
    const date = addDays(TODAY, 1);
    result(await call('schedule_tour', { layout: 'studio', tourType: 'self-guided', date, time: slotTimeFor(date, 'studio', 'self-guided') }));

    expect(await call('check_existing_appointments', { phone: OTHER.from })).toMatchObject({ ok: false, error: { code: 'invalid_arguments', message: expect.stringContaining('unknown argument "phone"') } });
    const mine = result<{ appointments: { layout: string; date: string }[] }>(await call('check_existing_appointments', {}));
    expect(mine.appointments).toEqual([expect.objectContaining({ layout: 'Studio', date, tourType: 'self-guided', spoken: expect.stringContaining('Tuesday, June 16') })]);
    const theirs = result<{ appointments: unknown[]; note: string }>(await call('check_existing_appointments', {}, OTHER));
    expect(theirs).toEqual({ appointments: [], note: 'The caller has no upcoming tours booked from this number.' });
  });
});

describe('get_property_info', () => {
  it('answers one topic for one layout, with figures worked out', async () => {
    const out = result(await call('get_property_info', { topic: 'income', layout: 'studio' }));
    expect(out).toEqual({
      property: 'Parkview Apartments, Missoula, Montana',
      topic: 'income',
      answers: [{ layout: 'Studio', answer: 'Income must be 2.5 times the rent. That is a gross monthly income of at least 2625 dollars.' }],
    });
  });

  it('answers for every layout when none is named', async () => {
    const out = result<{ answers: { layout: string; answer: string }[] }>(await call('get_property_info', { topic: 'pets' }));
    expect(out.answers.map((a) => a.layout)).toEqual(['Studio', 'One-bedroom', 'Two-bedroom', 'Three-bedroom']);
    expect(out.answers[0]?.answer).toBe('No pets allowed.');
    for (const topic of ['fees', 'parking', 'specials', 'location', 'utilities']) {
      expect(result<{ answers: unknown[] }>(await call('get_property_info', { topic })).answers, topic).toHaveLength(4);
    }
  });

  it('refuses an unknown topic', async () => {
    expect(await call('get_property_info', { topic: 'gym' })).toMatchObject({ ok: false, error: { code: 'invalid_arguments', message: expect.stringContaining('topic: expected one of "pets", "fees"') } });
  });
});

describe('send_appointment_confirmation', () => {
  beforeEach(ownInventory);
  let twilioServer: FakeTwilio;
  const ACCOUNT_SID = `AC${'d4'.repeat(16)}`;
  const date = addDays(TODAY, 3);
  const time = slotTimeFor(date, 'three-bedroom', 'in-person');

  beforeAll(async () => {
    twilioServer = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: 'token' });
  });
  afterAll(async () => {
    await twilioServer.close();
  });

  const book = async (caller: Partial<ToolCaller> = {}) => {
    await call('check_availability', { layout: 'three-bedroom' }, caller);
    return result<{ bookingId: string }>(await call('schedule_tour', { layout: 'three-bedroom', tourType: 'in-person', date, time }, caller));
  };
  const withSender = (env: NodeJS.ProcessEnv, print?: (l: string) => void) => {
    const logger = recordingLogger();
    tools = createInProcessToolInvoker(useCase.tools, deps(table, { now: () => clock, logger, messages: createLocalMessageSender({ table, logger, env, ...(print ? { print } : {}) }) }));
  };
  const twilioEnv = { TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: 'token', TWILIO_FROM_NUMBER: '+14065550100', TWILIO_API_BASE_URL: '' };

  it("texts the caller's own number through Twilio, at the wire", async () => {
    withSender({ ...twilioEnv, TWILIO_API_BASE_URL: twilioServer.baseUrl });
    await book();
    expect(await call('send_appointment_confirmation', { to: '+19995550000' })).toMatchObject({ ok: false, error: { message: expect.stringContaining('unknown argument "to"') } });
    const out = result(await call('send_appointment_confirmation', {}));
    expect(out).toEqual({ sent: true, to: 'the number the caller is calling from' });
    const request = twilioServer.requests.at(-1)!;
    expect(request.form.To).toBe(CALLER.from);
    expect(request.form.Body).toBe(
      `Parkview Apartments: your in-person tour of the Three-bedroom apartment is confirmed for Thursday, June 18 at ${spokenTime(time)} at 1945 Roosevelt Way, Missoula, Montana 59802. Call us if you need to change it.`,
    );
  });

  it("turns Twilio's refusal into a clear tool error", async () => {
    withSender({ ...twilioEnv, TWILIO_API_BASE_URL: twilioServer.baseUrl });
    twilioServer.invalidNumbers.add(CALLER.from);
    await book();
    const outcome = await call('send_appointment_confirmation', {});
    twilioServer.invalidNumbers.clear();
    expect(outcome).toEqual({
      ok: false,
      error: {
        code: 'failed',
        message: `The confirmation text could not be sent (Twilio refused the message (error 21211): The 'To' number ${CALLER.from} is not a valid phone number.). The tour is still booked.`,
      },
    });
  });

  it('without credentials, keeps the text in the outbox and says it was not sent', async () => {
    const printed: string[] = [];
    withSender({}, (l) => printed.push(l));
    const { bookingId } = await book();
    const out = result(await call('send_appointment_confirmation', { bookingId }));
    expect(out).toMatchObject({ sent: false, note: expect.stringContaining('not sent') });
    expect(await listOutbox(table)).toEqual([expect.objectContaining({ to: CALLER.from, body: expect.stringContaining('Thursday, June 18') })]);
    expect(printed[0]).toMatch(/^\[OUTBOX - NOT SENT\] SMS to \+14065550123: Parkview Apartments/);
  });

  it('refuses when the caller has no upcoming tour, or names another caller’s booking', async () => {
    withSender({});
    expect(await call('send_appointment_confirmation', {})).toMatchObject({ ok: false, error: { code: 'not_found', message: 'The caller has no upcoming tour to confirm.' } });
    const { bookingId } = await book(OTHER);
    expect(await call('send_appointment_confirmation', { bookingId })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await listOutbox(table)).toEqual([]);
  });
});

describe('live_agent_handoff', () => {
  it('ends the session with handoff data for the call-setup action callback', async () => {
    const outcome = await call('live_agent_handoff', { summary: 'Jane wants to negotiate the two-bedroom lease.' });
    expect(outcome).toEqual({
      ok: true,
      result: expect.objectContaining({ transferring: true }),
      actions: [{ type: 'end', handoffData: { reason: 'live-agent-handoff', summary: 'Jane wants to negotiate the two-bedroom lease.' } }],
    });
    expect(await call('live_agent_handoff', {})).toMatchObject({ ok: false, error: { code: 'invalid_arguments', message: expect.stringContaining('summary: missing') } });
  });
});
