import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { config as loadDotenv } from 'dotenv';
import { describeSelection, parseOptions, USAGE, UsageError } from './latency/cli-options.ts';
import { renderHtml } from './latency/html-page.ts';
import { buildReport, type LatencyReport } from './latency/report.ts';
import { awsTableSource, localTableSource, TableSourceError, type TableSource } from './latency/table-source.ts';
import { formatReport } from './latency/terminal-table.ts';
import { CallNotFoundError, loadCalls } from './latency/turn-source.ts';

/**
 * `npm run latency`: per-phase p50/p95/max of stored turn records, per use case, for the last N calls or one call;
 * `--html` adds a page with a per-turn waterfall. Reads the local runtime's table, or the deployed one with --aws.
 */

function asJson(report: LatencyReport): string {
  const { calls: _calls, ...rest } = report;
  return JSON.stringify(rest, null, 2);
}

/** The reason a query failed, turned into what to do when it is the usual one (nothing listening). */
function explain(err: unknown, source: TableSource): string {
  const text = `${(err as Error).message ?? err}`;
  const refused = /ECONNREFUSED/.test(text) || /ECONNREFUSED/.test(String((err as { cause?: unknown }).cause ?? ''));
  if (refused) return `Could not reach ${source.description}: nothing is listening. Is the local runtime running? Start it with \`npm start\`.`;
  return `Reading ${source.description} failed: ${text}`;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<number> {
  loadDotenv({ quiet: true, path: resolve(cwd, '.env'), processEnv: env as Record<string, string> });
  let options;
  try {
    options = parseOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }

  let source: TableSource;
  try {
    source = options.aws ? await awsTableSource({ tableName: options.table, env, cwd }) : await localTableSource(env, cwd);
  } catch (err) {
    if (!(err instanceof TableSourceError)) throw err;
    console.error(err.message);
    return 1;
  }

  try {
    const calls = await loadCalls(source.table, { calls: options.calls, call: options.call, useCaseId: options.useCase, days: options.days });
    const report = buildReport(calls, { source: source.description, selection: describeSelection(options) });
    console.log(options.json ? asJson(report) : formatReport(report));
    if (options.html) {
      const file = resolve(cwd, options.html);
      await writeFile(file, renderHtml(report), 'utf8');
      console.error(`Wrote ${file}`);
    }
    return 0;
  } catch (err) {
    console.error(err instanceof CallNotFoundError ? err.message : explain(err, source));
    return 1;
  } finally {
    source.table.doc.destroy();
  }
}

process.exitCode = await main(process.argv.slice(2));
