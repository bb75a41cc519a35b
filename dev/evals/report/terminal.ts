import { formatUsd } from '../../../scripts/lib/call-cost.ts';
import type { EvalRun } from '../run-evals.ts';
import type { EvalSummary } from './summary.ts';

/** What `npm run eval` prints: a line per finished run as it happens, then a table and every failure in full. */

const MARK = { pass: '✓', fail: '✗', skip: '-' } as const;

export function progressLine(run: EvalRun, repeat: number): string {
  const checks = run.checks.filter((c) => c.status !== 'skip').length;
  const skipped = run.checks.filter((c) => c.status === 'skip').length;
  const parts = [
    `${MARK[run.status]} ${run.evalCase.id}${repeat > 1 ? ` #${run.attempt}` : ''}`,
    `${(run.durationMs / 1000).toFixed(1)} s`,
    run.note ?? `${checks} checks${skipped ? `, ${skipped} skipped` : ''}`,
  ];
  if (run.cost) parts.push(formatUsd(run.cost.totalUsd));
  return `  ${parts.join('  ')}`;
}

export function summaryTable(summaries: EvalSummary[]): string {
  const rows = [
    ['eval', 'runs', 'passed', 'pass rate', 'first word p50', 'cost per call p50'],
    ...summaries.map((s) => [
      s.evalCase.id,
      String(s.runs.length),
      `${s.passed}${s.skipped ? ` (+${s.skipped} skipped)` : ''}`,
      s.passRate === undefined ? 'skipped' : `${Math.round(s.passRate * 100)}%`,
      s.firstWordP50Ms === undefined ? '-' : `${Math.round(s.firstWordP50Ms)} ms`,
      s.costP50Usd === undefined ? '-' : formatUsd(s.costP50Usd),
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => `  ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')}`).join('\n');
}

/** Every failed check of every failed run, under the eval file that holds it. */
export function failureReport(runs: EvalRun[], repeat: number): string {
  const out: string[] = [];
  for (const run of runs.filter((r) => r.status === 'fail')) {
    out.push(`✗ ${run.evalCase.id}${repeat > 1 ? ` #${run.attempt}` : ''}: ${run.evalCase.spec.name} (${run.evalCase.file})`);
    for (const c of run.checks.filter((x) => x.status === 'fail')) {
      out.push(`    ${c.scope}: ${c.what}`);
      if (c.detail) out.push(...c.detail.split('\n').map((l) => `      ${l}`));
    }
  }
  return out.join('\n');
}
