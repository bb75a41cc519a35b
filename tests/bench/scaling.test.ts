import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { measureTurnCounts, type TurnCountsResult } from '../../bench/turn-counts.ts';
import { DEFAULT_ASSUMPTIONS, loadModel, QUOTAS, renderLoadModel } from '../../scripts/lib/load-model.ts';
import { runScaling } from '../../scripts/scaling.ts';

/** The counts the load model starts from, and the model's arithmetic; no time is asserted. */
const counts: TurnCountsResult = {
  measuredAt: '2026-01-01T00:00:00.000Z',
  settings: { turns: 10, tokens: 40, firstTokenMs: 200, tokenGapMs: 10, postLatencyMs: 25 },
  callStart: { invocations: 2, reads: 1, writes: 2, posts: 0, commands: {} },
  callSetupWrites: 1,
  turn: { invocations: 1, reads: 6, writes: 5, posts: 6, lambdaMs: 640, replyMs: 590, commands: {} },
  callEnd: { invocations: 1, reads: 2, writes: 1, posts: 0, commands: {} },
};

describe('load model', () => {
  it('turns per-turn counts into requests per second against the quotas', () => {
    const m = loadModel(counts, 1000);
    expect(m.turnsPerSecond).toBe(100);
    expect(m.callsStartingPerSecond).toBeCloseTo(1000 / 180, 6);
    // Posts scale with the streaming time: 6 posts over 390 ms in the bench, 40 tokens at 30/s = 1333 ms here.
    expect(m.postsPerTurn).toBe(Math.round((6 * 1333.333) / 390));
    expect(m.lambdaMsPerTurn).toBeCloseTo(50 + 700 + 1333.333, 2);
    expect(m.defaultConcurrency).toBeCloseTo(100 * (m.lambdaMsPerTurn / 1000), 6);
    const row = (what: string) => m.rows.find((r) => r.what.startsWith(what))!;
    expect(row('DynamoDB writes').perSecond).toBeCloseTo(100 * 5 + (1000 / 180) * (1 + 2 + 1), 6);
    expect(row('DynamoDB reads').perSecond).toBeCloseTo(100 * 6 + (1000 / 180) * (DEFAULT_ASSUMPTIONS.callSetupReads + 1 + 2), 6);
    expect(row('API Gateway requests').perSecond).toBeCloseTo(100 + 1000 / 180 + 100 * m.postsPerTurn, 6);
    expect(row('Lambda concurrency').limit).toBe(QUOTAS.lambdaConcurrency);
    expect(m.bindsFirst.use).toBe(Math.max(...m.rows.map((r) => r.use)));
  });

  it('never counts more posts than tokens, and grows linearly with calls', () => {
    const slow = loadModel(counts, 1000, { ...DEFAULT_ASSUMPTIONS, llmTokensPerSecond: 1 });
    expect(slow.postsPerTurn).toBe(DEFAULT_ASSUMPTIONS.replyTokens);
    const [a, b] = [loadModel(counts, 1000), loadModel(counts, 10_000)];
    // All but the SSM reads of a scale-out, which Lambda's own scale-up rate caps.
    for (const [i, r] of a.rows.entries()) if (!r.what.startsWith('SSM')) expect(b.rows[i]!.perSecond).toBeCloseTo(r.perSecond * 10, 6);
  });

  it('renders the measured inputs and a table per call count; the script reads and validates the counts file', async () => {
    const text = renderLoadModel(counts, [loadModel(counts, 1000), loadModel(counts, 10_000)]);
    expect(text).toContain('### 1,000 simultaneous calls');
    expect(text).toContain('### 10,000 simultaneous calls');
    expect(text).toContain('| turn ($default, 640 ms');
    const dir = await mkdtemp(join(tmpdir(), 'scaling-'));
    try {
      const file = join(dir, 'counts.json');
      await writeFile(file, JSON.stringify(counts));
      // Without --write-docs the tracked document is left alone: the run only prints.
      const printed = await runScaling(['--counts', file, '--calls', '500']);
      expect(printed).toContain('### 500 simultaneous calls');
      expect(printed).toContain('docs/SCALING.md unchanged');
      expect(await runScaling(['--help'])).toMatch(/^Usage: npm run scaling.*--write-docs/s);
      await expect(runScaling(['--no-doc', '--counts', file])).rejects.toThrow(/no-doc/);
      await writeFile(file, JSON.stringify({ ...counts, turn: { ...counts.turn, lambdaMs: -1 } }));
      await expect(runScaling(['--counts', file])).rejects.toThrow(/lambdaMs/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('turn counts on the real handlers', () => {
  it('counts the invocations, table commands and posts of a call and its turns', async () => {
    const result = await measureTurnCounts({ turns: 1, tokens: 4, firstTokenMs: 0, tokenGapMs: 0, postLatencyMs: 0 });
    expect(result.callStart.invocations).toBe(2);
    expect(result.callStart.writes).toBeGreaterThanOrEqual(1);
    expect(result.turn.invocations).toBe(1);
    expect(result.turn.commands.QueryCommand).toBe(1);
    expect(result.turn.reads).toBeGreaterThanOrEqual(1);
    expect(result.turn.writes).toBeGreaterThanOrEqual(1);
    expect(result.turn.posts).toBeGreaterThanOrEqual(1);
    expect(result.turn.posts).toBeLessThanOrEqual(4);
    // $disconnect ends the session and records the dropped connection in the turn ledger (reconnect grace).
    expect(result.callEnd.commands.UpdateCommand).toBe(2);
  }, 60_000);
});
