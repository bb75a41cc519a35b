import type { LatencyReport, UseCaseReport } from './report.ts';
import { formatValue, leftOutNotes, outcomeCounts, useCaseCounts } from './terminal-table.ts';
import { axisDomain, INTERRUPT_COLOR, LLM_LAST_TOKEN_COLOR, renderWaterfall, WATERFALL_KEYS, type WaterfallGroup } from './waterfall.ts';
import { escapeXml } from './xml.ts';

/**
 * `--html`: one self-contained page (inline CSS and SVG, nothing fetched) with each use case's summary table and
 * its per-turn waterfall. Written as well-formed XHTML-compatible markup so it can be checked with an XML parser.
 */

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1f2933; margin: 24px 32px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 4px; border-top: 1px solid #d9dee5; padding-top: 20px; }
.meta, .counts { color: #52606d; margin: 2px 0; }
.empty { font-size: 16px; padding: 16px; background: #fff4e5; border: 1px solid #f0c36d; border-radius: 6px; }
table.stats { border-collapse: collapse; margin: 12px 0 16px; font-variant-numeric: tabular-nums; }
table.stats th, table.stats td { padding: 4px 14px; border-bottom: 1px solid #e4e7eb; }
table.stats th { text-align: left; color: #52606d; font-weight: 600; }
table.stats td.num, table.stats th.num { text-align: right; }
table.stats tr.feel td { font-weight: 700; background: #f0f7ff; }
table.stats tr.part td:first-child { padding-left: 30px; color: #52606d; }
.ours { font-size: 11px; color: #8a4b08; background: #fdebd3; border-radius: 3px; padding: 0 4px; margin-left: 6px; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 10px 0 4px; font-size: 13px; }
.legend span.key { display: inline-flex; align-items: center; gap: 6px; }
.legend i { display: inline-block; width: 18px; height: 10px; border-radius: 2px; }
.legend i.thin { height: 6px; }
.legend i.line { width: 3px; height: 14px; border-radius: 0; }
.left-out { color: #52606d; font-size: 13px; margin: -8px 0 4px; }
.left-out::before { content: "* "; }
.help { color: #52606d; font-size: 13px; max-width: 980px; }
.chart { overflow-x: auto; }
svg.waterfall text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; font-size: 12px; fill: #1f2933; }
svg.waterfall .tick, svg.waterfall .axis-title { fill: #52606d; font-size: 11px; }
svg.waterfall .grid { stroke: #e4e7eb; stroke-width: 1; }
svg.waterfall .stripe { fill: #1f2933; fill-opacity: 0.035; }
svg.waterfall .call-title { font-weight: 700; font-size: 13px; }
svg.waterfall .call-detail { fill: #7b8794; font-size: 11px; }
svg.waterfall .badge { fill: #8a4b08; font-size: 11px; }
svg.waterfall .note { fill: #7b8794; font-style: italic; }
svg.waterfall .tool-label { font-size: 10px; fill: #334e68; }
svg.waterfall .value { font-weight: 700; }
svg.waterfall .cut { font-size: 12px; fill: #52606d; }
`;

function statsTable(useCase: UseCaseReport): string {
  const rows = useCase.rows.map((row) => {
    const cells = [row.spread?.n ?? 0, row.spread?.p50, row.spread?.p95, row.spread?.max];
    const [n, ...values] = cells;
    const label = escapeXml(row.label.trim()) + (row.ours ? '<span class="ours">ours</span>' : '');
    const classes = [row.id === 'firstWord' ? 'feel' : '', row.label.startsWith(' ') ? 'part' : ''].filter(Boolean).join(' ');
    return (
      `<tr${classes ? ` class="${classes}"` : ''} data-row="${escapeXml(row.id)}"><td>${label}</td><td class="num">${n}</td>` +
      values.map((v) => `<td class="num">${escapeXml(formatValue(v, row.unit))}</td>`).join('') +
      '</tr>'
    );
  });
  return (
    '<table class="stats"><thead><tr><th>phase</th><th class="num">n</th><th class="num">p50</th><th class="num">p95</th><th class="num">max</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}

function legend(): string {
  const keys = WATERFALL_KEYS.map((k) => `<span class="key"><i${k.thin ? ' class="thin"' : ''} style="background:${k.color}"></i>${escapeXml(k.label)}</span>`);
  keys.push(`<span class="key"><i class="line" style="background:${LLM_LAST_TOKEN_COLOR}"></i>LLM last token</span>`);
  keys.push(`<span class="key"><i class="line" style="background:${INTERRUPT_COLOR}"></i>caller interrupted</span>`);
  return `<div class="legend">${keys.join('')}</div>`;
}

function when(iso: string | undefined): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : 'start unknown';
}

function groupsFor(report: LatencyReport, useCaseId: string): WaterfallGroup[] {
  return report.calls
    .map((call) => ({
      title: `Call ${call.callSid}`,
      detail: `${when(call.startedAt)} · session ${call.sessionId}`,
      turns: report.turns.filter((t) => t.sessionId === call.sessionId && t.useCaseId === useCaseId),
    }))
    .filter((g) => g.turns.length > 0);
}

export function renderHtml(report: LatencyReport): string {
  const domain = axisDomain(report.turns);
  const sections = report.useCases.map(
    (useCase) =>
      `<section class="use-case" data-use-case="${escapeXml(useCase.useCaseId)}">` +
      `<h2>Use case ${escapeXml(useCase.useCaseId)}</h2>` +
      `<p class="counts">${escapeXml(useCaseCounts(useCase))}. Outcomes: ${escapeXml(outcomeCounts(useCase))}.</p>` +
      statsTable(useCase) +
      leftOutNotes(useCase).map((note) => `<p class="left-out">${escapeXml(note)}</p>`).join('') +
      legend() +
      `<div class="chart">${renderWaterfall(groupsFor(report, useCase.useCaseId), domain)}</div>` +
      '</section>',
  );
  const body =
    report.turns.length === 0
      ? '<p class="empty">No turn records found. Make a call first (<code>npm start</code>, then <code>npm run call</code>), or widen the search with <code>--days</code> or <code>--calls</code>.</p>'
      : '<p class="help">Each row is one turn, drawn from the moment the caller\'s prompt reached us. The number on the right is the time to first word, what the caller feels. ' +
        'The bars are consecutive and add up: up to the first word, then streaming and the tail. Orange, red and purple are our own code; grey is the LLM and the tool rounds, whose tools and next LLM round run in the lanes under their turn. Hover a bar for its exact duration.</p>' +
        sections.join('');
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/>' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"/>' +
    `<title>Turn latency, ${escapeXml(report.generatedAt.slice(0, 16).replace('T', ' '))} UTC</title>` +
    `<style>${CSS}</style></head><body>` +
    '<h1>Turn latency</h1>' +
    `<p class="meta">${escapeXml(`Latency of ${report.selection}, from ${report.source}. Generated ${when(report.generatedAt)}.`)}</p>` +
    body +
    '</body></html>\n'
  );
}
