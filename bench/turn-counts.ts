import { writeFile } from 'node:fs/promises';
import { preciseNow } from '../dev/llm/index.ts';
import { getSession } from '../layers/data/index.ts';
import type { Table } from '../layers/data/table.ts';
import { startBenchTable } from './local-table.ts';
import { startStand } from './stand.ts';
import { median } from './stats.ts';

/**
 * What one call and one turn cost in AWS requests, counted on the real handlers behind the local API Gateway and
 * a local table: DynamoDB reads and writes (every command the document client sends), PostToConnection calls,
 * Lambda invocations, and how long the $default invocation of a turn runs (what Lambda bills and what concurrency
 * holds). docs/SCALING.md's load model (scripts/scaling.ts) is computed from this result.
 */
export interface PhaseCounts {
  invocations: number;
  reads: number;
  writes: number;
  posts: number;
  /** DynamoDB commands by name (GetCommand, QueryCommand, PutCommand, UpdateCommand...). */
  commands: Record<string, number>;
}

export interface TurnCountsResult {
  measuredAt: string;
  settings: { turns: number; tokens: number; firstTokenMs: number; tokenGapMs: number; postLatencyMs: number };
  /** $connect, and the `setup` frame ($default). The session write of call setup is counted apart (callSetup). */
  callStart: PhaseCounts;
  /** Call setup's own table writes as the stand makes them (the session item); its reads are not in the stand. */
  callSetupWrites: number;
  /** Per prompt turn (medians over the measured turns). */
  turn: PhaseCounts & { lambdaMs: number; replyMs: number };
  /** $disconnect. */
  callEnd: PhaseCounts;
}

const READS = new Set(['GetCommand', 'QueryCommand', 'BatchGetCommand', 'ScanCommand']);
const WRITES = new Set(['PutCommand', 'UpdateCommand', 'DeleteCommand', 'BatchWriteCommand', 'TransactWriteCommand']);

/** The table with every command counted by name. */
function countingTable(table: Table): { table: Table; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const doc = new Proxy(table.doc, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (key !== 'send' || typeof value !== 'function') return value;
      return (command: { constructor: { name: string } }, ...rest: unknown[]) => {
        counts.set(command.constructor.name, (counts.get(command.constructor.name) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, [command, ...rest]);
      };
    },
  });
  return { table: { doc, name: table.name }, counts };
}

function diff(after: Map<string, number>, before: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) out[k] = v - (before.get(k) ?? 0);
  return out;
}

function phase(commands: Record<string, number>, invocations: number, posts: number): PhaseCounts {
  let reads = 0;
  let writes = 0;
  for (const [name, n] of Object.entries(commands)) {
    if (READS.has(name)) reads += n;
    else if (WRITES.has(name)) writes += n;
  }
  return { invocations, reads, writes, posts, commands };
}

export async function measureTurnCounts(options: {
  turns: number;
  tokens: number;
  firstTokenMs: number;
  tokenGapMs: number;
  postLatencyMs: number;
  progress?: (line: string) => void;
}): Promise<TurnCountsResult> {
  const bench = await startBenchTable();
  const { table, counts } = countingTable(bench.table);
  const stand = await startStand(table);
  try {
    stand.gateway.setPostLatency(options.postLatencyMs);
    const snapshot = () => new Map(counts);
    const before = snapshot();
    const call = await stand.openCall('ours');
    const opened = diff(snapshot(), before);
    // The stand writes the session as call setup would (one PutCommand), then $connect and the setup frame run.
    const callSetupWrites = 1;
    opened.PutCommand = (opened.PutCommand ?? 0) - callSetupWrites;
    const callStart = phase(opened, 2, 0);

    const words = Array.from({ length: options.tokens }, (_, i) => `word${i} `);
    const turns: (PhaseCounts & { lambdaMs: number; replyMs: number })[] = [];
    for (let i = 0; i <= options.turns; i++) {
      const b = snapshot();
      const started = preciseNow();
      const sample = await stand.runTurn(call, { tokens: words, firstTokenMs: options.firstTokenMs, tokenGapMs: options.tokenGapMs });
      const lambdaMs = preciseNow() - started;
      const c = phase(diff(snapshot(), b), 1, sample.posts);
      // The first turn warms the session directory and connection pools, as a warm container would be.
      if (i > 0) turns.push({ ...c, lambdaMs, replyMs: options.firstTokenMs + options.tokenGapMs * (options.tokens - 1) });
      options.progress?.(`  turn ${i}: ${c.reads} reads, ${c.writes} writes, ${c.posts} posts, ${lambdaMs.toFixed(0)} ms`);
    }
    const med = (key: 'reads' | 'writes' | 'posts' | 'lambdaMs') => median(turns.map((t) => t[key])) ?? Number.NaN;

    const b = snapshot();
    await call.close();
    // $disconnect runs after the socket closed: wait until it has marked the session ended.
    for (let i = 0; i < 200; i++) {
      const session = await getSession(bench.table, call.sessionId);
      if (session?.status === 'ended') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const callEnd = phase(diff(snapshot(), b), 1, 0);

    return {
      measuredAt: new Date().toISOString(),
      settings: { turns: options.turns, tokens: options.tokens, firstTokenMs: options.firstTokenMs, tokenGapMs: options.tokenGapMs, postLatencyMs: options.postLatencyMs },
      callStart,
      callSetupWrites,
      turn: {
        invocations: 1,
        reads: med('reads'),
        writes: med('writes'),
        posts: med('posts'),
        lambdaMs: Number(med('lambdaMs').toFixed(1)),
        replyMs: turns[0]?.replyMs ?? 0,
        commands: turns[turns.length - 1]?.commands ?? {},
      },
      callEnd,
    };
  } finally {
    await stand.stop();
    await bench.stop();
  }
}

export async function writeTurnCounts(result: TurnCountsResult, path: string): Promise<void> {
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`);
}
