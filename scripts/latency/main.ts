import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { config as loadDotenv } from 'dotenv';
import { describeSelection, parseOptions, USAGE, UsageError } from './cli-options.ts';
import { renderHtml } from './html-page.ts';
import { chooseLlm, readSettings } from '../../dev/local/settings.ts';
import { loadPrices } from '../lib/prices.ts';
import { buildReport, type LatencyReport, type LlmPricing } from './report.ts';
import { awsTableSource, localTableSource, TableSourceError, type AwsCli, type TableSource } from './table-source.ts';
import { formatReport } from './terminal-table.ts';
import { CallNotFoundError, loadCalls } from './turn-source.ts';

export interface LatencyIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The report (stdout). */
  out(text: string): void;
  /** Problems and progress (stderr), so `--json` output stays parseable. */
  err(text: string): void;
  now?: number;
  awsCli?: AwsCli;
}

function asJson(report: LatencyReport): string {
  const { calls: _calls, ...rest } = report;
  return JSON.stringify(rest, null, 2);
}

function hasCode(err: unknown, code: string, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown[] };
  if (e.code === code || (typeof e.message === 'string' && e.message.includes(code))) return true;
  return hasCode(e.cause, code, depth + 1) || (Array.isArray(e.errors) && e.errors.some((x) => hasCode(x, code, depth + 1)));
}

/** A failed read in words, with what to do when it is the usual cause (nothing listening any more). */
function explain(err: unknown, source: TableSource): string {
  if (hasCode(err, 'ECONNREFUSED')) {
    return `Could not reach ${source.description}: nothing is listening there. Is the local runtime running? Start it with \`npm start\`.`;
  }
  return `Reading ${source.description} failed: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * The model the calls used, for pricing their tokens: the deployed stack's OPENAI_MODEL (its template default
 * unless set here), or the one the local runtime chooses from the same settings.
 */
function llmPricing(io: LatencyIo, aws: boolean): LlmPricing {
  const model = aws ? io.env.OPENAI_MODEL || 'gpt-4o-mini' : chooseLlm(readSettings(io.env, io.cwd)).model;
  return { model, price: loadPrices(REPOSITORY_ROOT).llm[model] };
}

const REPOSITORY_ROOT = resolve(import.meta.dirname, '../..');

/** `npm run latency` without the process around it; returns the exit code. */
export async function runLatency(argv: string[], io: LatencyIo): Promise<number> {
  loadDotenv({ quiet: true, path: resolve(io.cwd, '.env'), processEnv: io.env as Record<string, string> });
  let options;
  try {
    options = parseOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    io.out(USAGE);
    return 0;
  }

  let source: TableSource;
  try {
    source = options.aws
      ? await awsTableSource({ tableName: options.table, env: io.env, cwd: io.cwd, ...(io.awsCli ? { cli: io.awsCli } : {}) })
      : await localTableSource(io.env, io.cwd);
  } catch (err) {
    if (!(err instanceof TableSourceError)) throw err;
    io.err(err.message);
    return 1;
  }

  try {
    const calls = await loadCalls(source.table, {
      calls: options.calls,
      call: options.call,
      useCaseId: options.useCase,
      days: options.days,
      now: io.now,
    });
    const report = buildReport(calls, { source: source.description, selection: describeSelection(options), now: io.now, pricing: llmPricing(io, options.aws) });
    io.out(options.json ? asJson(report) : formatReport(report));
    if (options.html) {
      // `npm run` moves to the package root; INIT_CWD is where the person typed the command.
      const file = resolve(io.env.INIT_CWD || io.cwd, options.html);
      await writeFile(file, renderHtml(report), 'utf8');
      io.err(`Wrote ${file}`);
    }
    return 0;
  } catch (err) {
    io.err(err instanceof CallNotFoundError ? err.message : explain(err, source));
    return 1;
  } finally {
    source.table.doc.destroy();
  }
}
