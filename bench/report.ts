import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import type { BaselineFile, BundleTiming, ColdImportResult } from './cold-import.ts';
import { CALL_SETUP_FUNCTION, DEFAULT_FUNCTION } from './cold-import.ts';
import type { DesignBenchResult, SettingResult } from './design-bench.ts';
import { percentile } from './stats.ts';
import type { TurnSample } from './turn-sample.ts';

/** Tables of results, printed to the terminal and written as markdown into docs/BENCHMARKS.md. */
export interface ResultTable {
  title: string;
  headers: string[];
  rows: string[][];
}

type Metric = { key: keyof TurnSample; title: string; stats: [number, number] };

/** The metrics compared, with the two percentiles shown for each (posts: the median and the worst turn). */
export const DESIGN_METRICS: Metric[] = [
  { key: 'overheadMs', title: 'Overhead to first token, ms (first token posted - LLM first token sent)', stats: [50, 95] },
  { key: 'preLlmMs', title: 'Prompt to LLM request, ms (prompt sent - LLM request received)', stats: [50, 95] },
  { key: 'ownOverheadMs', title: 'Own overhead on the first-token path, ms (the two above added)', stats: [50, 95] },
  { key: 'tailLagMs', title: 'Tail lag, ms (last token posted - LLM last token sent)', stats: [50, 95] },
  { key: 'tailLagDeliveredMs', title: 'Tail lag to delivery, ms (last token delivered to the caller - LLM last token sent)', stats: [50, 95] },
  { key: 'posts', title: 'Posts per turn (every PostToConnection of the reply, the closing `last` frame included)', stats: [50, 100] },
  { key: 'readMs', title: 'Conversation Query inside the turn, ms', stats: [50, 95] },
  { key: 'llmDispatchMs', title: 'LLM edge called to LLM request received, ms', stats: [50, 95] },
];

const statName = (p: number) => (p === 100 ? 'max' : `p${p}`);

export function fmt(value: number | undefined, digits = 1): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

function ratio(ours: number | undefined, naive: number | undefined): string {
  if (ours === undefined || naive === undefined || !Number.isFinite(ours) || !Number.isFinite(naive) || naive === 0) return '-';
  return (ours / naive).toFixed(2);
}

const values = (samples: TurnSample[], key: keyof TurnSample) => samples.map((s) => s[key] as number);

export function designTables(result: DesignBenchResult): ResultTable[] {
  return DESIGN_METRICS.map((metric) => {
    const [a, b] = metric.stats;
    const headers = ['post ms', 'tokens'];
    for (const p of [a, b]) headers.push(`ours ${statName(p)}`, `naive ${statName(p)}`, 'ours/naive');
    const rows = result.settings.map((s) => {
      const row = [String(s.postLatencyMs), String(s.tokens)];
      for (const p of [a, b]) {
        const ours = percentile(values(s.ours, metric.key), p);
        const naive = percentile(values(s.naive, metric.key), p);
        const digits = metric.key === 'posts' ? 0 : 1;
        row.push(fmt(ours, digits), fmt(naive, digits), ratio(ours, naive));
      }
      return row;
    });
    return { title: metric.title, headers, rows };
  });
}

const bundleName = (b: { stack: string; functionId: string }) => `${b.stack}/${b.functionId}`;

/**
 * Every bundle as built now, side by side with the baseline commit's bundle built and timed in the same run
 * (interleaved); without one, with the figures recorded in bench/cold-start-baseline.json (another run: read
 * those as indicative only).
 */
