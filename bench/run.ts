import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { headCommit, measureColdImports, readBaselineFile, writeBaselineFile, type ColdImportResult } from './cold-import.ts';
import { runDesignBench, type DesignBenchResult } from './design-bench.ts';
import { loadProblems, runLoadBench } from './load-bench.ts';
import { loadMarkdown, loadSectionName, loadTimingTable, loadVerdictLines, ownershipTable } from './load-report.ts';
import { PREEMPT_SETTINGS, preemptTable, preemptVerdicts, runPreemptBench, type PreemptBenchResult } from './preempt-bench.ts';
import { startBenchTable } from './local-table.ts';
import { startStand } from './stand.ts';
import { measureTurnCounts, writeTurnCounts } from './turn-counts.ts';
import { BENCH_USAGE, commandFor, parseBenchArgs, type BenchOptions } from './options.ts';
import {
  coldImportTable,
  coldStartVerdicts,
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
export const TURN_COUNTS_FILE = resolve(REPO_ROOT, 'bench/turn-counts.json');

/** Runs the mode the flags ask for, prints its tables, writes its section of the document. Returns the exit code. */
export async function runBench(argv: string[], print: (line: string) => void): Promise<number> {
  const options = parseBenchArgs(argv);
  if (options.mode === 'help') {
    print(BENCH_USAGE);
    return 0;
  }
  const machine = await describeMachine();
  print(`bench: ${machineLine(machine)}`);
  if (options.mode === 'counts') {
    print(`counts: ${options.turns} turns of ${options.tokens} tokens, post latency ${options.postLatencyMs} ms`);
    const result = await measureTurnCounts({ ...options, progress: print });
    await writeTurnCounts(result, TURN_COUNTS_FILE);
    print(`call start ${JSON.stringify(result.callStart)}`);
    print(`turn ${JSON.stringify(result.turn)}`);
    print(`call end ${JSON.stringify(result.callEnd)}`);
    print('written: bench/turn-counts.json (npm run scaling -- --write-docs turns it into docs/SCALING.md)');
    return 0;
  }
  if (options.mode === 'load') {
    const result = await runLoadBench({ ...options, progress: print });
    const tables = [ownershipTable(result), loadTimingTable(result)];
    for (const table of tables) print(`\n${renderText(table)}`);
    print('');
    for (const line of loadVerdictLines(result)) print(line);
    if (!options.doc) print('\n(docs/BENCHMARKS.md unchanged; --write-docs records this run there)');
    if (options.doc) {
      await writeDocSection(resolve(REPO_ROOT, options.doc), loadSectionName(options.thinkMs), loadMarkdown(result, tables, machine, commandFor(argv)), SKELETON);
    }
    return loadProblems(result).length === 0 && result.mismatches.length === 0 ? 0 : 1;
  }
  if (options.mode === 'preempt') {
    const own = await startBenchTable();
    const stand = await startStand(own.table);
    let result: PreemptBenchResult;
    try {
      result = await runPreemptBench(stand, { ...PREEMPT_SETTINGS, turns: options.turns, firstTokenMs: options.firstTokenMs, tokenGapMs: options.tokenGapMs }, print);
    } finally {
      await stand.stop();
      await own.stop();
    }
    const table = preemptTable(result);
    const verdicts = verdictLines(preemptVerdicts(result));
    print(`\n${renderText(table)}\n\nTargets:`);
    for (const line of verdicts) print(line);
    if (options.doc) await writeDocSection(resolve(REPO_ROOT, options.doc), 'preempt', preemptMarkdown(result, table, verdicts, machine, commandFor(argv)), SKELETON);
    return Object.values(result.samples).flat().some((s) => s.problems.length > 0) ? 1 : 0;
  }
  if (options.importsOnly) {
    const imports = await coldImports(options, machine, argv, print);
    if (!options.doc) print('\n(docs/BENCHMARKS.md unchanged; --write-docs records this run there)');
    return imports.bundles.every((b) => Number.isFinite(b.medianMs)) ? 0 : 1;
  }
  print(`design: post latencies ${options.postLatenciesMs.join(', ')} ms x replies of ${options.replyTokens.join(', ')} tokens, ${options.turns} turns per design and setting`);
  const design = await runDesignBench({ ...options, progress: print });
  const tables = [...designTables(design), ...(design.preempt ? [preemptTable(design.preempt)] : [])];
  for (const table of tables) print(`\n${renderText(table)}`);
  const verdicts = verdictLines([...designVerdicts(design), ...(design.preempt ? preemptVerdicts(design.preempt) : [])]);
  print('\nTargets:');
  for (const line of verdicts) print(line);
  if (options.doc) await writeDocSection(resolve(REPO_ROOT, options.doc), 'design', designMarkdown(design, tables, verdicts, machine, commandFor(argv)), SKELETON);
  if (!options.skipImports) await coldImports(options, machine, argv, print);
  if (!options.doc) print('\n(docs/BENCHMARKS.md unchanged; --write-docs records this run there)');
  const broken = [
    ...design.settings.flatMap((s) => [...s.ours, ...s.naive]),
    ...(design.preempt ? Object.values(design.preempt.samples).flat() : []),
  ].filter((t) => t.problems.length > 0);
  for (const turn of broken.slice(0, 5)) print(`incomplete or out-of-order reply: ${turn.problems.join('; ')}`);
  return broken.length === 0 ? 0 : 1;
}

/**
 * Cold import of every bundle, beside the baseline commit's bundles built in the same run; prints its tables and
 * verdicts and writes the `cold-start` section of the document (and, with --write-baseline, the baseline file).
 */
async function coldImports(options: Extract<BenchOptions, { mode: 'design' }>, machine: Machine, argv: string[], print: (line: string) => void): Promise<ColdImportResult> {
  const committed = await readBaselineFile();
  const baselineRef = options.writeBaseline ? undefined : (options.baseline ?? committed?.commit);
  print(`cold import of every bundle${baselineRef ? `, beside the bundles of ${baselineRef}` : ''}:`);
  const imports = await measureColdImports({ runs: options.importRuns, analyse: true, ...(baselineRef ? { baselineRef } : {}), progress: print });
  const tables = [coldImportTable(imports, committed), ...importAnalysisTables(imports)];
  for (const table of tables) print(`\n${renderText(table)}`);
  const verdicts = verdictLines([...coldStartVerdicts(imports), ...importVerdicts(imports)]);
  print('\nCold-start targets:');
  for (const line of verdicts) print(line);
  if (imports.baselineSkipped) print(imports.baselineSkipped);
  if (options.writeBaseline) {
    await writeBaselineFile(imports, await headCommit(), machineLine(machine), commandFor(argv));
    print('baseline written: bench/cold-start-baseline.json');
  }
  if (options.doc) {
    const body = [
      '## Cold start: every bundle, now and before',
      '',
      `Reproduce: \`${commandFor(argv)}\` (\`npm run bench -- --imports-only --write-docs\` runs this section alone).`,
      '',
      `Machine: ${machineLine(machine)}.`,
      '',
      `Each bundle is built as \`sam build\` builds it and imported in a fresh \`node\` process ${imports.runs} times with the NODE_OPTIONS its template sets; ` +
        'then the handler is called with an event whose first property read takes the first `error.stack` of the process (inside the handler\'s frames). ' +
        (imports.baseline
          ? `"Before" is commit ${imports.baseline.ref} (bench/cold-start-baseline.json), exported from git, built the same way and timed in this run, interleaved with the current bundles.`
          : 'No baseline was built in this run.'),
      '',
      '### Against the targets',
      '',
      ...verdicts,
      '',
      ...tables.flatMap((t) => [renderMarkdown(t), '']),
    ].join('\n');
    await writeDocSection(resolve(REPO_ROOT, options.doc), 'cold-start', body, SKELETON);
  }
  return imports;
}

function designMarkdown(
  design: DesignBenchResult,
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
      (design.preempt
        ? ` Preemption: ${design.preempt.options.turns} utterances per scenario (after one warm-up each), rotated; LLM time to first token ${design.preempt.options.firstTokenMs} ms; ` +
          `the partial prompt ${design.preempt.options.leadMs} ms before the final one.`
        : ''),
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

function preemptMarkdown(result: PreemptBenchResult, table: ResultTable, verdicts: string[], machine: Machine, command: string): string {
  const o = result.options;
  return [
    '## Preemptive generation: with and without',
    '',
    `Reproduce: \`${command}\` (\`npm run bench\` runs it too, inside the design section).`,
    '',
    `Machine: ${machineLine(machine)}.`,
    '',
    `Our handler on three calls, ${o.turns} utterances each after one warm-up, rotated: preemption off; on with the final prompt equal to the partial; ` +
      `on with a final that differs. Each utterance is a partial prompt ending a sentence, then the final one ${o.leadMs} ms later; the LLM server answers ` +
      `${o.firstTokenMs} ms after each request (${o.tokens} tokens, ${o.tokenGapMs} ms apart); post latency ${o.postLatencyMs} ms. A dropped speculation's ` +
      'tokens carry a tag of their own, so one that reached the caller would be counted.',
    '',
    ...verdicts,
    '',
    renderMarkdown(table),
  ].join('\n');
}

const SKELETON = `# Benchmarks

Generated by \`npm run bench -- --write-docs\` (bench/; without \`--write-docs\` a run only prints). Each section below
is rewritten by the run that produced it; the text outside the sections is kept.

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
  temporary folder, imported in a fresh \`node\` process N times with the NODE_OPTIONS its template gives the function;
  the import alone is timed (node's start is not). Then the handler is called with an event whose first property
  read takes the process's first \`error.stack\` inside the handler's frames (what source maps make slow). The bundles
  of the baseline commit (\`bench/cold-start-baseline.json\`, or \`--baseline REF\`) are exported from git, built the
  same way and timed in the same run, interleaved, so "before" and "now" share the machine's load.
  \`--imports-only\` runs this part alone; \`--write-baseline\` records the current commit as the new baseline.
- **Counts** (\`--counts\`): DynamoDB commands, PostToConnection calls, invocations and \`$default\` time per call and per
  turn on the real handlers, written to \`bench/turn-counts.json\` for \`npm run scaling\` (docs/SCALING.md).
- The p95 of a handful of turns is close to their maximum: use \`--turns\` for more.
- **Load runs** (\`--calls N\`): N callers at once against the whole local runtime (\`npm start\`'s: signed webhook,
  WebSocket, engine, embedded dynalite), \`--turns\` prompts each. Every word of every reply names its call, turn and
  LLM request (\`c3t2r17w5\`), so each frame heard, each LLM request and each stored message is traced to its reply.
  On each turn a caller lets the reply finish, cuts in (\`interrupt\` once the planned number of words has arrived,
  \`utteranceUntilInterrupt\` exactly those words: speech runs behind the frames, so the caller has heard only them
  even when the frame that brought them brought more, or the whole reply), or speaks over it (the next \`prompt\` as
  soon as the reply's first frame arrives, unless that frame already ended it). \`--interrupts\` and \`--supersedes\`
  are exact shares of all turns (30% and 10%), \`--seed\` picks which; \`--think-ms\` is the pause after \`last: true\`
  or the interrupt (default 250; 0 = the next prompt at once).
- **Load figures.** *Stored as heard*: the table is read after the run (a Query per session, not through the
  engine); the interrupted turn's one assistant message must equal the interrupt's text. *Late frames*: frames of
  a turn's reply received after the first frame of a later turn's reply on the same call. *Next requests*: the
  first LLM request of turn N+1 must hold turn N's caller message and turn N's reply as heard (whole when it
  finished; exactly the interrupt's text; for a superseded reply at least what the caller had received when it
  spoke again, and no more than it received in all). *last:true*: per reply; an empty closing frame belongs to the
  reply before it. *Reads per turn*: GetItem, Query, BatchGet, Scan and TransactGet requests on the call's session
  partition, counted by a middleware on the runtime's table client from the first prompt on, divided by the
  call's turns (the connection pointer read at setup is not counted). The timings cover the finished turns only.
- Benchmarks are not tests: \`npm test\` runs \`tests/bench\`, which checks the harness's counts, order and table
  shape on tiny settings and never a time.
`;
