import { escapeXml } from '../../../scripts/latency/xml.ts';
import type { EvalRun } from '../run-evals.ts';

/** `--junit out.xml`: one test suite per use case, one test case per run, for CI systems that read JUnit. */
export function renderJunit(runs: EvalRun[], repeat: number): string {
  const byUseCase = new Map<string, EvalRun[]>();
  for (const run of runs) byUseCase.set(run.evalCase.useCaseId, [...(byUseCase.get(run.evalCase.useCaseId) ?? []), run]);
  const count = (list: EvalRun[], status: EvalRun['status']) => list.filter((r) => r.status === status).length;
  const suites = [...byUseCase].map(([useCaseId, list]) => {
    const seconds = list.reduce((s, r) => s + r.durationMs, 0) / 1000;
    const cases = list.map((run) => {
      const name = `${run.evalCase.spec.name}${repeat > 1 ? ` #${run.attempt}` : ''}`;
      const failed = run.checks.filter((c) => c.status === 'fail');
      const body =
        run.status === 'fail'
          ? `<failure message="${escapeXml(`${failed.length} check${failed.length === 1 ? '' : 's'} failed`)}">${escapeXml(
              failed.map((c) => `${c.scope}: ${c.what}${c.detail ? `\n  ${c.detail}` : ''}`).join('\n'),
            )}</failure>`
          : run.status === 'skip'
            ? `<skipped message="${escapeXml(run.note ?? 'every check was skipped')}"/>`
            : '';
      return `    <testcase classname="${escapeXml(`evals.${useCaseId}`)}" name="${escapeXml(name)}" file="${escapeXml(run.evalCase.file)}" time="${(run.durationMs / 1000).toFixed(3)}">${body}</testcase>`;
    });
    return (
      `  <testsuite name="${escapeXml(`evals.${useCaseId}`)}" tests="${list.length}" failures="${count(list, 'fail')}" errors="0" skipped="${count(list, 'skip')}" time="${seconds.toFixed(3)}">\n` +
      `${cases.join('\n')}\n  </testsuite>`
    );
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="evals" tests="${runs.length}" failures="${count(runs, 'fail')}">\n${suites.join('\n')}\n</testsuites>\n`;
}
