import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureColdImports, type ColdImportResult } from './cold-import.ts';
import { runDesignBench, type DesignBenchResult } from './design-bench.ts';
import { runLoadBench, type LoadBenchResult } from './load-bench.ts';
import { commandFor, parseBenchArgs, type BenchOptions, BENCH_USAGE } from './options.ts';
import {
  coldImportTable,
  describeMachine,
  designTables,
  designVerdicts,
  fmt,
  importAnalysisTables,
  importVerdicts,
  machineLine,
  renderMarkdown,
  renderText,
  verdictLines,
  writeDocSection,
  type Machine,
  type ResultTable,
} from './report.ts';
import type { Spread } from './stats.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Runs the mode the flags ask for, prints its tables, writes its section of the document. Returns the exit code. */
export async function runBench(argv: string[], print: (line: string) => void): Promise<number> {
  const options = parseBenchArgs(argv);
  if (options.mode === 'help') {
    print(BENCH_USAGE);
    return 0;
  }
  const machine = await describeMachine();
  print(`bench: ${machineLine(machine)}`);
  if (options.mode === 'load') {
    const result = await runLoadBench({ ...options, progress: print });
    const table = loadTable(result);
    print('');
    print(renderText(table));
    for (const line of loadVerdictLines(result)) print(line);
    if (!options.doc) print('\n(docs/BENCHMARKS.md unchanged; --write-docs records this run there)');
    if (options.doc) await writeDocSection(resolve(REPO_ROOT, options.doc), 'load', loadMarkdown(result, table, machine, commandFor(argv)), SKELETON);
    return result.mismatches.length === 0 && result.matched === result.expected ? 0 : 1;
  }
  print(`design: post latencies ${options.postLatenciesMs.join(', ')} ms x replies of ${options.replyTokens.join(', ')} tokens, ${options.turns} turns per design and setting`);
  const design = await runDesignBench({ ...options, progress: print });
  let imports: ColdImportResult | undefined;
  if (!options.skipImports) {
    print('cold import of every bundle:');
    imports = await measureColdImports({ runs: options.importRuns, analyse: true, progress: print });
  }
  const tables = [...designTables(design), ...(imports ? [coldImportTable(imports), ...importAnalysisTables(imports)] : [])];
  for (const table of tables) print(`\n${renderText(table)}`);
  const verdicts = verdictLines([...designVerdicts(design), ...(imports ? importVerdicts(imports) : [])]);
  print('\nTargets:');
  for (const line of verdicts) print(line);
  if (!options.doc) print('\n(docs/BENCHMARKS.md unchanged; --write-docs records this run there)');
  if (options.doc) await writeDocSection(resolve(REPO_ROOT, options.doc), 'design', designMarkdown(design, imports, tables, verdicts, machine, commandFor(argv)), SKELETON);
  const broken = [...design.settings.flatMap((s) => [...s.ours, ...s.naive])].filter((t) => t.problems.length > 0);
  for (const turn of broken.slice(0, 5)) print(`incomplete or out-of-order reply: ${turn.problems.join('; ')}`);
  return broken.length === 0 ? 0 : 1;
}

function designMarkdown(
  design: DesignBenchResult,
  imports: ColdImportResult | undefined,
  tables: ResultTable[],
  verdicts: string[],
  machine: Machine,
  command: string,
): string {
  const o = design.options;
  return [
    '## Ours against the naive baseline',
    '',
    `Reproduce: \`${command}\` (about three minutes on 2 cores).`,
    '',
    `Machine: ${machineLine(machine)}.`,
    '',
    `Settings: LLM time to first token ${o.firstTokenMs} ms, ${o.tokenGapMs} ms between tokens; post latencies ${o.postLatenciesMs.join(', ')} ms; ` +
      `replies of ${o.replyTokens.join(' and ')} tokens; ${o.turns} measured turns per design and setting (after one warm-up turn each), interleaved. ` +
      `DynamoDB: dynalite in its own process; back-to-back reads p50: Query ${fmt(design.dynamoRead.queryP50, 2)} ms ` +
      `(session + ${design.dynamoRead.historyMessages} messages), GetItem ${fmt(design.dynamoRead.getItemP50, 2)} ms, ${design.dynamoRead.samples} samples each.` +
      (imports ? ` Cold imports: ${imports.runs} fresh processes per bundle.` : ''),
    '',
    '### Against the targets of the issue',
    '',
    ...verdicts,
    '',
    '### Tables',
    '',
    ...tables.flatMap((t) => [renderMarkdown(t), '']),
  ].join('\n');
}

