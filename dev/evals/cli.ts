import { writeFile } from 'node:fs/promises';
import { ssmSecretSource } from '../../layers/config/secrets.ts';
import { createTable } from '../../layers/data/table.ts';
import { SSMClient } from '@aws-sdk/client-ssm';
import { functionSizes } from '../../scripts/lib/function-sizes.ts';
import { loadPrices } from '../../scripts/lib/prices.ts';
import { chooseLlm, readSettings } from '../local/settings.ts';
import { readEvalArgs, USAGE } from './cli-args.ts';
import { EvalFileError, loadEvals } from './eval-files.ts';
import { createCallerSimulator, createLlmJudge, type CallerSimulator, type Judge } from './llm-roles.ts';
import { DIALED_NUMBER, localStandPool, type StandPool } from './local-stand.ts';
import { renderEvalHtml } from './report/html.ts';
import { renderJunit } from './report/junit.ts';
import { summarise } from './report/summary.ts';
import { failureReport, progressLine, summaryTable } from './report/terminal.ts';
import { runEvals, type Stand } from './run-evals.ts';

export interface CliIo {
  rootDir: string;
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
}

export async function evalCli(argv: string[], io: CliIo): Promise<number> {
  let values;
  try {
    values = readEvalArgs(argv);
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const repeat = Number(values.repeat);
  const concurrency = Number(values.concurrency);
  const minPassRate = Number(values['min-pass-rate']);
  const replyTimeoutMs = Number(values['reply-timeout']);
  if (!Number.isInteger(replyTimeoutMs) || replyTimeoutMs < 1) return usageError(io, `--reply-timeout: expected milliseconds, got ${values['reply-timeout']}`);
  if (!Number.isInteger(repeat) || repeat < 1) return usageError(io, `--repeat: expected a whole number of runs, got ${values.repeat}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) return usageError(io, `--concurrency: expected a whole number, got ${values.concurrency}`);
  if (!(minPassRate >= 0 && minPassRate <= 1)) return usageError(io, `--min-pass-rate: expected a share from 0 to 1, got ${values['min-pass-rate']}`);
  let grep: RegExp | undefined;
  try {
    grep = values.grep ? new RegExp(values.grep, 'i') : undefined;
  } catch (err) {
    return usageError(io, `--grep: ${(err as Error).message}`);
  }

  let cases;
  try {
    cases = await loadEvals(io.rootDir);
  } catch (err) {
    if (err instanceof EvalFileError) {
      io.err(err.message);
      return 2;
    }
    throw err;
  }
  const useCases = values['use-case'];
  const known = new Set(cases.map((c) => c.useCaseId));
  for (const u of useCases ?? []) if (!known.has(u)) return usageError(io, `--use-case: no evals for "${u}" (use cases with evals: ${[...known].join(', ')})`);
  cases = cases.filter((c) => (!useCases || useCases.includes(c.useCaseId)) && (!grep || grep.test(c.id) || grep.test(c.spec.name)));
  if (!cases.length) return usageError(io, 'no eval matches');

  const settings = readSettings(io.env, io.rootDir);
  const llm = chooseLlm(settings);
  const endpoint = llm.kind === 'offline' ? undefined : { baseUrl: settings.OPENAI_BASE_URL, apiKey: settings.OPENAI_API_KEY };
  const judge: Judge | undefined = endpoint && createLlmJudge({ ...endpoint, model: io.env.EVAL_JUDGE_MODEL || llm.model });
  const simulator: CallerSimulator | undefined = endpoint && createCallerSimulator({ ...endpoint, model: io.env.EVAL_CALLER_MODEL || llm.model });
  const offlineNote = endpoint ? undefined : 'no model for it: set OPENAI_API_KEY or OPENAI_BASE_URL to run judge checks and simulated callers';

  let openStand: () => Promise<Stand>;
  let targetName: string;
  let targetTable: ReturnType<typeof createTable> | undefined;
  let localStands: StandPool | undefined;
  if (values.target) {
    const webhookUrl = values.target;
    if (!/^https?:\/\//.test(webhookUrl)) return usageError(io, `--target: expected the call-setup webhook URL (https://...), got ${webhookUrl}`);
    let authToken: string | undefined;
    try {
      authToken = await ssmSecretSource(new SSMClient({})).getParameter(values['auth-token-param']);
    } catch (err) {
      io.err(`--target: could not read the auth token from SSM parameter ${values['auth-token-param']}: ${(err as Error).message}`);
      return 2;
    }
    if (!authToken) return usageError(io, `--target: SSM parameter ${values['auth-token-param']} is empty`);
    const table = (targetTable = values.table ? createTable({ name: values.table, region: io.env.AWS_REGION }) : undefined);
    openStand = async () => ({ dialer: { webhookUrl, authToken, to: DIALED_NUMBER }, table, defaultModel: llm.kind === 'offline' ? 'gpt-4o-mini' : llm.model, stop: async () => undefined });
    targetName = webhookUrl;
  } else {
    const pool = (localStands = localStandPool(io.rootDir, io.env));
    openStand = () => pool.open();
    targetName = `the local app (${llm.kind === 'offline' ? 'offline model' : `${llm.model}${llm.kind === 'compatible' ? ` at ${llm.baseUrl}` : ''}`})`;
  }

  io.out(`Running ${cases.length} eval${cases.length === 1 ? '' : 's'}${repeat > 1 ? ` x${repeat}` : ''} against ${targetName}, ${concurrency} at a time.`);
  if (offlineNote) io.out(`Offline: judge checks and simulated callers are skipped (${offlineNote}).`);
  const runs = await runEvals({
    cases,
    openStand,
    repeat,
    concurrency,
    replyTimeoutMs,
    prices: loadPrices(io.rootDir),
    sizes: functionSizes(io.rootDir),
    judge,
    simulator,
    ...(offlineNote ? { offlineNote } : {}),
    onResult: (run) => io.out(progressLine(run, repeat)),
  }).finally(async () => {
    targetTable?.doc.destroy();
    await localStands?.close();
  });

  const summaries = summarise(runs);
  io.out(`\n${summaryTable(summaries)}`);
  const failures = failureReport(runs, repeat);
  if (failures) io.out(`\n${failures}`);
  const generatedAt = new Date().toISOString();
  if (values.junit) await writeFile(values.junit, renderJunit(runs, repeat));
  if (values.html) await writeFile(values.html, renderEvalHtml(runs, { generatedAt, target: targetName, note: offlineNote && `Offline: judge checks and simulated callers were skipped (${offlineNote}).`, repeat }));
  const short = summaries.filter((s) => s.passRate !== undefined && s.passRate < minPassRate);
  const passed = runs.filter((r) => r.status === 'pass').length;
  const failed = runs.filter((r) => r.status === 'fail').length;
  io.out(`\n${passed} passed, ${failed} failed${runs.length - passed - failed ? `, ${runs.length - passed - failed} skipped` : ''}`);
  if (short.length) io.err(`${short.length} eval${short.length === 1 ? '' : 's'} below the pass rate ${minPassRate}: ${short.map((s) => s.evalCase.id).join(', ')}`);
  return short.length ? 1 : 0;
}

function usageError(io: CliIo, message: string): number {
  io.err(`${message}\n${USAGE}`);
  return 2;
}
