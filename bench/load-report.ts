import { loadProblems, type LoadBenchResult } from './load-bench.ts';
import { fmt, machineLine, renderMarkdown, type Machine, type ResultTable } from './report.ts';
import type { Spread } from './stats.ts';

/** The load run's tables and lines, for the terminal and for its section of docs/BENCHMARKS.md. */

export function loadTimingTable(result: LoadBenchResult): ResultTable {
  const row = (name: string, s: Spread | undefined, digits = 1) => [name, String(s?.n ?? 0), fmt(s?.p50, digits), fmt(s?.p95, digits), fmt(s?.p99, digits), fmt(s?.max, digits)];
  const o = result.options;
  return {
    title: `${o.calls} simultaneous calls x ${o.turns} turns, ${o.tokens}-token replies, post latency ${o.postLatencyMs} ms, think time ${o.thinkMs} ms: the turns let finish`,
    headers: ['metric', 'turns', 'p50', 'p95', 'p99', 'max'],
    rows: [
      row('overhead to first token, ms', result.overhead),
      row('own overhead (prompt to LLM request + the above), ms', result.ownOverhead),
      row('tail lag, ms', result.tailLag),
      row('posts per turn', result.postsPerTurn, 0),
    ],
  };
}

export function ownershipTable(result: LoadBenchResult): ResultTable {
  const f = result.ownership;
  const s = f.storedAsHeard;
  const n = f.nextRequests;
  const l = f.lastFlags;
  const o = result.options;
  return {
    title:
      `Who owns the reply: ${f.turns} turns (planned ${f.planned.interrupt} interrupted, ${f.planned.supersede} superseded; ` +
      `${f.outcomes.complete} finished, ${f.outcomes.interrupted} interrupted (${f.interruptedAfterLast} after its last:true), ${f.outcomes.superseded} superseded, ` +
      `${f.outcomes.fallback} answered by the engine's fallback line, ${f.outcomes['no-reply']} unanswered), think time ${o.thinkMs} ms`,
    headers: ['figure', 'count', 'of', 'target'],
    rows: [
      ['interrupted replies stored exactly as heard', String(s.exact), String(s.interrupted), 'all'],
      ['  stored in full instead', String(s.full), String(s.interrupted), '0'],
      ['  stored as other text / not stored / stored twice', `${s.other} / ${s.missing} / ${s.several}`, String(s.interrupted), '0'],
      ['frames of an older reply after a newer reply\'s first frame, total', String(f.lateFrames.total), `${f.lateFrames.replies} replies`, '-'],
      ['  most such frames of one reply', String(f.lateFrames.maxPerReply), '-', 'at most 1'],
      ['next LLM requests lacking the previous caller message', String(n.missingUser), String(n.checked), '0'],
      ['next LLM requests lacking the previous reply', String(n.missingReply), String(n.checked), '0'],
      ['next LLM requests with the previous reply not as heard', String(n.wrongReply), String(n.checked), '0'],
      ['turns with more than one LLM request / next turns with none', `${n.extraRequests} / ${n.noRequest}`, String(f.turns), '0'],
      ['replies with exactly one last:true', String(l.exactlyOne), String(l.replies), 'all'],
      ['  with none / with several', `${l.none} / ${l.several}`, String(l.replies), '0'],
      ['  finished replies without exactly one', String(l.completeNotOne), String(f.outcomes.complete), '0'],
      ['frames / messages of another call', `${f.crossSession.frames} / ${f.crossSession.messages}`, '-', '0'],
      ['duplicate caller / reply messages stored', `${f.duplicates.user} / ${f.duplicates.assistant}`, '-', '0'],
      ['DynamoDB reads per turn, per call: p50 / max', `${fmt(f.reads.perTurn?.p50)} / ${fmt(f.reads.perTurn?.max)}`, `${f.reads.total} reads`, '-'],
    ],
  };
}

export function loadVerdictLines(result: LoadBenchResult): string[] {
  const problems = loadProblems(result);
  const shown = [...result.mismatches, ...result.ownership.examples];
  return [
    `Finished replies: ${result.matched} of ${result.expected} heard complete and in order, each compared whole with what the LLM server sent for it ` +
      `(${result.requests} LLM requests; run took ${result.wallSeconds.toFixed(1)} s; 1-minute load average ${result.loadAverage.start.toFixed(1)} ` +
      `as the turns started, ${result.loadAverage.end.toFixed(1)} as they ended).`,
    problems.length === 0 ? 'Every reply-ownership check holds.' : `Checks that fail: ${problems.join('; ')}.`,
    ...(shown.length ? ['Examples:'] : []),
    ...shown.slice(0, 20).map((m) => `  - ${m}`),
    ...(shown.length > 20 ? [`  - ... and ${shown.length - 20} more`] : []),
  ];
}

/** Each think time has its own section: a run at 0 ms does not overwrite the one at the default. */
export const loadSectionName = (thinkMs: number) => `load-think-${thinkMs}ms`;

export function loadMarkdown(result: LoadBenchResult, tables: ResultTable[], machine: Machine, command: string): string {
  const o = result.options;
  return [
    `## Load: simultaneous calls against the whole local app, think time ${o.thinkMs} ms`,
    '',
    `Reproduce: \`${command}\`.`,
    '',
    `Machine: ${machineLine(machine)}.`,
    '',
    `${o.calls} calls dialled through the call webhook (signed), each on its own WebSocket, then ${o.turns} prompts each, all calls at once. ` +
      `${Math.round(o.interruptShare * 100)}% of all turns are cut off by an \`interrupt\` after a random number of words (seed ${o.seed}; ` +
      `\`utteranceUntilInterrupt\` is exactly those words, the caller's speech running behind the frames) and ${Math.round(o.supersedeShare * 100)}% ` +
      'by the next `prompt`, sent as the reply\'s first frame arrives. ' +
      `The next prompt follows ${o.thinkMs} ms after \`last: true\` or the interrupt. LLM: the bench's OpenAI-compatible server, time to first token ` +
      `${o.firstTokenMs} ms, ${o.tokenGapMs} ms between tokens, every word naming its call, turn and request, so frames, requests and stored ` +
      'messages are traced to their reply; the table is read after the run. Reads: DynamoDB read requests on the call\'s session partition ' +
      'during its turns, counted on the table client. Everything (runtime, embedded dynalite, LLM server, callers) shares one node process: ' +
      'read the timings as a stress figure, not as what one Lambda sees.',
    '',
    ...loadVerdictLines(result),
    '',
    ...tables.flatMap((t) => [renderMarkdown(t), '']),
  ].join('\n');
}
