import { describe, expect, it } from 'vitest';
import { loadEvals } from '../../dev/evals/eval-files.ts';
import { ROOT, runLocally } from './support.ts';

/**
 * The shipped evals pass offline, through the real local runtime (signed webhook, WebSocket through the API
 * Gateway stand-in, engine, tools, dynalite), exactly as `npm run eval` runs them on a fresh clone.
 */
describe('shipped evals, offline', () => {
  it('ships at least six apartment evals and three demo-chooser evals, and every one passes', { timeout: 120_000 }, async () => {
    const cases = await loadEvals(ROOT);
    const ids = cases.map((c) => c.id);
    for (const id of ['availability', 'booking', 'double-booking', 'pets-policy', 'confirmation-text', 'handoff']) expect(ids).toContain(`apartment-search/${id}`);
    expect(ids.filter((id) => id.startsWith('default/')).length).toBeGreaterThanOrEqual(3);

    const runs = await runLocally({ cases });
    const failures = runs.filter((r) => r.status !== 'pass').map((r) => ({ id: r.evalCase.id, status: r.status, failed: r.checks.filter((c) => c.status === 'fail') }));
    expect(failures).toEqual([]);
    for (const run of runs) {
      // Every run checked something and has a transcript; offline, only judge checks are skipped.
      expect(run.checks.filter((c) => c.status === 'pass').length).toBeGreaterThan(0);
      expect(run.checks.filter((c) => c.status === 'skip').every((c) => c.what.startsWith('judge:'))).toBe(true);
      expect(run.log!.transcript.some((l) => l.who === 'app')).toBe(true);
    }

    // Cost per call, from what the call used: the usage meter saw the table units and every function the call hit.
    const booking = runs.find((r) => r.evalCase.id === 'apartment-search/booking')!;
    const cost = booking.cost!;
    expect(cost.unpriced).toEqual([]);
    expect(cost.llm.detail).toMatch(/^offline-demo: \d+ in \(0 cached\), \d+ out$/);
    expect(cost.dynamodb.detail).toMatch(/^[\d.]+ read, [\d.]+ write units$/);
    expect(cost.dynamodb.usd).toBeGreaterThan(0);
    for (const fn of ['call-setup', 'connect', 'default', 'disconnect', 'tools-apartment-search']) expect(cost.lambda.detail).toContain(`${fn} `);
    expect(cost.conversationRelay).toEqual({ usd: 0.07, detail: '1 min' });
    // Two callers, two ConversationRelay sessions.
    expect(runs.find((r) => r.evalCase.id === 'apartment-search/double-booking')!.cost!.conversationRelay.detail).toBe('2 min');
  });
});
