import type { EvalCase } from '../eval-schema.ts';
import type { EvalRun } from '../run-evals.ts';

/** Each eval's runs summed up: pass rate, median first word, median cost per call. */
export interface EvalSummary {
  evalCase: EvalCase;
  runs: EvalRun[];
  passed: number;
  failed: number;
  skipped: number;
  /** Passed runs over runs that were not skipped; undefined when every run was skipped. */
  passRate: number | undefined;
  firstWordP50Ms: number | undefined;
  costP50Usd: number | undefined;
}

export function median(values: number[]): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarise(runs: EvalRun[]): EvalSummary[] {
  const byEval = new Map<string, EvalRun[]>();
  for (const run of runs) byEval.set(run.evalCase.id, [...(byEval.get(run.evalCase.id) ?? []), run]);
  return [...byEval.values()].map((list) => {
    const passed = list.filter((r) => r.status === 'pass').length;
    const failed = list.filter((r) => r.status === 'fail').length;
    const firstWords = list.flatMap((r) => r.log?.turns.map((t) => t.firstWordMs).filter((n): n is number => n !== undefined) ?? []);
    return {
      evalCase: list[0]!.evalCase,
      runs: list,
      passed,
      failed,
      skipped: list.length - passed - failed,
      passRate: passed + failed ? passed / (passed + failed) : undefined,
      firstWordP50Ms: median(firstWords),
      costP50Usd: median(list.flatMap((r) => (r.cost ? [r.cost.totalUsd] : []))),
    };
  });
}
