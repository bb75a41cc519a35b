import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureColdImports } from '../../bench/cold-import.ts';
import { replyTokens, runDesignBench, type DesignBenchResult } from '../../bench/design-bench.ts';
import { preemptTable, preemptVerdicts } from '../../bench/preempt-bench.ts';
import { runLoadBench } from '../../bench/load-bench.ts';
import { attributeFrame, firstWords, type ReceivedFrame } from '../../bench/load-caller.ts';
import { ownershipFigures, ownershipProblems, type CallEvidence, type ServedRequest } from '../../bench/load-checks.ts';
import { markedReplyTokens, markersIn, utterance, utteranceTurn } from '../../bench/load-markers.ts';
import { planLoad } from '../../bench/load-plan.ts';
import { loadVerdictLines, ownershipTable } from '../../bench/load-report.ts';
import { partitionOf } from '../../bench/dynamo-reads.ts';
import { BENCH_USAGE, BenchUsageError, parseBenchArgs } from '../../bench/options.ts';
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
    expect(parseBenchArgs(['--imports-only'])).toMatchObject({ mode: 'design', importsOnly: true, doc: undefined });
    expect(parseBenchArgs(['--imports-only', '--write-docs'])).toMatchObject({ importsOnly: true, doc: 'docs/BENCHMARKS.md' });
    expect(parseBenchArgs(['--imports-only', '--write-baseline', '--baseline', 'HEAD~1'])).toMatchObject({ writeBaseline: true, baseline: 'HEAD~1', doc: undefined });
    expect(parseBenchArgs(['--counts'])).toMatchObject({ mode: 'counts', turns: 10, tokens: 40, postLatencyMs: 25 });
    expect(() => parseBenchArgs(['--counts', '--calls', '2'])).toThrow(BenchUsageError);
    expect(parseBenchArgs(['--help'])).toEqual({ mode: 'help' });
    // --help names every flag the parser takes.
    for (const flag of ['calls', 'turns', 'post-latencies', 'post-latency', 'think-ms', 'interrupts', 'supersedes', 'seed', 'tokens', 'first-token-ms', 'token-gap-ms', 'import-runs', 'skip-imports', 'imports-only', 'counts', 'baseline', 'write-baseline', 'read-samples', 'write-docs', 'doc', 'help']) {
      expect(BENCH_USAGE).toContain(`--${flag}`);
    }
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
    // One measured turn per setting and design, after the unmeasured first: enough to tell the two apart.
    result = await runDesignBench({ postLatenciesMs: latencies, replyTokens: lengths, turns: 1, firstTokenMs: 5, tokenGapMs: 2, readSamples: 3, preemptTurns: 1, preemptFirstTokenMs: 5, table });
  }, 60_000);
  afterAll(async () => {
    await table?.drop();
  });

  it('runs every setting for both designs, the measured turns only, each reply complete and in order', () => {
    expect(result.settings.map((s) => [s.postLatencyMs, s.tokens])).toEqual([[0, 3], [0, 6], [5, 3], [5, 6]]);
    for (const setting of result.settings) {
      for (const design of ['ours', 'naive'] as const) {
        const turns = setting[design];
        expect(turns).toHaveLength(1);
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
    expect(result.dynamoRead.historyMessages).toBe(2);
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

  it('says each preemption utterance on its own call, with and without preemption, and tabulates them', () => {
    const preempt = result.preempt!;
    for (const scenario of ['off', 'match', 'mismatch'] as const) {
      expect(preempt.samples[scenario]).toHaveLength(1);
      expect(preempt.samples[scenario][0]!.problems).toEqual([]);
      expect(preempt.samples[scenario][0]!.leakedPosts).toBe(0);
    }
    // How many requests the preemption calls made depends on how the partial's invocation raced the final one's.
    expect(preempt.samples.off[0]!.llmRequests).toBe(1);
    const table = preemptTable(preempt);
    expect(table.rows.map((r) => r[0])).toEqual(['without preemption', 'with preemption, final = partial', 'with preemption, final differs']);
    expect(preemptVerdicts(preempt).map((v) => typeof v.met)).toEqual(['boolean', 'boolean', 'boolean']);
  });

  it('gives each reply distinct tokens, so a reordering cannot go unnoticed', () => {
    const tokens = replyTokens(6);
    expect(new Set(tokens).size).toBe(6);
    expect(tokens.join('')).toBe('Sure w1 w2 w3 w4 w5.');
  });
});

describe('many calls against the local runtime, tiny settings', () => {
  it('drives every planned turn through the real runtime and accounts for each one in the figures', async () => {
    const options = { calls: 3, turns: 3, tokens: 8, firstTokenMs: 5, tokenGapMs: 2, postLatencyMs: 0, thinkMs: 0, interruptShare: 0.34, supersedeShare: 0.23, seed: 7 };
    const result = await runLoadBench(options);
    const f = result.ownership;
    const plan = planLoad(options).flat();
    // Which cuts land depends on how the frames coalesce; that every turn is accounted for once does not.
    expect(f.turns).toBe(9);
    expect(f.planned).toEqual({
      complete: plan.filter((t) => t.fate === 'complete').length,
      interrupt: plan.filter((t) => t.fate === 'interrupt').length,
      supersede: plan.filter((t) => t.fate === 'supersede').length,
    });
    expect(Object.values(f.outcomes).reduce((a, b) => a + b, 0)).toBe(9);
    expect(f.outcomes.interrupted).toBeLessThanOrEqual(f.planned.interrupt);
    expect(f.outcomes.superseded).toBeLessThanOrEqual(f.planned.supersede);
    expect(f.storedAsHeard.interrupted).toBe(f.outcomes.interrupted);
    const s = f.storedAsHeard;
    expect(s.exact + s.full + s.other + s.missing + s.several).toBe(s.interrupted);
    expect(f.nextRequests.checked + f.nextRequests.noRequest).toBe(6);
    expect(result.expected).toBe(f.outcomes.complete);
    expect(result.overhead?.n ?? 0).toBeLessThanOrEqual(result.expected);
    // Every turn reads its conversation at least once, through the table client the bench counts on.
    expect(f.reads.total).toBeGreaterThanOrEqual(9);
    expect(f.reads.perTurn?.n).toBe(3);
    expect(f.crossSession).toEqual({ frames: 0, messages: 0 });
    const table = ownershipTable(result);
    expect(table.rows.every((r) => r.length === table.headers.length)).toBe(true);
    expect(loadVerdictLines(result)[0]).toContain(`of ${result.expected} heard complete`);
  }, 60_000);
});

describe('the load plan', () => {
  const options = { calls: 10, turns: 5, tokens: 20, interruptShare: 0.3, supersedeShare: 0.1, seed: 1 };

  it('cuts off exact shares of all turns, never supersedes a last turn, and is the same for the same seed', () => {
    const plan = planLoad(options);
    const turns = plan.flat();
    expect(plan).toHaveLength(10);
    expect(plan.every((call, i) => call.map((t) => [t.call, t.turn]).join() === [1, 2, 3, 4, 5].map((t) => [i + 1, t]).join())).toBe(true);
    expect(turns.filter((t) => t.fate === 'interrupt')).toHaveLength(15);
    expect(turns.filter((t) => t.fate === 'supersede')).toHaveLength(5);
    expect(turns.some((t) => t.fate === 'supersede' && t.turn === 5)).toBe(false);
    for (const t of turns) {
      if (t.fate === 'complete') expect(t.cutAfterWords).toBe(0);
      else if (t.fate === 'interrupt') expect(t.cutAfterWords >= 1 && t.cutAfterWords <= 18).toBe(true);
      else expect(t.cutAfterWords).toBe(1);
    }
    expect(planLoad(options)).toEqual(plan);
    expect(planLoad({ ...options, seed: 2 })).not.toEqual(plan);
  });

  it('gives an empty closing frame to the reply before it, and words the LLM never wrote to no reply', () => {
    const words = markedReplyTokens(1, 1, 0, 3);
    const first = attributeFrame({ token: words[0]!, last: false, at: 0 }, undefined);
    expect(attributeFrame({ token: '', last: true, at: 1 }, first)).toMatchObject({ call: 1, turn: 1, request: 0, words: 0 });
    const apology = attributeFrame({ token: "I'm sorry, something went wrong.", last: false, at: 2 }, first);
    expect(apology).toMatchObject({ engineLine: true, words: 0 });
    expect(apology.request).toBeUndefined();
    expect(attributeFrame({ token: '', last: true, at: 3 }, apology)).toMatchObject({ engineLine: true });
  });

  it('marks every word with its call, turn and request, and reads them back', () => {
    const tokens = markedReplyTokens(3, 2, 17, 4);
    expect(tokens.join('')).toBe('c3t2r17w0 c3t2r17w1 c3t2r17w2 c3t2r17w3.');
    expect(markersIn(tokens.slice(1, 3).join(''))).toEqual([
      { call: 3, turn: 2, request: 17, word: 1 },
      { call: 3, turn: 2, request: 17, word: 2 },
    ]);
    expect(utteranceTurn(`${utterance(4, 1)} ${utterance(4, 2)}`)).toEqual({ call: 4, turn: 2 });
    expect(firstWords(tokens.join(''), 2)).toBe('c3t2r17w0 c3t2r17w1');
    expect(firstWords(tokens.join(''), 9)).toBe(tokens.join(''));
    expect(partitionOf({ Key: { pk: 'session#a', sk: 'meta' } })).toBe('session#a');
    expect(partitionOf({ Key: { pk: { S: 'session#b' }, sk: { S: 'meta' } } })).toBe('session#b');
    expect(partitionOf({ KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'session#c', ':msg': 'msg#' } })).toBe('session#c');
  });
});

describe('the reply-ownership counters, on runs whose answers are known', () => {
  // Call 1: turn 1 finished, turn 2 interrupted after two words, turn 3 superseded by turn 4 after one word.
  const reply = (turn: number, request: number, words = 4) => markedReplyTokens(1, turn, request, words);
  const frame = (token: string, last = false) => ({ token, last, at: 0 });
  const asFrames = (raw: { token: string; last: boolean; at: number }[]): ReceivedFrame[] =>
    raw.reduce<ReceivedFrame[]>((out, f) => [...out, attributeFrame(f, out[out.length - 1])], []);
  const heard2 = reply(2, 1).slice(0, 2).join('');
  const heard3 = reply(3, 2)[0]!;
  const served = (id: number, turn: number, messages: ServedRequest['messages']): ServedRequest => ({ id, call: 1, turn, messages, sent: reply(turn, id).join('') });
  const user = (turn: number) => ({ role: 'user', content: utterance(1, turn) });
  const assistant = (content: string) => ({ role: 'assistant', content });

  const good = (): { calls: CallEvidence[]; requests: ServedRequest[] } => ({
    calls: [
      {
        call: 1,
        sessionId: 's1',
        turns: [
          { call: 1, turn: 1, planned: 'complete', outcome: 'complete', promptSentAt: 0 },
          { call: 1, turn: 2, planned: 'interrupt', outcome: 'interrupted', promptSentAt: 0, heard: heard2 },
          { call: 1, turn: 3, planned: 'supersede', outcome: 'superseded', promptSentAt: 0, heardBeforeSupersede: heard3 },
          { call: 1, turn: 4, planned: 'complete', outcome: 'complete', promptSentAt: 0 },
        ],
        frames: asFrames([
          frame(reply(1, 0).slice(0, 2).join('')),
          frame(reply(1, 0).slice(2).join(''), true),
          frame(heard2),
          frame('', true),
          frame(heard3),
          frame(reply(3, 2)[1]!),
          frame('', true),
          frame(reply(4, 3).join(''), true),
        ]),
        stored: [user(1), assistant(reply(1, 0).join('')), user(2), { ...assistant(heard2), interrupted: true }, user(3), assistant(reply(3, 2).slice(0, 2).join('')), user(4), assistant(reply(4, 3).join(''))],
        reads: 8,
      },
    ],
    requests: [
      served(0, 1, [user(1)]),
      served(1, 2, [user(1), assistant(reply(1, 0).join('')), user(2)]),
      served(2, 3, [user(1), assistant(reply(1, 0).join('')), user(2), assistant(heard2), user(3)]),
      served(3, 4, [user(1), assistant(reply(1, 0).join('')), user(2), assistant(heard2), user(3), assistant(reply(3, 2).slice(0, 2).join('')), user(4)]),
    ],
  });

  it('finds nothing wrong with a run where every reply is owned correctly', () => {
    const { calls, requests } = good();
    const f = ownershipFigures(calls, requests);
    expect(f.outcomes).toEqual({ complete: 2, interrupted: 1, superseded: 1, fallback: 0, 'no-reply': 0 });
    expect(f.storedAsHeard).toEqual({ interrupted: 1, exact: 1, full: 0, other: 0, missing: 0, several: 0 });
    expect(f.lateFrames).toEqual({ total: 0, maxPerReply: 0, replies: 0 });
    expect(f.nextRequests).toEqual({ checked: 3, missingUser: 0, missingReply: 0, wrongReply: 0, noRequest: 0, extraRequests: 0 });
    expect(f.lastFlags).toEqual({ replies: 4, exactlyOne: 4, none: 0, several: 0, completeNotOne: 0 });
    expect(f.crossSession).toEqual({ frames: 0, messages: 0 });
    expect(f.duplicates).toEqual({ user: 0, assistant: 0 });
    expect(f.reads).toMatchObject({ total: 8, turns: 4, perTurn: { n: 1, p50: 2, max: 2 } });
    expect(ownershipProblems(f)).toEqual([]);
  });

  it('counts each kind of failure where it happened', () => {
    const { calls, requests } = good();
    const call = calls[0]!;
    // The interrupted reply stored whole; turn 3's reply keeps streaming over turn 4's (two late frames) and
    // is closed twice; another call's reply lands on this socket; the caller's turn 2 is stored twice.
    call.stored[3] = assistant(reply(2, 1).join(''));
    call.stored.push(user(2), assistant(markedReplyTokens(2, 1, 9, 2).join('')));
    call.frames = asFrames([
      ...call.frames.slice(0, 6).map((f) => ({ token: f.token, last: f.last, at: 0 })),
      frame(reply(4, 3).slice(0, 2).join('')),
      frame(reply(3, 2)[2]!),
      frame(reply(3, 2)[3]!, true),
      frame(reply(4, 3).slice(2).join(''), true),
      frame(markedReplyTokens(2, 1, 9, 2).join(''), true),
    ]);
    // Turn 3's request lacks turn 2's caller message and carries the whole reply; turn 4's lacks turn 3's reply.
    requests[2] = served(2, 3, [user(1), assistant(reply(1, 0).join('')), assistant(reply(2, 1).join('')), user(3)]);
    requests[3] = served(3, 4, [user(1), user(2), user(3), user(4)]);
    requests.push(served(4, 4, [user(4)]));
    const f = ownershipFigures(calls, requests);
    expect(f.storedAsHeard).toMatchObject({ interrupted: 1, exact: 0, full: 1 });
    expect(f.lateFrames).toEqual({ total: 2, maxPerReply: 2, replies: 1 });
    expect(f.nextRequests).toEqual({ checked: 3, missingUser: 1, missingReply: 1, wrongReply: 1, noRequest: 0, extraRequests: 1 });
    expect(f.lastFlags).toMatchObject({ exactlyOne: 4, none: 0, several: 0 });
    expect(f.crossSession).toEqual({ frames: 1, messages: 1 });
    expect(f.duplicates).toEqual({ user: 1, assistant: 0 });
    expect(ownershipProblems(f)).toHaveLength(6);
    expect(f.examples.join('\n')).toMatch(/stored in full/);
  });

  it('reads a superseded reply as heard when it holds what was received before the newer prompt and no more than was sent', () => {
    const { calls, requests } = good();
    const previous = [user(1), assistant(reply(1, 0).join('')), user(2), assistant(heard2), user(3)];
    const figuresWith = (content: string) => {
      const next = ownershipFigures(calls, [...requests.slice(0, 3), served(3, 4, [...previous, assistant(content), user(4)])]).nextRequests;
      return [next.missingReply, next.wrongReply];
    };
    expect(figuresWith(reply(3, 2).slice(0, 2).join(''))).toEqual([0, 0]);
    expect(figuresWith(heard3)).toEqual([0, 0]);
    // More than the caller received, or nothing of it at all.
    expect(figuresWith(reply(3, 2).join(''))).toEqual([0, 1]);
    expect(figuresWith('')).toEqual([1, 0]);
  });
});

describe('cold import of the bundles', () => {
  it('builds and imports each bundle of a stack, and proves call setup carries no twilio SDK', async () => {
    const result = await measureColdImports({ runs: 1, stacks: ['03_twiml-api'], analyse: false });
    expect(result.bundles.map((b) => b.functionId).sort()).toEqual(['AgentSmsFunction', 'CallSetupFunction', 'ConnectActionFunction', 'WhisperFunction']);
    for (const bundle of result.bundles) {
      expect(bundle.bytes).toBeGreaterThan(0);
      expect(bundle.importMs).toHaveLength(1);
    }
    expect(result.twilio).toMatchObject({ bundle: '03_twiml-api/CallSetupFunction', fullSdk: false, twilioModulesLoaded: 0 });
    expect(coldImportTable(result).rows).toHaveLength(4);
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
