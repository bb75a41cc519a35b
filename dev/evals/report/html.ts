import { formatUsd, type CallCost } from '../../../scripts/lib/call-cost.ts';
import { escapeXml } from '../../../scripts/latency/xml.ts';
import type { Check } from '../assertions.ts';
import type { TranscriptLine } from '../call-driver.ts';
import type { EvalRun } from '../run-evals.ts';
import { summarise } from './summary.ts';

/**
 * `--html out.html`: one self-contained page (inline CSS, nothing fetched). A summary table, then per run the
 * transcript with each reply's checks marked beside it, the judge's score and reason, first-word latency per
 * reply, and the call's cost part by part.
 */

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1f2933; margin: 24px 32px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 2px; border-top: 1px solid #d9dee5; padding-top: 18px; }
.meta, .file { color: #52606d; margin: 2px 0; }
.note { background: #fff4e5; border: 1px solid #f0c36d; border-radius: 6px; padding: 8px 12px; max-width: 980px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.summary { margin: 12px 0 8px; }
table.summary th, table.summary td { padding: 4px 12px; border-bottom: 1px solid #e4e7eb; text-align: left; }
table.summary td.num { text-align: right; }
.badge { display: inline-block; border-radius: 10px; padding: 0 9px; font-size: 12px; font-weight: 700; color: #fff; }
.badge.pass { background: #2f855a; } .badge.fail { background: #c53030; } .badge.skip { background: #7b8794; }
.turns { margin: 10px 0; max-width: 1100px; }
.line { display: grid; grid-template-columns: 90px 1fr 110px; gap: 10px; padding: 5px 8px; border-radius: 4px; }
.line.app { background: #f0f7ff; } .line.caller, .line.keypad { background: #f7f7f2; } .line.system { color: #52606d; font-style: italic; }
.who { font-weight: 600; color: #334e68; }
.ms { text-align: right; color: #52606d; font-size: 12px; }
.checks { list-style: none; margin: 2px 0 8px 100px; padding: 0; font-size: 13px; }
.checks li { margin: 1px 0; }
.checks li.pass::before { content: "✓ "; color: #2f855a; font-weight: 700; }
.checks li.fail::before { content: "✗ "; color: #c53030; font-weight: 700; }
.checks li.skip::before { content: "– "; color: #7b8794; font-weight: 700; }
.checks li.fail { color: #9b2c2c; }
.detail { color: #52606d; }
table.cost td { padding: 2px 12px 2px 0; }
table.cost td.num { text-align: right; }
`;

function checkList(checks: Check[]): string {
  if (!checks.length) return '';
  return `<ul class="checks">${checks
    .map((c) => `<li class="${c.status}">${escapeXml(c.what)}${c.detail ? ` <span class="detail">${escapeXml(`— ${c.detail}`)}</span>` : ''}</li>`)
    .join('')}</ul>`;
}

function transcript(lines: TranscriptLine[], checks: Check[], multiCaller: boolean): string {
  const out: string[] = [];
  lines.forEach((line, i) => {
    const who = line.who === 'app' ? 'agent' : line.who === 'system' ? '' : multiCaller ? line.callerId : line.who;
    out.push(
      `<div class="line ${line.who}"${line.step !== undefined ? ` data-step="${line.step + 1}"` : ''}><span class="who">${escapeXml(who)}</span><span>${escapeXml(line.text)}</span>` +
        `<span class="ms">${line.firstWordMs !== undefined ? `first word ${line.firstWordMs} ms` : ''}</span></div>`,
    );
    // A step's checks go under its reply: the last line of that step.
    const next = lines[i + 1];
    if (line.step !== undefined && next?.step !== line.step) out.push(checkList(checks.filter((c) => c.step === line.step)));
  });
  return out.join('');
}

function costTable(cost: CallCost): string {
  const rows: [string, number, string][] = [
    ['LLM', cost.llm.usd, cost.llm.detail],
    ['Lambda', cost.lambda.usd, cost.lambda.detail],
    ['DynamoDB', cost.dynamodb.usd, cost.dynamodb.detail],
    ['API Gateway', cost.apiGateway.usd, cost.apiGateway.detail],
    ['ConversationRelay', cost.conversationRelay.usd, cost.conversationRelay.detail],
  ];
  return (
    `<table class="cost"><tbody>${rows.map(([k, usd, d]) => `<tr><td>${k}</td><td class="num">${formatUsd(usd)}</td><td class="detail">${escapeXml(d)}</td></tr>`).join('')}` +
    `<tr><td><b>Total</b></td><td class="num"><b>${formatUsd(cost.totalUsd)}</b></td><td class="detail">${escapeXml(`prices as of ${cost.pricesAsOf}${cost.unpriced.length ? `; not priced: ${cost.unpriced.join('; ')}` : ''}`)}</td></tr></tbody></table>`
  );
}

export function renderEvalHtml(runs: EvalRun[], options: { generatedAt: string; target: string; note?: string | undefined; repeat: number }): string {
  const summaries = summarise(runs);
  const summary =
    '<table class="summary"><thead><tr><th>eval</th><th>result</th><th>pass rate</th><th>first word p50</th><th>cost per call p50</th></tr></thead><tbody>' +
    summaries
      .map((s) => {
        const status = s.failed ? 'fail' : s.passed ? 'pass' : 'skip';
        return (
          `<tr><td><a href="#${escapeXml(anchor(s.evalCase.id, 1))}">${escapeXml(s.evalCase.id)}</a></td><td><span class="badge ${status}">${status}</span></td>` +
          `<td class="num">${s.passRate === undefined ? 'skipped' : `${s.passed}/${s.passed + s.failed}`}</td>` +
          `<td class="num">${s.firstWordP50Ms === undefined ? '-' : `${Math.round(s.firstWordP50Ms)} ms`}</td>` +
          `<td class="num">${s.costP50Usd === undefined ? '-' : formatUsd(s.costP50Usd)}</td></tr>`
        );
      })
      .join('') +
    '</tbody></table>';
  const sections = runs.map((run) => {
    // Checks of a step that never ran (the call ended first) have no reply to sit under: they join the call's.
    const steps = new Set(run.log?.transcript.map((l) => l.step) ?? []);
    const callChecks = run.checks.filter((c) => c.step === undefined || !steps.has(c.step));
    return (
      `<section class="run" id="${escapeXml(anchor(run.evalCase.id, run.attempt))}" data-status="${run.status}">` +
      `<h2><span class="badge ${run.status}">${run.status}</span> ${escapeXml(run.evalCase.spec.name)}${options.repeat > 1 ? ` #${run.attempt}` : ''}</h2>` +
      `<p class="file">${escapeXml(`${run.evalCase.id} · ${run.evalCase.file} · ${(run.durationMs / 1000).toFixed(1)} s`)}</p>` +
      (run.evalCase.spec.description ? `<p>${escapeXml(run.evalCase.spec.description)}</p>` : '') +
      (run.note ? `<p class="note">${escapeXml(run.note)}</p>` : '') +
      (run.log ? `<div class="turns">${transcript(run.log.transcript, run.checks, run.evalCase.spec.callers.length > 1)}</div>` : '') +
      (callChecks.length ? `<h3>The whole call</h3>${checkList(callChecks)}` : '') +
      (run.cost ? `<h3>Cost</h3>${costTable(run.cost)}` : '') +
      '</section>'
    );
  });
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/>' +
    `<title>Evals, ${escapeXml(options.generatedAt.slice(0, 16).replace('T', ' '))} UTC</title><style>${CSS}</style></head><body>` +
    '<h1>Conversation evals</h1>' +
    `<p class="meta">${escapeXml(`${runs.length} run${runs.length === 1 ? '' : 's'} against ${options.target}. Generated ${options.generatedAt.slice(0, 19).replace('T', ' ')} UTC.`)}</p>` +
    (options.note ? `<p class="note">${escapeXml(options.note)}</p>` : '') +
    summary +
    sections.join('') +
    '</body></html>\n'
  );
}

function anchor(id: string, attempt: number): string {
  return `${id.replace(/[^a-z0-9-]+/gi, '-')}-${attempt}`;
}
