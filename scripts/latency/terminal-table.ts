import { formatUsd } from '../lib/call-cost.ts';
import type { LatencyReport, StatRow, UseCaseReport } from './report.ts';

/** A value as the report shows it: whole milliseconds, dollars, or a plain count. */
export function formatValue(value: number | undefined, unit: StatRow['unit']): string {
  if (value === undefined) return '-';
  if (unit === 'usd') return formatUsd(value);
  const rounded = Math.round(value);
  return unit === 'ms' ? `${rounded} ms` : String(rounded);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "3 calls, 12 turns, 2 interrupted, 1 cold start": the counts that frame a use case's numbers. */
export function useCaseCounts(useCase: UseCaseReport): string {
  return [
    plural(useCase.calls, 'call'),
    plural(useCase.turns, 'turn'),
    `${useCase.interruptions} interrupted`,
    plural(useCase.coldStarts, 'cold start'),
  ].join(', ');
}

export function outcomeCounts(useCase: UseCaseReport): string {
  return Object.entries(useCase.outcomes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([outcome, n]) => `${outcome} ${n}`)
    .join(', ');
}

/** Columns padded to their widest cell: text left, numbers right. */
function alignedTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('   ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('   '), ...rows.map(line)];
}

/** "posting overhead: 1 turn left out, something was said before ..." for every row that left turns out. */
export function leftOutNotes(useCase: UseCaseReport): string[] {
  return useCase.rows
    .filter((row) => row.reversed)
    .map((row) => `${row.label}: ${plural(row.reversed!.turns, 'turn')} left out, ${row.reversed!.why}`);
}

export function formatUseCase(useCase: UseCaseReport): string {
  const rows = useCase.rows.map((row) => [
    row.label,
    String(row.spread?.n ?? 0),
    formatValue(row.spread?.p50, row.unit),
    formatValue(row.spread?.p95, row.unit),
    formatValue(row.spread?.max, row.unit),
  ]);
  return [
    `Use case ${useCase.useCaseId}: ${useCaseCounts(useCase)}`,
    `  outcomes: ${outcomeCounts(useCase)}`,
    '',
    ...alignedTable(['phase', 'n', 'p50', 'p95', 'max'], rows).map((l) => `  ${l}`),
    ...leftOutNotes(useCase).map((note) => `  * ${note}`),
    ...(useCase.preemption ? [`  ${preemptionLine(useCase.preemption)}`] : []),
  ].join('\n');
}

/** "preemption: 7 turns preempted, 2 speculations wasted (hit rate 78%), 2 wasted requests, 1,310 tokens wasted" */
export function preemptionLine(p: NonNullable<UseCaseReport['preemption']>): string {
  return (
    `preemption: ${plural(p.preempted, 'turn')} preempted, ${plural(p.wasted, 'speculation')} wasted (hit rate ${Math.round(p.hitRate * 100)}%), ` +
    `${plural(p.wastedRequests, 'wasted LLM request')}, ${p.wastedTokens.toLocaleString('en-US')} tokens wasted${p.estimated ? ' (partly estimated: aborted streams report no usage)' : ''}`
  );
}

/** The whole report for a terminal; says plainly when there was nothing to measure. */
export function formatReport(report: LatencyReport): string {
  const head = `Latency of ${report.selection}\nfrom ${report.source}`;
  if (report.turns.length === 0) {
    return `${head}\n\nNo turn records found. Make a call first (\`npm start\`, then \`npm run call\`), or widen the search with --days or --calls.`;
  }
  return [head, ...report.useCases.map(formatUseCase)].join('\n\n');
}
