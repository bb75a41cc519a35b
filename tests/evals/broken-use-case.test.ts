import { describe, it } from 'vitest';
import { evalCli } from '../../dev/evals/cli.ts';
import { loadEvals } from '../../dev/evals/eval-files.ts';
import { FAST_OFFLINE, repositoryWithCopyOf, runLocally } from './support.ts';

/**
 * An eval is only worth something if it fails when the use case breaks: a tool that books the wrong layout, or a
 * prompt (the offline model's script) that no longer hands off, makes the eval about it fail, with a message that
 * reads as a diff, while the evals about other things still pass.
 */
const APARTMENTS = '06_use-case-apartment-search';

// Each test breaks a copy of its own and runs its own app, so the two run side by side. Each runs its two evals one
// after the other on one app (its table put back between them): starting a second app costs more CPU than the
// wait it saves.
describe.concurrent('a deliberately broken use case fails the right eval', () => {
  it('a schedule_tour that books for the wrong phone number fails the booking eval on its table check, though the words sound right', { timeout: 120_000 }, async ({ expect, onTestFinished }) => {
    const repo = await repositoryWithCopyOf(APARTMENTS);
    onTestFinished(repo.remove);
    await repo.edit('src/tools/schedule-tour.ts', (code) => code.replace('{ phone: caller.from, sessionId: caller.sessionId }', "{ phone: '+14065550000', sessionId: caller.sessionId }"));
    const cases = (await loadEvals(repo.root)).filter((c) => ['apartment-search/booking', 'apartment-search/pets-policy'].includes(c.id));
    const runs = await runLocally({ cases, rootDir: repo.root, concurrency: 1 });

    const pets = runs.find((r) => r.evalCase.id === 'apartment-search/pets-policy')!;
    expect(pets.checks.filter((c) => c.status === 'fail')).toEqual([]);
    const booking = runs.find((r) => r.evalCase.id === 'apartment-search/booking')!;
    expect(booking.status).toBe('fail');
    const failed = booking.checks.filter((c) => c.status === 'fail').map((c) => `${c.scope}: ${c.what} | ${c.detail}`);
    const caller = booking.log!.legs[0]!.from;
    expect(failed).toHaveLength(1);
    expect(failed[0]).toBe(
      `call: table: 1 item at apartments#parkview / slot#... with {"status":"booked","layoutId":"two-bedroom","booking":{"phone":"${caller}"}} | ` +
        `0 of ${failed[0]!.match(/\| 0 of (\d+) items/)?.[1]} items at apartments#parkview / slot#... match`,
    );
    // The agent said the right words and called the right tool: only the table shows what the tool really did.
    expect(booking.checks.find((c) => c.what === 'says "booked"')!.status).toBe('pass');
    expect(booking.checks.find((c) => c.what.startsWith('called schedule_tour'))!.status).toBe('pass');
  });

  it('npm run eval exits non-zero and prints the diff when the script stops handing off', { timeout: 120_000 }, async ({ expect, onTestFinished }) => {
    const repo = await repositoryWithCopyOf(APARTMENTS);
    onTestFinished(repo.remove);
    await repo.edit('offline-model.json', (json) => json.replace('"tool": "live_agent_handoff"', '"tool": "get_property_info"').replace('"summary": "The caller asked to speak with a leasing agent. They said: {{user}}"', '"topic": "fees"'));
    const out: string[] = [];
    const code = await evalCli(['--use-case', 'apartment-search', '--grep', 'handoff|availability', '--concurrency', '1', '--reply-timeout', '8000'], {
      rootDir: repo.root,
      env: { ...process.env, ...FAST_OFFLINE, OPENAI_API_KEY: '', OPENAI_BASE_URL: '' },
      out: (l) => out.push(l),
      err: (l) => out.push(l),
    });
    const text = out.join('\n');
    expect(code).toBe(1);
    expect(text).toMatch(/✓ apartment-search\/availability/);
    expect(text).toMatch(/✗ apartment-search\/handoff/);
    expect(text).toContain('✗ apartment-search/handoff: Hands off to a leasing agent with a summary (06_use-case-apartment-search/evals/handoff.yaml)');
    expect(text).toMatch(/step 2 \(line 12\): called live_agent_handoff\n\s+live_agent_handoff was not called; tools called: get_property_info \{"topic":"fees"\}/);
    expect(text).toMatch(/call: the app ended the call with handoff data including \{"reason":"live-agent-handoff"\}, then Twilio dials\n\s+the call was still open when the script ended/);
    expect(text).toMatch(/^1 passed, 1 failed$/m);
  });
});
