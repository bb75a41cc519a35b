import { DEFAULT_HISTORY_MESSAGES } from '../layers/data/index.ts';
import { createIdFactory } from '../layers/data/ids.ts';
import type { Table } from '../layers/data/index.ts';
import { startBenchTable } from './local-table.ts';
import { PREEMPT_SETTINGS, runPreemptBench, type PreemptBenchResult } from './preempt-bench.ts';
import { startStand, type Design, type ReplyPlan, type Stand } from './stand.ts';
import { median, percentile } from './stats.ts';
import type { TurnSample } from './turn-sample.ts';

/**
 * Ours against the naive baseline, side by side in one run: for every post latency and reply length, one call
 * per design on the same gateway, LLM server and table, turns interleaved A-B, B-A, ... so drift in the machine
 * (other processes, GC, a warming JIT) lands on both designs alike. Each call's first turn is a warm-up (the
 * container's first frame of a call reads the connection pointer; connection pools open) and is not counted.
 */
export interface DesignBenchOptions {
  postLatenciesMs: number[];
  replyTokens: number[];
  /** Measured turns per design and setting. */
  turns: number;
  firstTokenMs: number;
  tokenGapMs: number;
  /** Repetitions of each DynamoDB read measured. */
  readSamples: number;
  /** Utterances per preemption scenario (0: not measured), with the LLM's time to first token for them. */
  preemptTurns: number;
  preemptFirstTokenMs: number;
  /** A table to use (tests); otherwise dynalite is started in its own process. */
  table?: Table;
  progress?: (line: string) => void;
}

export interface SettingResult {
  postLatencyMs: number;
  tokens: number;
  ours: TurnSample[];
  naive: TurnSample[];
}

export interface DynamoReadResult {
  /** GetItem of the session item (strongly consistent, the turn-control projection), p50 ms. */
  getItemP50: number;
  /** The per-turn conversation Query (session + history), p50 ms. */
  queryP50: number;
  /** Messages in the history that Query read. */
  historyMessages: number;
  samples: number;
}

export interface DesignBenchResult {
  options: Omit<DesignBenchOptions, 'table' | 'progress'>;
  settings: SettingResult[];
  dynamoRead: DynamoReadResult;
  preempt?: PreemptBenchResult | undefined;
}

/** `count` word-sized tokens, each distinct, so a dropped, doubled or reordered token shows in the text check. */
export function replyTokens(count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? 'Sure' : i === count - 1 ? ` w${i}.` : ` w${i}`));
}

export async function runDesignBench(options: DesignBenchOptions): Promise<DesignBenchResult> {
  const progress = options.progress ?? (() => undefined);
  const own = options.table ? undefined : await startBenchTable();
  const table = options.table ?? own!.table;
  let stand: Stand | undefined;
  try {
    stand = await startStand(table);
    const settings: SettingResult[] = [];
    for (const postLatencyMs of options.postLatenciesMs) {
      for (const tokens of options.replyTokens) {
        settings.push(await runSetting(stand, options, postLatencyMs, tokens));
        const last = settings[settings.length - 1]!;
        progress(
          `  post ${postLatencyMs} ms, ${tokens} tokens: overhead p50 ours ${fmt(median(last.ours.map((s) => s.overheadMs)))} / naive ${fmt(median(last.naive.map((s) => s.overheadMs)))} ms, ` +
            `tail lag p50 ours ${fmt(median(last.ours.map((s) => s.tailLagMs)))} / naive ${fmt(median(last.naive.map((s) => s.tailLagMs)))} ms`,
        );
      }
    }
    const preempt =
      options.preemptTurns > 0
        ? await runPreemptBench(
            stand,
            { ...PREEMPT_SETTINGS, turns: options.preemptTurns, firstTokenMs: options.preemptFirstTokenMs, tokenGapMs: options.tokenGapMs },
            progress,
          )
        : undefined;
    const dynamoRead = await measureDynamoReads(stand, options.turns * 2, Math.max(...options.replyTokens), options.readSamples);
    const { table: _t, progress: _p, ...rest } = options;
    return { options: rest, settings, dynamoRead, preempt };
  } finally {
    await stand?.stop();
    await own?.stop();
  }
}

async function runSetting(stand: Stand, options: DesignBenchOptions, postLatencyMs: number, tokens: number): Promise<SettingResult> {
  stand.gateway.setPostLatency(postLatencyMs);
  const reply: ReplyPlan = { tokens: replyTokens(tokens), firstTokenMs: options.firstTokenMs, tokenGapMs: options.tokenGapMs };
  const calls = { ours: await stand.openCall('ours'), naive: await stand.openCall('naive') };
  const result: SettingResult = { postLatencyMs, tokens, ours: [], naive: [] };
  try {
    await stand.runTurn(calls.ours, reply);
    await stand.runTurn(calls.naive, reply);
    for (let i = 0; i < options.turns; i++) {
      const order: Design[] = i % 2 === 0 ? ['ours', 'naive'] : ['naive', 'ours'];
      for (const design of order) result[design].push(await stand.runTurn(calls[design], reply));
    }
  } finally {
    await calls.ours.close();
    await calls.naive.close();
  }
  return result;
}

/**
 * The cost of one read on this table, so the first target ("within one local DynamoDB read + 2 ms") has its
 * yardstick from the same run: GetItem of the session item and the conversation Query over a history as long
 * as a setting's calls reach.
 */
async function measureDynamoReads(stand: Stand, historyMessages: number, tokens: number, samples: number): Promise<DynamoReadResult> {
  const call = await stand.openCall('ours');
  await call.close();
  const newId = createIdFactory();
  const content = replyTokens(tokens).join('');
  await stand.store.appendMessages(
    call.sessionId,
    Array.from({ length: historyMessages }, (_, i) => ({ messageId: newId(), role: i % 2 === 0 ? ('user' as const) : ('assistant' as const), content, turn: Math.floor(i / 2) + 1 })),
  );
  const time = async (read: () => Promise<unknown>) => {
    const out: number[] = [];
    for (let i = 0; i < samples + 10; i++) {
      const started = performance.now();
      await read();
      if (i >= 10) out.push(performance.now() - started);
    }
    return out;
  };
  const getItem = await time(() => stand.store.readLedger(call.sessionId));
  const query = await time(() => stand.store.loadConversation(call.sessionId, DEFAULT_HISTORY_MESSAGES));
  return { getItemP50: percentile(getItem, 50) ?? Number.NaN, queryP50: percentile(query, 50) ?? Number.NaN, historyMessages, samples };
}

function fmt(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(1);
}

export type { TurnSample };