function loadTable(result: LoadBenchResult): ResultTable {
  const row = (name: string, s: Spread | undefined, digits = 1) => [name, String(s?.n ?? 0), fmt(s?.p50, digits), fmt(s?.p95, digits), fmt(s?.p99, digits), fmt(s?.max, digits)];
  return {
    title: `${result.options.calls} simultaneous calls x ${result.options.turns} turns, ${result.options.tokens}-token replies, post latency ${result.options.postLatencyMs} ms`,
    headers: ['metric', 'turns', 'p50', 'p95', 'p99', 'max'],
    rows: [
      row('overhead to first token, ms', result.overhead),
      row('own overhead (prompt to LLM request + the above), ms', result.ownOverhead),
      row('tail lag, ms', result.tailLag),
      row('posts per turn', result.postsPerTurn, 0),
    ],
  };
}

function loadVerdictLines(result: LoadBenchResult): string[] {
  const ok = result.mismatches.length === 0 && result.matched === result.expected;
  return [
    `Replies: ${result.matched} of ${result.expected} heard complete and in order, each compared whole with what the LLM server sent for that call's turn ` +
      `(${result.requests} LLM requests; run took ${result.wallSeconds.toFixed(1)} s). ${ok ? 'All match.' : `${result.mismatches.length} problem(s):`}`,
    ...result.mismatches.slice(0, 20).map((m) => `  - ${m}`),
    ...(result.mismatches.length > 20 ? [`  - ... and ${result.mismatches.length - 20} more`] : []),
  ];
}

function loadMarkdown(result: LoadBenchResult, table: ResultTable, machine: Machine, command: string): string {
  const o = result.options;
  return [
    '## Load: simultaneous calls against the whole local app',
    '',
    `Reproduce: \`${command}\`.`,
    '',
    `Machine: ${machineLine(machine)}.`,
    '',
    `${o.calls} calls dialled through the call webhook (signed), each on its own WebSocket, then ${o.turns} prompts each, all calls at once ` +
      `(every caller waits for its reply before the next prompt). LLM: the bench's OpenAI-compatible server, time to first token ${o.firstTokenMs} ms, ` +
      `${o.tokenGapMs} ms between tokens, each reply naming its call and turn. Everything (runtime, embedded dynalite, LLM server, callers) shares one ` +
      'node process, so the percentiles include the callers\' own CPU: read them as a stress figure, not as what one Lambda sees.',
    '',
    ...loadVerdictLines(result),
    '',
    renderMarkdown(table),
  ].join('\n');
}

const SKELETON = `# Benchmarks

Generated by \`npm run bench\` (bench/). Each section below is rewritten by the run that produced it; the text
outside the sections is kept.

## What is measured, and how

- **Two designs, one stand.** Our \`$default\` handler (02_cr-application, built by \`createDefaultHandler\` with the real
  edges) and a naive baseline kept in \`bench/naive-handler.ts\` (the original project's design: read the history,
  write the caller's message and wait for it, call the LLM, \`await\` one PostToConnection per token, then a closing
  \`last: true\` frame) run behind the same local API Gateway (\`dev/gateway\`), the same OpenAI-compatible server
  (\`dev/llm\`) and the same table, through the same SDK edges. Turns alternate between the designs (A-B, B-A...).
- **Clocks.** The gateway, the LLM server and the bench's caller share one clock
  (\`performance.timeOrigin + performance.now()\`, in one process).
- **Posted** means the PostToConnection request reached the @connections endpoint (the gateway's \`receivedAt\`, before
  the simulated post latency). **Delivered** means the post was answered and its frame written to the caller
  (\`answeredAt\`, after the latency).
- **Overhead to first token**: first token posted minus the moment the LLM server wrote its first token.
  **Prompt to LLM request**: the caller's \`prompt\` frame written to the socket, to the LLM server receiving the
  request (everything the handler does before it asks the LLM). **Own overhead**: both added; it is what the
  engine's \`EngineOverhead\` metric estimates in AWS, and what the first target is about.
- **Tail lag**: last token posted (the post carrying the reply's final words) minus the LLM's last token written.
- **Posts per turn**: every PostToConnection of the reply, including the closing empty \`last: true\` frame.
- **Cold import**: every bundle built by \`scripts/build.ts\` \`buildAll\` (the templates' esbuild BuildProperties) into a
  temporary folder, imported in a fresh \`node\` process N times; the import alone is timed (node's start is not).
- The p95 of a handful of turns is close to their maximum: use \`--turns\` for more.
- Benchmarks are not tests: \`npm test\` runs \`tests/bench\`, which checks the harness's counts, order and table
  shape on tiny settings and never a time.
`;
