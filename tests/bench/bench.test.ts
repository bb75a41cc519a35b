import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureColdImports } from '../../bench/cold-import.ts';
import { replyTokens, runDesignBench, type DesignBenchResult } from '../../bench/design-bench.ts';
import { loadReplyTokens, runLoadBench } from '../../bench/load-bench.ts';
import { BenchUsageError, parseBenchArgs } from '../../bench/options.ts';
import { coldImportTable, DESIGN_METRICS, designTables, designVerdicts, importVerdicts, renderMarkdown, renderText, writeDocSection } from '../../bench/report.ts';
import { percentile, spread } from '../../bench/stats.ts';
import { measureTurn, type TextPost } from '../../bench/turn-sample.ts';
import type { RecordedRequest } from '../../dev/llm/index.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';

/**
 * The bench harness on tiny settings: it must count, order and tabulate correctly. Nothing here asserts a time;
 * the benchmark's numbers live in docs/BENCHMARKS.md, not in the test suite.
 */

describe('one turn on the wire', () => {
  const request = (tokens: string[]): RecordedRequest => ({
    body: { model: 'm', messages: [] } as unknown as RecordedRequest['body'],
    receivedAt: 1_000,
    firstTokenSentAt: 1_200,
    lastTokenSentAt: 1_240,
    aborted: false,
    tokensSent: tokens.length,
    status: 200,
    reply: { tokens },
  });
  const post = (token: string, at: number, last = false): TextPost => ({ receivedAt: at, answeredAt: at + 10, token, last });

  it('measures from the first and last posts that carry words, and counts the closing frame as a post', () => {
    const sample = measureTurn({
      promptSentAt: 990,
      request: request(['Hi', ' there', '.']),
      posts: [post('Hi', 1_201), post(' there.', 1_245), post('', 1_250, true)],
      readMs: 3,
      llmCalledAt: 996,
    });
    expect(sample.problems).toEqual([]);
    expect(sample.overheadMs).toBe(1);
    expect(sample.preLlmMs).toBe(10);
    expect(sample.ownOverheadMs).toBe(11);
    expect(sample.tailLagMs).toBe(5);
    expect(sample.tailLagDeliveredMs).toBe(15);
    expect(sample.llmDispatchMs).toBe(4);
    expect(sample.posts).toBe(3);
    expect(sample.tokens).toBe(3);
  });

  it('reports a reordered or cut reply, and a reply without exactly one final last:true', () => {
    const reordered = measureTurn({ promptSentAt: 0, request: request(['a', 'b']), posts: [post('b', 1_201), post('a', 1_202, true)] });
    expect(reordered.problems.join()).toMatch(/differs/);
    const noLast = measureTurn({ promptSentAt: 0, request: request(['a', 'b']), posts: [post('a', 1_201), post('b', 1_202)] });
    expect(noLast.problems.join()).toMatch(/last:true/);
    const twoLasts = measureTurn({ promptSentAt: 0, request: request(['a', 'b']), posts: [post('a', 1_201, true), post('b', 1_202, true)] });
    expect(twoLasts.problems.join()).toMatch(/last:true/);
  });
});

describe('percentiles', () => {
  it('are nearest-rank values that occurred', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4], 95)).toBe(4);
    expect(percentile([], 50)).toBeUndefined();
    expect(spread([1, 2, Number.NaN, 3])).toEqual({ n: 3, p50: 2, p95: 3, p99: 3, max: 3 });
  });
});

describe('flags', () => {
  it('reads the design defaults, the load mode and rejects bad flags', () => {
    const design = parseBenchArgs([]);
    expect(design).toMatchObject({ mode: 'design', postLatenciesMs: [0, 10, 25, 50], replyTokens: [20, 120], firstTokenMs: 200, tokenGapMs: 10 });
    expect(parseBenchArgs(['--calls', '100', '--turns', '10'])).toMatchObject({ mode: 'load', calls: 100, turns: 10 });
    expect(parseBenchArgs(['--tokens', '120,20'])).toMatchObject({ replyTokens: [20, 120], doc: undefined });
    // The tracked document is rewritten only when asked (a trial run once rewrote docs/BENCHMARKS.md silently).
    expect(design).toMatchObject({ doc: undefined });
    expect(parseBenchArgs(['--calls', '2'])).toMatchObject({ doc: undefined });
    expect(parseBenchArgs(['--write-docs'])).toMatchObject({ mode: 'design', doc: 'docs/BENCHMARKS.md' });
    expect(parseBenchArgs(['--calls', '2', '--write-docs'])).toMatchObject({ mode: 'load', doc: 'docs/BENCHMARKS.md' });
    expect(parseBenchArgs(['--help'])).toEqual({ mode: 'help' });
    expect(() => parseBenchArgs(['--no-doc'])).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(['--turns', 'many'])).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(['--post-latencies', '0;10'])).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(['--frobnicate'])).toThrow(BenchUsageError);
  });
});

