import { isDeepStrictEqual } from 'node:util';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Table } from '../../layers/data/table.ts';
import { listOutbox } from '../../04_util-send-message/src/outbox.ts';
import { formatUsd } from '../../scripts/lib/call-cost.ts';
import type { TranscriptLine } from './call-driver.ts';
import type { CallExpectation, EvalCase, TurnExpectation, Words } from './eval-schema.ts';
import type { CallEvidence, ToolUse } from './evidence.ts';
import type { Judge } from './llm-roles.ts';

/**
 * Checks an eval's expectations against the evidence of its call, one result per expectation. A failure says what
 * was expected and what happened instead, so a broken prompt or tool reads as a diff, not as "false".
 */
export interface Check {
  /** `call`, or the script step: `step 3 (line 14)`. */
  scope: string;
  line?: number;
  /** What was checked, e.g. `says contains "booked"`. */
  what: string;
  status: 'pass' | 'fail' | 'skip';
  detail?: string;
  /** Script step (0-based) the check belongs to. */
  step?: number;
}

export interface CheckContext {
  evalCase: EvalCase;
  evidence: CallEvidence;
  /** Caller id -> number, for `{{caller}}` / `{{caller:id}}` in table and message expectations. */
  numbers: Map<string, string>;
  table?: Table | undefined;
  judge?: Judge | undefined;
  /** Why the judge is off (offline, no key), reported on each skipped judge check. */
  judgeOff?: string;
}

export async function checkEval(ctx: CheckContext): Promise<Check[]> {
  const { evalCase, evidence } = ctx;
  const checks: Check[] = [];
  const pendingJudges: { scope: string; step?: number; line: number | undefined; spec: NonNullable<TurnExpectation['judge']>; focus?: string; upTo?: number }[] = [];
  for (const problem of evidence.log.problems) checks.push({ scope: 'call', what: 'the call ran', status: 'fail', detail: problem });

  (evalCase.spec.script ?? []).forEach((step, i) => {
    if (!('expect' in step) || !step.expect) return;
    const line = evalCase.stepLines[i];
    const scope = `step ${i + 1}${line ? ` (line ${line})` : ''}`;
    const index = evidence.log.turns.findIndex((t) => t.step === i);
    const turn = evidence.log.turns[index];
    const add = (c: Omit<Check, 'scope' | 'step'>) => checks.push({ scope, step: i, ...(line ? { line } : {}), ...c });
    if (!turn) return add({ what: 'the step ran', status: 'fail', detail: 'the call was over before this step' });
    checks.push(...turnChecks(step.expect, turn.reply, evidence.toolsByTurn[index], turn.firstWordMs).map((c) => ({ scope, step: i, ...(line ? { line } : {}), ...c })));
    if (step.expect.judge) pendingJudges.push({ scope, step: i, line, spec: step.expect.judge, focus: turn.reply, upTo: i });
  });

  const call = evalCase.spec.expect;
  const replies = evidence.log.transcript.filter((l) => l.who === 'app').map((l) => l.text).join('\n');
  const allTools = evidence.toolsByTurn.some((t) => t === undefined) ? undefined : evidence.toolsByTurn.flatMap((t) => t ?? []);
  const callScope = (c: Omit<Check, 'scope'>) => ({ scope: 'call', ...c });
  // The call's latency budget applies to every turn, each checked on its own below.
  checks.push(...turnChecks({ ...call, firstWordWithinMs: undefined }, replies, allTools, undefined).map(callScope));
  if (call.firstWordWithinMs !== undefined) {
    for (const turn of evidence.log.turns) {
      if (turn.firstWordMs === undefined) continue;
      checks.push(callScope(latencyCheck(call.firstWordWithinMs, turn.firstWordMs, `step ${turn.step + 1}`)));
    }
  }
  if (call.ended) checks.push(callScope(endedCheck(call.ended, evidence)));
  for (const t of call.table ?? []) checks.push(callScope(await tableCheck(t, ctx)));
  for (const m of call.messagesSent ?? []) checks.push(callScope(await messageCheck(m, ctx)));
  if (call.costWithinUsd !== undefined) checks.push(callScope(costCheck(call.costWithinUsd, evidence)));
  if (call.judge) pendingJudges.push({ scope: 'call', line: undefined, spec: call.judge });

  for (const j of pendingJudges) {
    const what = `judge: ${j.spec.criteria} (pass at ${j.spec.threshold})`;
    const base = { scope: j.scope, ...(j.step !== undefined ? { step: j.step } : {}), ...(j.line ? { line: j.line } : {}), what };
    if (!ctx.judge) {
      checks.push({ ...base, status: 'skip', detail: ctx.judgeOff ?? 'no judge model' });
      continue;
    }
    const lines = j.upTo === undefined ? evidence.log.transcript : evidence.log.transcript.filter((l) => l.step === undefined || l.step < j.upTo!);
    try {
      const verdict = await ctx.judge.score(j.spec.criteria, transcriptText(lines), j.focus);
      const ok = verdict.score >= j.spec.threshold;
      checks.push({ ...base, status: ok ? 'pass' : 'fail', detail: `score ${verdict.score.toFixed(2)}: ${verdict.reason}` });
    } catch (err) {
      checks.push({ ...base, status: 'fail', detail: `the judge failed: ${(err as Error).message}` });
    }
  }
  return checks;
}

