import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOutbox } from '../../04_util-send-message/src/outbox.ts';
import { querySlots } from '../../06_use-case-apartment-search/src/inventory.ts';
import { RelayCall } from '../../dev/caller/relay-call.ts';
import { parseScript, runScript, type ScriptResult } from '../../dev/caller/script.ts';
import type { LocalRuntime } from '../../dev/local/runtime.ts';
import { requestedUseCase } from '../../dev/caller/use-case-option.ts';
import { listUseCases } from '../../layers/data/use-cases.ts';
import { USE_CASE_FOLDER } from '../../scripts/lib/use-case-folders.ts';
import { getProfile } from '../../layers/data/profiles.ts';
import { getSession, listSessionsByDay, loadConversation } from '../../layers/data/sessions.ts';
import { listTurnRecords } from '../../layers/data/turns.ts';
import { ROOT, startTestRuntime, TEST_TOKEN } from './support.ts';

/**
 * Every use-case folder's demo call (its demo-call.txt, found on disk, so a new folder is covered
 * without touching this file), run by the terminal caller against the real local runtime (offline model, no
 * keys): what `npm run call -- --script ...` does on a fresh clone. The shipped use cases get deeper checks of the
 * rows they leave in the table.
 */
async function runShipped(runtime: LocalRuntime, file: string, from: string): Promise<ScriptResult> {
  const steps = parseScript(await readFile(resolve(ROOT, file), 'utf8'), file);
  const useCase = requestedUseCase(undefined, resolve(ROOT, file));
  const dial = { webhookUrl: runtime.webhookUrl, authToken: TEST_TOKEN, from, to: '+14065550199', ...(useCase ? { useCaseId: useCase.id } : {}) };
  const calls: RelayCall[] = [await RelayCall.dial(dial)];
  const redial = { ...dial, useCaseId: undefined };
  const result = await runScript(calls[0]!, steps, { redial: async () => calls[calls.push(await RelayCall.dial(redial)) - 1]! });
  for (const c of calls) if (c.isOpen) await c.hangup();
  return result;
}

const demoCalls = readdirSync(ROOT, { withFileTypes: true })
  .filter((e) => e.isDirectory() && USE_CASE_FOLDER.test(e.name) && existsSync(join(ROOT, e.name, 'demo-call.txt')))
  .map((e) => `${e.name}/demo-call.txt`)
  .sort();

describe('shipped demo scripts against npm start', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await startTestRuntime();
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  demoCalls.forEach((file, i) => {
    it(`${file} passes, in a call to its own use case`, async () => {
      const from = `+140655504${String(i).padStart(2, '0')}`;
      const result = await runShipped(runtime, file, from);
      expect(result.failures).toEqual([]);
      const today = new Date().toISOString().slice(0, 10);
      const sessions = (await listSessionsByDay(runtime.table, [today], 100)).filter((s) => s.from === from);
      expect(sessions.map((s) => s.useCaseId)).toContain(requestedUseCase(undefined, resolve(ROOT, file))!.id);
      await deeperChecks[file]?.(runtime, result, from);
    });
  });
});

/** What the shipped demo calls leave behind, beyond passing; a new folder needs no entry here. */
const deeperChecks: Record<string, (runtime: LocalRuntime, result: ScriptResult, from: string) => Promise<void>> = {
  // The name is captured by a tool and the first demo offered is saved to the profile.
  '05_use-case-default/demo-call.txt': async (runtime, result, from) => {
    const first = (await listUseCases(runtime.table)).filter((u) => u.listed && u.id !== 'default').sort((a, b) => a.name.localeCompare(b.name))[0]!;
    const said = result.transcript.filter((e) => e.who === 'app').map((e) => e.text);
    // A filler line may come between the two when saving the name is slow (a busy machine).
    expect(said[1]).toMatch(new RegExp(`Nice to meet you, Jane\\..*You can try the ${first.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} demo`));
    expect(await getProfile(runtime.table, from)).toMatchObject({ firstName: 'Jane', lastName: 'Doe', useCaseId: first.id });
  },
  // Availability, booking, text, keypad, barge-in, handoff.
  '06_use-case-apartment-search/demo-call.txt': async (runtime, result, from) => {
    expect(result.transcript.some((e) => e.who === 'app' && /Thanks for calling Parkview Apartments/.test(e.text))).toBe(true);
    expect(result.transcript.some((e) => e.who === 'app' && e.interrupted)).toBe(true);
    expect(result.end?.handoffData && JSON.parse(result.end.handoffData)).toMatchObject({ reason: 'live-agent-handoff' });
    expect(result.end?.next).toMatchObject({ kind: 'other', dial: '+14065550100' });

    const booked = (await querySlots(runtime.table)).filter((s) => s.status === 'booked' && s.booking?.phone === from);
    expect(booked).toEqual([expect.objectContaining({ layoutId: 'two-bedroom' })]);
    expect(await listOutbox(runtime.table)).toEqual(expect.arrayContaining([expect.objectContaining({ to: from })]));

    // The session: ended by the handoff, its outcome recorded by the action callback, every turn timed.
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
  },
};