export function coldImportTable(result: ColdImportResult, committed?: BaselineFile): ResultTable {
  const inRun = result.baseline;
  const before = (b: BundleTiming) => {
    const same = inRun?.bundles.find((o) => bundleName(o) === bundleName(b));
    if (same) return { bytes: same.bytes, ms: same.medianMs, cpu: same.cpuMedianMs, stack: same.firstStackMedianMs };
    const recorded = committed?.bundles.find((o) => o.bundle === bundleName(b));
    return recorded
      ? { bytes: recorded.bytes, ms: recorded.importMedianMs, cpu: recorded.importCpuMedianMs ?? Number.NaN, stack: recorded.firstStackMedianMs ?? Number.NaN }
      : undefined;
  };
  const label = inRun ? `baseline ${inRun.ref.slice(0, 7)}, same run` : committed ? `recorded baseline ${committed.commit.slice(0, 7)}` : 'no baseline';
  return {
    title: `Cold import of every Lambda bundle with its template's NODE_OPTIONS (fresh node process each, median of ${result.runs}; ${label})`,
    headers: ['bundle', 'KiB before', 'KiB now', 'import ms before', 'import ms now', 'now/before', 'CPU ms before', 'CPU ms now', 'first stack ms before', 'first stack ms now', 'NODE_OPTIONS now'],
    rows: result.bundles.map((b) => {
      const old = before(b);
      return [
        bundleName(b),
        old ? (old.bytes / 1024).toFixed(0) : '-',
        (b.bytes / 1024).toFixed(0),
        fmt(old?.ms),
        fmt(b.medianMs),
        ratio(b.medianMs, old?.ms),
        fmt(old?.cpu),
        fmt(b.cpuMedianMs),
        fmt(old?.stack),
        fmt(b.firstStackMedianMs),
        b.nodeOptions || '(none)',
      ];
    }),
  };
}

/** The cold-start targets of the operations issue, against this run. */
export const COLD_START_TARGETS: { bundle: string; name: string; maxMs: number }[] = [
  { bundle: '02_cr-application/DefaultFunction', name: '$default', maxMs: 75 },
  { bundle: '02_cr-application/ConnectFunction', name: '$connect', maxMs: 50 },
  { bundle: '02_cr-application/DisconnectFunction', name: '$disconnect', maxMs: 20 },
  { bundle: '03_twiml-api/CallSetupFunction', name: 'call setup', maxMs: 50 },
];
export const FIRST_STACK_MAX_MS = 5;

export function coldStartVerdicts(result: ColdImportResult): Verdict[] {
  const verdicts: Verdict[] = [];
  for (const t of COLD_START_TARGETS) {
    const b = result.bundles.find((x) => bundleName(x) === t.bundle);
    if (!b) continue;
    const old = result.baseline?.bundles.find((x) => bundleName(x) === t.bundle);
    verdicts.push({
      target: `Cold import of ${t.name} at most ${t.maxMs} ms median`,
      met: b.medianMs <= t.maxMs,
      detail:
        `${fmt(b.medianMs)} ms, CPU ${fmt(b.cpuMedianMs)} ms (${(b.bytes / 1024).toFixed(0)} KiB)` +
        (old ? `; baseline in the same run ${fmt(old.medianMs)} ms, CPU ${fmt(old.cpuMedianMs)} ms (${(old.bytes / 1024).toFixed(0)} KiB)` : ''),
    });
  }
  const stacks = result.bundles.filter((b) => Number.isFinite(b.firstStackMedianMs));
  if (stacks.length) {
    const worst = stacks.reduce((a, b) => (b.firstStackMedianMs > a.firstStackMedianMs ? b : a));
    verdicts.push({
      target: `First error stack of a container at most ${FIRST_STACK_MAX_MS} ms, every bundle`,
      met: worst.firstStackMedianMs <= FIRST_STACK_MAX_MS,
      detail: `slowest ${bundleName(worst)} ${fmt(worst.firstStackMedianMs)} ms median; ${stacks.length} of ${result.bundles.length} bundles reached the probe`,
    });
  }
  return verdicts;
}