export function transcriptText(lines: TranscriptLine[]): string {
  return lines
    .map((l) => (l.who === 'system' ? `[${l.text}]` : `${l.who === 'app' ? 'Agent' : l.who === 'keypad' ? `Caller presses` : 'Caller'}: ${l.text}`))
    .join('\n');
}

function turnChecks(expect: TurnExpectation, said: string, tools: ToolUse[] | undefined, firstWordMs: number | undefined): Omit<Check, 'scope'>[] {
  const out: Omit<Check, 'scope'>[] = [];
  if (expect.says) out.push(...wordChecks(expect.says, said));
  if (expect.called) {
    const what = `called ${expect.called.map(describeCall).join(expect.inOrder ? ' then ' : ', ')}`;
    out.push(tools ? calledCheck(expect.called, expect.inOrder, tools, what) : { what, status: 'skip', detail: 'no table access: tool calls are read from the chat history' });
  }
  for (const name of expect.notCalled ?? []) {
    const what = `did not call ${name}`;
    if (!tools) out.push({ what, status: 'skip', detail: 'no table access' });
    else {
      const calls = tools.filter((t) => t.name === name);
      out.push(calls.length ? { what, status: 'fail', detail: `called ${calls.map(describeUse).join(', ')}` } : { what, status: 'pass' });
    }
  }
  if (expect.firstWordWithinMs !== undefined) {
    out.push(firstWordMs === undefined ? { what: `first word within ${expect.firstWordWithinMs} ms`, status: 'fail', detail: 'no reply' } : latencyCheck(expect.firstWordWithinMs, firstWordMs));
  }
  return out;
}

function wordChecks(words: Words, said: string): Omit<Check, 'scope'>[] {
  const out: Omit<Check, 'scope'>[] = [];
  const heard = said.toLowerCase();
  const got = `the agent said: ${JSON.stringify(said)}`;
  for (const c of words.contains ?? []) {
    const what = `says "${c}"`;
    out.push(heard.includes(c.toLowerCase()) ? { what, status: 'pass' } : { what, status: 'fail', detail: got });
  }
  if (words.matches) {
    const what = `says /${words.matches}/i`;
    out.push(new RegExp(words.matches, 'i').test(said) ? { what, status: 'pass' } : { what, status: 'fail', detail: got });
  }
  for (const c of words.notContains ?? []) {
    const what = `does not say "${c}"`;
    out.push(heard.includes(c.toLowerCase()) ? { what, status: 'fail', detail: got } : { what, status: 'pass' });
  }
  return out;
}

