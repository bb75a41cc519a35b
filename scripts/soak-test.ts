import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run test:soak [-- --runs 5 --hogs 1 --budget 120]`: runs `npm test` several times in a row while busy
 * loops keep CPU cores occupied, the way a shared CI machine or a laptop busy with something else does, and
 * reports each run's duration and result. Exits non-zero if any run fails or takes longer than the budget.
 */
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

export const USAGE = `Usage: npm run test:soak -- [options]
  --runs N       how many times to run npm test, one after the other (default 5)
  --hogs N       busy-loop processes kept running beside the suite, each one core's worth (default 1)
  --budget S     seconds a run may take; a slower run counts as a failure (default 120)
  -h, --help     show this help
Each run's output goes to .soak/run-<n>.log as it runs; the table at the end has each run's duration and result.`;

export interface SoakOptions {
  runs: number;
  hogs: number;
  budgetSeconds: number;
  help?: boolean;
}

export function parseArgs(argv: string[]): SoakOptions {
  const options: SoakOptions = { runs: 5, hogs: 1, budgetSeconds: 120 };
  const count = (flag: string, value: string | undefined, min: number): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag} needs a whole number of at least ${min}, got "${value ?? ''}"\n\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') options.help = true;
    else if (a === '--runs') options.runs = count(a, argv[++i], 1);
    else if (a === '--hogs') options.hogs = count(a, argv[++i], 0);
    else if (a === '--budget') options.budgetSeconds = count(a, argv[++i], 1);
    else throw new Error(`unknown argument ${a}\n\n${USAGE}`);
  }
  return options;
}

/** One core's worth of load each: a process that never sleeps. */
function startHogs(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

interface RunResult {
  run: number;
  seconds: number;
  passed: boolean;
  summary: string;
}

function runSuite(run: number, logFile: string): Promise<RunResult> {
  const started = process.hrtime.bigint();
  return new Promise((done) => {
    const child = spawn('npm', ['test'], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    // Written as it comes, so a long run can be followed with tail -f.
    const log = createWriteStream(logFile);
    let output = '';
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
      log.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('close', (code) => {
      log.end();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // The suite's closing line (tests/support/summary-reporter.ts); a typecheck failure never reaches it.
      const summary = /^\d+ passed, \d+ failed.*$/m.exec(output)?.[0] ?? (code === 0 ? 'passed' : 'no summary (typecheck or setup failed)');
      done({ run, seconds, passed: code === 0, summary });
    });
  });
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const logs = join(ROOT, '.soak');
  mkdirSync(logs, { recursive: true });
  console.log(`npm test x ${options.runs} beside ${options.hogs} busy loop(s) on ${availableParallelism()} CPU(s), budget ${options.budgetSeconds} s per run`);
  const hogs = startHogs(options.hogs);
  const stopHogs = () => hogs.forEach((h) => h.kill('SIGKILL'));
  // Ctrl-C must not leave the busy loops behind.
  process.once('SIGINT', () => {
    stopHogs();
    process.exit(130);
  });
  const results: RunResult[] = [];
  try {
    for (let run = 1; run <= options.runs; run++) {
      const result = await runSuite(run, join(logs, `run-${run}.log`));
      results.push(result);
      const verdict = !result.passed ? 'FAIL' : result.seconds > options.budgetSeconds ? 'SLOW' : 'ok';
      console.log(`run ${run}: ${verdict.padEnd(4)} ${result.seconds.toFixed(1).padStart(6)} s  ${result.summary}${verdict === 'ok' ? '' : `  (.soak/run-${run}.log)`}`);
    }
  } finally {
    stopHogs();
  }
  const seconds = results.map((r) => r.seconds).sort((a, b) => a - b);
  const median = seconds[Math.floor((seconds.length - 1) / 2)]!;
  const bad = results.filter((r) => !r.passed || r.seconds > options.budgetSeconds);
  console.log(`${results.length - bad.length}/${results.length} runs passed within ${options.budgetSeconds} s; median ${median.toFixed(1)} s, slowest ${seconds.at(-1)!.toFixed(1)} s`);
  if (bad.length) process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