export function importAnalysisTables(result: ColdImportResult): ResultTable[] {
  const tables: ResultTable[] = [];
  if (result.mainFields.length > 0) {
    tables.push({
      title: 'Rebuilt with the esbuild BuildProperty `MainFields: module,main` (ES module builds of the AWS SDK and others)',
      headers: ['bundle', 'KiB as built', 'import ms as built', 'KiB module,main', 'import ms module,main'],
      rows: result.mainFields.map((v) => [v.functionId, (v.asBuilt.bytes / 1024).toFixed(0), fmt(v.asBuilt.medianMs), (v.moduleMain.bytes / 1024).toFixed(0), fmt(v.moduleMain.medianMs)]),
    });
  }
  const pieces = result.analyses.flatMap((a) => a.pieces.map((p) => ({ bundle: a.bundle, ...p })));
  if (pieces.length > 0) {
    tables.push({
      title: `What each piece costs at import: the bundle rebuilt without it (an inert stand-in), timed interleaved with the bundle as built (medians of ${result.runs})`,
      headers: ['bundle', 'without', 'KiB without', 'ms as built', 'ms without', 'saved ms', 'CPU ms as built', 'CPU ms without', 'saved CPU ms'],
      rows: pieces.map((p) => [
        p.bundle,
        p.piece,
        (p.bytesWithout / 1024).toFixed(0),
        fmt(p.asBuilt.medianMs),
        fmt(p.without.medianMs),
        fmt(p.asBuilt.medianMs - p.without.medianMs),
        fmt(p.asBuilt.cpuMedianMs),
        fmt(p.without.cpuMedianMs),
        fmt(p.asBuilt.cpuMedianMs - p.without.cpuMedianMs),
      ]),
    });
  }
  for (const analysis of result.analyses) {
    tables.push({
      title: `Where one cold import of ${analysis.bundle} goes (CPU profile, ${fmt(analysis.profiledMs)} ms attributed; the profiler slows the import) and the biggest packages in it`,
      headers: ['spent in', 'ms', '', 'package', 'KiB in bundle'],
      rows: Array.from({ length: 10 }, (_, i) => {
        const c = analysis.profile[i];
        const p = analysis.packageBytes[i];
        return [c?.what ?? '', c ? fmt(c.ms) : '', '', p?.what ?? '', p ? (p.bytes / 1024).toFixed(0) : ''];
      }),
    });
  }
  return tables;
}