function calledCheck(expected: { name: string; args?: Record<string, unknown> | undefined }[], inOrder: boolean, tools: ToolUse[], what: string): Omit<Check, 'scope'> {
  const made = tools.length ? tools.map(describeUse).join(', ') : 'no tool';
  let from = 0;
  for (const e of expected) {
    const candidates = inOrder ? tools.slice(from) : tools;
    const found = candidates.findIndex((t) => t.name === e.name && (!e.args || isSubset(e.args, t.args)));
    if (found === -1) {
      const sameName = tools.filter((t) => t.name === e.name);
      const why = sameName.length
        ? `${e.name} was called with ${sameName.map((t) => JSON.stringify(t.args)).join(' and ')}, expected arguments including ${JSON.stringify(e.args)}`
        : `${e.name} was not called${inOrder && tools.some((t) => t.name === e.name) ? ' in that order' : ''}`;
      return { what, status: 'fail', detail: `${why}; tools called: ${made}` };
    }
    if (inOrder) from += found + 1;
  }
  return { what, status: 'pass', detail: `tools called: ${made}` };
}

function latencyCheck(budgetMs: number, ms: number, of = 'first word'): Omit<Check, 'scope'> {
  const what = `${of === 'first word' ? 'first word' : `${of}: first word`} within ${budgetMs} ms`;
  return ms <= budgetMs ? { what, status: 'pass', detail: `${ms} ms` } : { what, status: 'fail', detail: `${ms} ms, ${ms - budgetMs} ms over` };
}

function endedCheck(expected: NonNullable<CallExpectation['ended']>, evidence: CallEvidence): Omit<Check, 'scope'> {
  const end = evidence.log.ends.at(-1)?.end;
  if (!expected.expected) {
    return end ? { what: 'the app did not end the call', status: 'fail', detail: `it ended it with handoff ${end.handoffData ?? 'none'}` } : { what: 'the app did not end the call', status: 'pass' };
  }
  const parts = [expected.handoffData ? `handoff data including ${JSON.stringify(expected.handoffData)}` : '', expected.then ? `then Twilio ${expected.then === 'dial' ? 'dials' : 'hangs up'}` : ''].filter(Boolean);
  const what = `the app ended the call${parts.length ? ` with ${parts.join(', ')}` : ''}`;
  if (!end) return { what, status: 'fail', detail: 'the call was still open when the script ended' };
  let data: unknown;
  try {
    data = end.handoffData === undefined ? undefined : JSON.parse(end.handoffData);
  } catch {
    data = end.handoffData;
  }
  if (expected.handoffData && !isSubset(expected.handoffData, data)) return { what, status: 'fail', detail: `handoff data was ${end.handoffData ?? 'none'}` };
  const next = end.next?.kind === 'other' ? (end.next.dial ? 'dial' : 'hangup') : 'none';
  if (expected.then && expected.then !== next) return { what, status: 'fail', detail: `the <Connect action> answer was ${next === 'dial' ? `dial ${end.next?.kind === 'other' ? end.next.dial : ''}` : next}` };
  return { what, status: 'pass', detail: `handoff ${end.handoffData ?? 'none'}` };
}

