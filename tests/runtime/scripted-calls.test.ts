import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOutbox } from '../../04_util-send-message/src/outbox.ts';
import { querySlots } from '../../06_use-case-apartment-search/src/inventory.ts';
import { RelayCall } from '../../dev/caller/relay-call.ts';
import { parseScript, runScript, type ScriptResult } from '../../dev/caller/script.ts';
import type { LocalRuntime } from '../../dev/local/runtime.ts';
import { getProfile } from '../../layers/data/profiles.ts';
import { getSession, listSessionsByDay, loadConversation } from '../../layers/data/sessions.ts';
import { listTurnRecords } from '../../layers/data/turns.ts';
import { ROOT, startTestRuntime, TEST_TOKEN } from './support.ts';

/**
 * The shipped demo scripts, run by the terminal caller against the real local runtime (offline model, no keys):
 * what `npm run call -- --script ...` does on a fresh clone. Asserts the transcript and the rows in the table.
 */
async function runShipped(runtime: LocalRuntime, file: string, from: string): Promise<ScriptResult> {
  const steps = parseScript(await readFile(resolve(ROOT, file), 'utf8'), file);
  const dial = { webhookUrl: runtime.webhookUrl, authToken: TEST_TOKEN, from, to: '+14065550199' };
  const calls: RelayCall[] = [await RelayCall.dial(dial)];
  const result = await runScript(calls[0]!, steps, { redial: async () => calls[calls.push(await RelayCall.dial(dial)) - 1]! });
  for (const c of calls) if (c.isOpen) await c.hangup();
  return result;
}

describe('shipped demo scripts against npm start', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await startTestRuntime();
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it('demo chooser: the name is captured by a tool and the chosen demo saved to the profile', async () => {
    const from = '+14065550301';
    const result = await runShipped(runtime, '05_use-case-default/demo-call.txt', from);
    expect(result.failures).toEqual([]);
    const said = result.transcript.filter((e) => e.who === 'app').map((e) => e.text);
    expect(said[1]).toMatch(/^Nice to meet you, Jane\. You can try the Apartment search demo/);
    expect(await getProfile(runtime.table, from)).toMatchObject({ firstName: 'Jane', lastName: 'Doe', useCaseId: 'apartment-search' });
  });

  it('apartments: calling back reaches the chosen demo; availability, booking, text, keypad, barge-in, handoff', async () => {
    const from = '+14065550302';
    const result = await runShipped(runtime, '06_use-case-apartment-search/demo-call.txt', from);
    expect(result.failures).toEqual([]);
    expect(result.transcript.some((e) => e.who === 'app' && /Thanks for calling Parkview Apartments/.test(e.text))).toBe(true);
    expect(result.transcript.some((e) => e.who === 'app' && e.interrupted)).toBe(true);
    expect(result.end?.handoffData && JSON.parse(result.end.handoffData)).toMatchObject({ reason: 'live-agent-handoff' });
    expect(result.end?.next).toMatchObject({ kind: 'other', dial: '+14065550100' });

    const booked = (await querySlots(runtime.table)).filter((s) => s.status === 'booked' && s.booking?.phone === from);
    expect(booked).toEqual([expect.objectContaining({ layoutId: 'two-bedroom' })]);
    expect(await listOutbox(runtime.table)).toEqual(expect.arrayContaining([expect.objectContaining({ to: from })]));

    // The second call's session: ended by the handoff, its outcome recorded by the action callback, every turn timed.
    const today = new Date().toISOString().slice(0, 10);
    const sessions = (await listSessionsByDay(runtime.table, [today], 100)).filter((s) => s.from === from && s.useCaseId === 'apartment-search');
    expect(sessions).toHaveLength(1);
    const session = await getSession(runtime.table, sessions[0]!.sessionId);
    expect(session).toMatchObject({ status: 'ended', outcome: expect.stringMatching(/agent|dial/i) });
    // Only what the caller heard before cutting in is in the history.
    const heard = result.transcript.find((e) => e.who === 'app' && e.interrupted)!.text.replace(/ —$/, '');
    const { messages } = await loadConversation(runtime.table, session!.sessionId);
    expect(messages.filter((m) => m.interrupted).map((m) => m.content)).toEqual([heard]);
    const turns = await listTurnRecords(runtime.table, session!.sessionId);
    expect(turns.length).toBeGreaterThanOrEqual(7);
    expect(turns.every((t) => t.promptReceivedAt > 0)).toBe(true);
    expect(turns.filter((t) => t.firstTokenPostedAt !== undefined).length).toBeGreaterThanOrEqual(7);
  });
});