export function renderText(table: ResultTable): string {
  const widths = table.headers.map((h, i) => Math.max(h.length, ...table.rows.map((r) => (r[i] ?? '').length)));
  const numeric = (c: string) => /^-?[\d.]+$/.test(c) || c === '-';
  const line = (cells: string[]) => cells.map((c, i) => (numeric(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [table.title, line(table.headers), widths.map((w) => '-'.repeat(w)).join('  '), ...table.rows.map(line)].join('\n');
}

export function renderMarkdown(table: ResultTable): string {
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [`**${table.title}**`, '', row(table.headers), row(table.headers.map((_, i) => (i === 0 ? '---' : '---:'))), ...table.rows.map(row)].join('\n');
}

// ----- the targets of the issue ---------------------------------------------------------------------------------

export interface Verdict {
  target: string;
  met: boolean | undefined;
  detail: string;
}

const p = (samples: TurnSample[], key: keyof TurnSample, q: number) => percentile(values(samples, key), q);

export function designVerdicts(result: DesignBenchResult): Verdict[] {
  const verdicts: Verdict[] = [];
  const { settings, dynamoRead } = result;

  // 1. Overhead p50 within one DynamoDB read + 2 ms. The read as the handler saw it inside the turn is the yardstick
  // (same moment, same table, same history length); the back-to-back read is shown beside it. Judged twice: by
  // the issue's definition (posting only), and with the time before the LLM request, where the read itself is.
  const rows = settings.map((s) => ({
    read: p(s.ours, 'readMs', 50)!,
    first: p(s.ours, 'overheadMs', 50)!,
    own: p(s.ours, 'ownOverheadMs', 50)!,
    dispatch: p(s.ours, 'llmDispatchMs', 50)!,
    naiveDispatch: p(s.naive, 'llmDispatchMs', 50)!,
  }));
  const yardstick =
    `one Query inside the turn p50 ${range(rows.map((r) => r.read))} ms (back-to-back on the same dynalite: Query ${fmt(dynamoRead.queryP50, 2)} ms ` +
    `over ${dynamoRead.historyMessages} messages, GetItem ${fmt(dynamoRead.getItemP50, 2)} ms)`;
  const missedFirst = rows.filter((r) => !(r.first <= r.read + 2));
  verdicts.push({
    target: 'Our overhead to first token (first token posted - LLM first token sent): p50 within one local DynamoDB read + 2 ms',
    met: missedFirst.length === 0,
    detail: `p50 ${range(rows.map((r) => r.first))} ms across settings against ${yardstick}`,
  });
  const missedOwn = rows.filter((r) => !(r.own <= r.read + 2));
  verdicts.push({
    target: 'The same, counting the time before the LLM request (prompt to LLM request + the above)',
    met: missedOwn.length === 0,
    detail:
      `p50 ${range(rows.map((r) => r.own))} ms` +
      (missedOwn.length ? `, over the read + 2 ms in ${missedOwn.length} of ${settings.length} settings (worst by ${fmt(Math.max(...missedOwn.map((r) => r.own - r.read - 2)))} ms)` : '') +
      `. Between the handler calling its LLM edge and the request reaching the LLM server: ours p50 ${range(rows.map((r) => r.dispatch))} ms, ` +
      `naive ${range(rows.map((r) => r.naiveDispatch))} ms (ours starts its turn claim and history write once the request is on the wire)`,
  });

  // 2. Tail lag p95 <= 2 post latencies + 5 ms at every length; the naive baseline falls further behind with length.
  const missed2 = settings.filter((s) => !((p(s.ours, 'tailLagMs', 95) ?? Infinity) <= 2 * s.postLatencyMs + 5));
  const missed2d = settings.filter((s) => !((p(s.ours, 'tailLagDeliveredMs', 95) ?? Infinity) <= 2 * s.postLatencyMs + 5));
  const growth = byLatency(settings).map(([latency, group]) => {
    const shortest = group[0]!;
    const longest = group[group.length - 1]!;
    return { latency, naive: [p(shortest.naive, 'tailLagMs', 50)!, p(longest.naive, 'tailLagMs', 50)!], ours: [p(shortest.ours, 'tailLagMs', 50)!, p(longest.ours, 'tailLagMs', 50)!], tokens: [shortest.tokens, longest.tokens] };
  });
  verdicts.push({
    target: 'Tail lag p95: at most two post latencies + 5 ms whatever the reply length; naive falls further behind the longer the reply',
    met: missed2.length === 0 && missed2d.length === 0,
    detail:
      `ours p95 (posted) ${settings.map((s) => `${fmt(p(s.ours, 'tailLagMs', 95))}@${s.postLatencyMs}ms/${s.tokens}t`).join(', ')}; ` +
      `to delivery ${settings.map((s) => `${fmt(p(s.ours, 'tailLagDeliveredMs', 95))}`).join(', ')}` +
      (missed2.length || missed2d.length ? ` (over the limit: ${[...new Set([...missed2, ...missed2d])].map((s) => `${s.postLatencyMs} ms/${s.tokens} tokens`).join(', ')})` : '') +
      `. Naive p50 from ${growth[0]?.tokens[0]} to ${growth[0]?.tokens[1]} tokens: ${growth.map((g) => `${fmt(g.naive[0])} -> ${fmt(g.naive[1])} ms at ${g.latency} ms`).join(', ')}; ` +
      `ours ${growth.map((g) => `${fmt(g.ours[0])} -> ${fmt(g.ours[1])}`).join(', ')}`,
  });

  // 3. Posts per turn: about duration / post latency, never more than the tokens; at 50 ms and a 10 ms gap <= tokens / 4.
  const gap = result.options.tokenGapMs;
  const over = settings.filter((s) => Math.max(...values(s.ours, 'posts')) > s.tokens);
  const quarter = settings.filter((s) => s.postLatencyMs >= 50 && gap <= 10);
  const quarterMissed = quarter.filter((s) => Math.max(...values(s.ours, 'posts')) > s.tokens / 4);
  verdicts.push({
    target: 'Posts per turn: about reply duration / post latency, never more than the token count; at 50 ms per post and a 10 ms gap, at most a quarter of the tokens',
    met: over.length === 0 && quarterMissed.length === 0,
    detail:
      settings
        .map((s) => {
          const expected = s.postLatencyMs > 0 ? ((s.tokens - 1) * gap) / s.postLatencyMs + 2 : s.tokens + 1;
          return `${s.postLatencyMs} ms/${s.tokens}t: max ${Math.max(...values(s.ours, 'posts'))} (duration/latency + first + closing ~ ${fmt(expected, 0)})`;
        })
        .join('; ') +
      (over.length ? `. More posts than tokens at ${over.map((s) => `${s.postLatencyMs} ms/${s.tokens}t`).join(', ')}: one post per token plus the closing empty \`last: true\` frame` : '') +
      (quarterMissed.length ? `. Over a quarter at ${quarterMissed.map((s) => `${s.tokens}t`).join(', ')}` : ''),
  });
  return verdicts;
}

export function importVerdicts(result: ColdImportResult): Verdict[] {
  const verdicts: Verdict[] = [];
  const def = result.bundles.find((b) => b.stack === DEFAULT_FUNCTION.stack && b.functionId === DEFAULT_FUNCTION.functionId);
  if (def) {
    const variant = result.mainFields.find((v) => v.functionId.endsWith(DEFAULT_FUNCTION.functionId));
    verdicts.push({
      target: 'Cold import of the $default bundle under 100 ms median',
      met: def.medianMs < 100,
      detail:
        `${fmt(def.medianMs)} ms median (${(def.bytes / 1024).toFixed(0)} KiB)` +
        (variant ? `; with MainFields module,main ${fmt(variant.moduleMain.medianMs)} ms (${(variant.moduleMain.bytes / 1024).toFixed(0)} KiB)` : ''),
    });
  }
  const call = result.bundles.find((b) => b.stack === CALL_SETUP_FUNCTION.stack && b.functionId === CALL_SETUP_FUNCTION.functionId);
  if (call && result.twilio) {
    const t = result.twilio;
    verdicts.push({
      target: 'The call-setup bundle does not load the full twilio SDK',
      met: !t.fullSdk && t.twilioModulesLoaded === 0,
      detail: `esbuild metafile: ${t.twilioInputs} input(s) from node_modules/twilio (${t.twilioBytes} bytes in the output), REST client ${t.fullSdk ? 'present' : 'absent'}; require.cache after the import: ${t.twilioModulesLoaded} twilio module(s)`,
    });
  }
  return verdicts;
}

function byLatency(settings: SettingResult[]): [number, SettingResult[]][] {
  const groups = new Map<number, SettingResult[]>();
  for (const s of settings) groups.set(s.postLatencyMs, [...(groups.get(s.postLatencyMs) ?? []), s]);
  return [...groups].map(([l, g]) => [l, g.sort((a, b) => a.tokens - b.tokens)]);
}

function range(xs: number[]): string {
  const finite = xs.filter(Number.isFinite);
  if (finite.length === 0) return '-';
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return lo === hi ? fmt(lo) : `${fmt(lo)}-${fmt(hi)}`;
}

export function verdictLines(verdicts: Verdict[]): string[] {
  return verdicts.map((v) => `- ${v.met === undefined ? 'n/a' : v.met ? 'MET' : 'MISSED'}: ${v.target}. ${v.detail}.`);
}

// ----- the machine and the document ------------------------------------------------------------------------------

export interface Machine {
  node: string;
  cpu: string;
  cores: number;
  date: string;
}

export async function describeMachine(): Promise<Machine> {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const info = await readFile('/proc/cpuinfo', 'utf8');
    cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpu;
  } catch {
    // Not Linux: os.cpus() already named it.
  }
  return { node: process.version, cpu, cores: cpus().length, date: new Date().toISOString() };
}

export const machineLine = (m: Machine) => `node ${m.node}, CPU ${m.cpu}, ${m.cores} cores, ${m.date}`;

/**
 * Replaces one generated section of the document (between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`),
 * so the design run and the load run each keep the other's results.
 */
export async function writeDocSection(path: string, name: string, body: string, skeleton: string): Promise<void> {
  const current = existsSync(path) ? await readFile(path, 'utf8') : skeleton;
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next = from >= 0 && to > from ? current.slice(0, from) + block + current.slice(to + end.length) : `${current.trimEnd()}\n\n${block}\n`;
  await writeFile(path, next);
}