async function tableCheck(t: NonNullable<CallExpectation['table']>[number], ctx: CheckContext): Promise<Omit<Check, 'scope'>> {
  const fill = (v: unknown) => fillPlaceholders(v, ctx);
  const pk = fill(t.pk) as string;
  const where = fill(t.where) as Record<string, unknown>;
  const key = `${pk}${t.sk ? ` / ${fill(t.sk)}` : t.skBeginsWith ? ` / ${fill(t.skBeginsWith)}...` : ''}`;
  const what = `table: ${t.count === undefined ? 'an item' : `${t.count} item${t.count === 1 ? '' : 's'}`} at ${key}${Object.keys(where).length ? ` with ${JSON.stringify(where)}` : ''}`;
  if (!ctx.table) return { what, status: 'skip', detail: 'no table access' };
  const values: Record<string, unknown> = { ':pk': pk };
  let condition = 'pk = :pk';
  if (t.sk) {
    condition += ' AND sk = :sk';
    values[':sk'] = fill(t.sk);
  } else if (t.skBeginsWith) {
    condition += ' AND begins_with(sk, :sk)';
    values[':sk'] = fill(t.skBeginsWith);
  }
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await ctx.table.doc.send(new QueryCommand({ TableName: ctx.table.name, KeyConditionExpression: condition, ExpressionAttributeValues: values, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...((out.Items ?? []) as Record<string, unknown>[]));
    start = out.LastEvaluatedKey;
  } while (start);
  const matching = items.filter((item) => isSubset(where, item));
  const ok = t.count === undefined ? matching.length > 0 : matching.length === t.count;
  return { what, status: ok ? 'pass' : 'fail', detail: `${matching.length} of ${items.length} item${items.length === 1 ? '' : 's'} at ${key} match${matching.length ? `: ${matching.map((m) => m.sk).join(', ')}` : ''}` };
}

async function messageCheck(m: NonNullable<CallExpectation['messagesSent']>[number], ctx: CheckContext): Promise<Omit<Check, 'scope'>> {
  const to = fillPlaceholders(m.to, ctx) as string;
  const what = `${m.count === undefined ? 'a text' : `${m.count} text${m.count === 1 ? '' : 's'}`} to ${to}${m.contains ? ` saying ${m.contains.map((c) => `"${c}"`).join(', ')}` : ''}`;
  if (!ctx.table) return { what, status: 'skip', detail: 'no table access (the local outbox)' };
  const sent = (await listOutbox(ctx.table)).filter((o) => o.to === to);
  const matching = sent.filter((o) => (m.contains ?? []).every((c) => o.body.toLowerCase().includes(c.toLowerCase())));
  const ok = m.count === undefined ? matching.length > 0 : matching.length === m.count;
  return { what, status: ok ? 'pass' : 'fail', detail: sent.length ? `texts to ${to}: ${sent.map((o) => JSON.stringify(o.body)).join('; ')}` : `no text to ${to}` };
}

function costCheck(budget: number, evidence: CallEvidence): Omit<Check, 'scope'> {
  const what = `costs at most ${formatUsd(budget)}`;
  const cost = evidence.cost;
  if (!cost) return { what, status: 'skip', detail: 'cost needs table access' };
  const detail = `${formatUsd(cost.totalUsd)} (LLM ${formatUsd(cost.llm.usd)}, Lambda ${formatUsd(cost.lambda.usd)}, DynamoDB ${formatUsd(cost.dynamodb.usd)}, API Gateway ${formatUsd(cost.apiGateway.usd)}, ConversationRelay ${formatUsd(cost.conversationRelay.usd)})${cost.unpriced.length ? `; not priced: ${cost.unpriced.join('; ')}` : ''}`;
  if (cost.totalUsd > budget) return { what, status: 'fail', detail };
  // Under budget with a part unmeasured (a deployed stack) or unpriced: not proven either way.
  return { what, status: cost.unpriced.length ? 'skip' : 'pass', detail };
}

function describeCall(e: { name: string; args?: Record<string, unknown> | undefined }): string {
  return e.args ? `${e.name} ${JSON.stringify(e.args)}` : e.name;
}

function describeUse(t: ToolUse): string {
  return `${t.name} ${JSON.stringify(t.args)}`;
}

/** Every field of `expected` is in `actual` with the same value (objects compared the same way, deeply). */
export function isSubset(expected: unknown, actual: unknown): boolean {
  if (expected && typeof expected === 'object' && !Array.isArray(expected)) {
    if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return Object.entries(expected).every(([k, v]) => isSubset(v, (actual as Record<string, unknown>)[k]));
  }
  return isDeepStrictEqual(expected, actual);
}

/** `{{caller}}`: the first caller's number; `{{caller:id}}`: another caller's. */
function fillPlaceholders(value: unknown, ctx: CheckContext): unknown {
  if (typeof value === 'string') {
    return value.replace(/\{\{caller(?::([a-z][a-z0-9-]*))?\}\}/g, (whole, id: string | undefined) => ctx.numbers.get(id ?? ctx.evalCase.spec.callers[0]!.id) ?? whole);
  }
  if (Array.isArray(value)) return value.map((v) => fillPlaceholders(v, ctx));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillPlaceholders(v, ctx)]));
  return value;
}