describe('ours against the naive baseline, tiny settings', () => {
  let table: TestTable;
  let result: DesignBenchResult;
  const latencies = [0, 5];
  const lengths = [3, 6];

  beforeAll(async () => {
    table = await createTestTable();
    result = await runDesignBench({ postLatenciesMs: latencies, replyTokens: lengths, turns: 2, firstTokenMs: 5, tokenGapMs: 2, readSamples: 3, table });
  }, 60_000);
  afterAll(async () => {
    await table?.drop();
  });

  it('runs every setting for both designs, the measured turns only, each reply complete and in order', () => {
    expect(result.settings.map((s) => [s.postLatencyMs, s.tokens])).toEqual([[0, 3], [0, 6], [5, 3], [5, 6]]);
    for (const setting of result.settings) {
      for (const design of ['ours', 'naive'] as const) {
        const turns = setting[design];
        expect(turns).toHaveLength(2);
        for (const turn of turns) {
          expect(turn.problems).toEqual([]);
          expect(turn.tokens).toBe(setting.tokens);
          expect(Number.isFinite(turn.overheadMs) && Number.isFinite(turn.tailLagMs) && Number.isFinite(turn.readMs)).toBe(true);
        }
      }
      // The naive baseline posts every token on its own, then the closing frame; ours never posts more than that.
      for (const turn of setting.naive) expect(turn.posts).toBe(setting.tokens + 1);
      for (const turn of setting.ours) expect(turn.posts).toBeLessThanOrEqual(setting.tokens + 1);
    }
    expect(result.dynamoRead.samples).toBe(3);
    expect(result.dynamoRead.historyMessages).toBe(4);
  });

  it('tabulates every metric for every setting with ours, naive and the ratio', () => {
    const tables = designTables(result);
    expect(tables).toHaveLength(DESIGN_METRICS.length);
    for (const table of tables) {
      expect(table.headers).toHaveLength(8);
      expect(table.rows.map((r) => r.slice(0, 2))).toEqual([['0', '3'], ['0', '6'], ['5', '3'], ['5', '6']]);
      for (const row of table.rows) expect(row).toHaveLength(8);
      expect(renderMarkdown(table).split('\n')).toHaveLength(4 + table.rows.length);
      expect(renderText(table).split('\n')).toHaveLength(3 + table.rows.length);
    }
    const posts = tables.find((t) => t.title.startsWith('Posts per turn'))!;
    // Naive posts per turn: the token count plus the closing frame, in both percentile columns.
    expect(posts.rows.map((r) => [r[3], r[6]])).toEqual([['4', '4'], ['7', '7'], ['4', '4'], ['7', '7']]);
    expect(designVerdicts(result).map((v) => typeof v.met)).toEqual(['boolean', 'boolean', 'boolean', 'boolean']);
  });

  it('gives each reply distinct tokens, so a reordering cannot go unnoticed', () => {
    const tokens = replyTokens(6);
    expect(new Set(tokens).size).toBe(6);
    expect(tokens.join('')).toBe('Sure w1 w2 w3 w4 w5.');
  });
});

describe('many calls against the local runtime, tiny settings', () => {
  it('compares every reply heard with what the LLM server sent for that call and turn', async () => {
    const result = await runLoadBench({ calls: 3, turns: 2, tokens: 4, firstTokenMs: 5, tokenGapMs: 2, postLatencyMs: 0 });
    expect(result.mismatches).toEqual([]);
    expect(result.expected).toBe(6);
    expect(result.requests).toBe(6);
    expect(result.matched).toBe(6);
    expect(result.overhead?.n).toBe(6);
    expect(result.postsPerTurn?.n).toBe(6);
    expect(loadReplyTokens(2, 1, 4).join('')).toBe('Call 2 turn 1: w1 w2 w3.');
  }, 60_000);
});

describe('cold import of the bundles', () => {
  it('builds and imports each bundle of a stack, and proves call setup carries no twilio SDK', async () => {
    const result = await measureColdImports({ runs: 1, stacks: ['03_twiml-api'], analyse: false });
    expect(result.bundles.map((b) => b.functionId).sort()).toEqual(['CallSetupFunction', 'ConnectActionFunction']);
    for (const bundle of result.bundles) {
      expect(bundle.bytes).toBeGreaterThan(0);
      expect(bundle.importMs).toHaveLength(1);
    }
    expect(result.twilio).toMatchObject({ bundle: '03_twiml-api/CallSetupFunction', fullSdk: false, twilioModulesLoaded: 0 });
    expect(coldImportTable(result).rows).toHaveLength(2);
    expect(importVerdicts(result).map((v) => v.target)).toEqual(['The call-setup bundle does not load the full twilio SDK']);
  }, 60_000);
});

describe('the document', () => {
  it('rewrites only its own section', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-doc-'));
    try {
      const path = join(dir, 'BENCHMARKS.md');
      await writeDocSection(path, 'design', 'first design', '# Benchmarks\n\nintro\n');
      await writeDocSection(path, 'load', 'first load', '# unused\n');
      await writeDocSection(path, 'design', 'second design', '# unused\n');
      const text = await readFile(path, 'utf8');
      expect(text).toContain('intro');
      expect(text).toContain('<!-- bench:design -->\nsecond design\n<!-- /bench:design -->');
      expect(text).toContain('<!-- bench:load -->\nfirst load\n<!-- /bench:load -->');
      expect(text).not.toContain('first design');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
