import { nearestRank } from './percentiles.ts';
import type { TurnView } from './report.ts';
import { escapeXml, formatMs } from './xml.ts';

/**
 * The per-turn waterfall as inline SVG: one row per turn on a shared millisecond axis that starts when the prompt
 * arrived, the phases as consecutive bars, tool calls as bars in lanes underneath, and a marker where the caller
 * cut in. Every row of every chart of a page uses the same scale, so rows can be compared by eye.
 */

export interface WaterfallGroup {
  /** Bold part of the group header (the call). */
  title: string;
  /** Grey part of the header (when, which session). */
  detail: string;
  turns: TurnView[];
}

/** Colours and names of what the chart draws, shared with the page's legend. */
export const WATERFALL_KEYS = [
  { id: 'preLlm', label: 'before the LLM (ours)', color: '#f28e2b', thin: false },
  { id: 'llmFirstToken', label: 'LLM time to first token', color: '#a0acbd', thin: false },
  { id: 'toolRounds', label: 'tool rounds (tools and the next LLM round)', color: '#cfd6df', thin: false },
  { id: 'postOverhead', label: 'posting (ours)', color: '#e15759', thin: false },
  { id: 'streaming', label: 'streaming while the LLM generates', color: '#9fd99a', thin: true },
  { id: 'tailLag', label: 'tail after the LLM finished (ours)', color: '#7b4fa0', thin: false },
  { id: 'toolOk', label: 'tool call', color: '#2a9d8f', thin: true },
  { id: 'toolFailed', label: 'tool call failed or timed out', color: '#e9c46a', thin: true },
  { id: 'llmAfterTools', label: 'LLM round after the tools', color: '#a0acbd', thin: true },
] as const;
export type WaterfallKey = (typeof WATERFALL_KEYS)[number]['id'];
export const INTERRUPT_COLOR = '#c1121f';
export const LLM_LAST_TOKEN_COLOR = '#1d3557';

const color = (id: WaterfallKey) => WATERFALL_KEYS.find((k) => k.id === id)!.color;

const WIDTH = 1120;
const LABEL_X = 12;
const CHART_X0 = 230;
const CHART_X1 = WIDTH - 120;
const VALUE_X = WIDTH - 12;
const AXIS_HEIGHT = 30;
const GROUP_HEIGHT = 28;
const BAR_HEIGHT = 12;
const TOOL_LANE = 10;

/** How far (ms after the prompt) the turn's last visible event lies. */
export function turnExtent(turn: TurnView): number {
  const r = turn.record;
  const points = [r.llmRequestSentAt, r.llmFirstTokenAt, r.firstTokenPostedAt, r.llmLastTokenAt, r.lastTokenPostedAt, r.interruptedAt]
    .filter((v): v is number => typeof v === 'number')
    .map((v) => v - r.promptReceivedAt);
  for (const tool of turn.tools) points.push(tool.startedAt - r.promptReceivedAt + tool.durationMs);
  return Math.max(0, ...points);
}

/**
 * The axis length: the longest turn, unless one outlier would squash every other row, in which case the scale
 * follows the bulk of turns (1.5 x the 90th percentile) and longer bars are cut with a marker.
 */
export function axisDomain(turns: TurnView[]): number {
  const extents = turns.map(turnExtent).sort((a, b) => a - b);
  const max = extents[extents.length - 1] ?? 0;
  const p90 = nearestRank(extents, 90) ?? 0;
  const domain = extents.length >= 5 && max > 2 * p90 && p90 > 0 ? p90 * 1.5 : max;
  const step = niceStep(Math.max(domain, 100), 8);
  return Math.ceil(Math.max(domain, 100) / step) * step;
}

/** The smallest 1/2/5 x 10^k at or above `value / parts`: tick steps and rounded axis ends. */
export function niceStep(value: number, parts: number): number {
  const raw = value / parts;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * magnitude >= raw) return m * magnitude;
  return 10 * magnitude;
}

export function axisTicks(domain: number): number[] {
  const step = niceStep(domain, 8);
  const ticks: number[] = [];
  for (let t = 0; t <= domain + step / 1000; t += step) ticks.push(Math.round(t * 1000) / 1000);
  return ticks;
}

interface Scale {
  domain: number;
  x(ms: number): number;
}

function scaleFor(domain: number): Scale {
  return { domain, x: (ms) => CHART_X0 + (Math.min(Math.max(ms, 0), domain) / domain) * (CHART_X1 - CHART_X0) };
}

function rowHeight(turn: TurnView): number {
  return 26 + (turn.tools.length + (turn.llmAfterTools ? 1 : 0)) * TOOL_LANE;
}

/** A bar from `from` to `to` ms; cut at the axis end with a » when longer. */
function bar(scale: Scale, from: number, to: number, y: number, height: number, fill: string, title: string, extra = ''): string {
  if (to < from) return '';
  const x0 = scale.x(from);
  const x1 = Math.max(scale.x(to), x0 + 1);
  const cut = to > scale.domain ? `<text class="cut" x="${(x1 + 3).toFixed(1)}" y="${y + height - 2}">»</text>` : '';
  return (
    `<rect x="${x0.toFixed(1)}" y="${y}" width="${(x1 - x0).toFixed(1)}" height="${height}" fill="${fill}"${extra}>` +
    `<title>${escapeXml(title)}</title></rect>${cut}`
  );
}

function turnRow(turn: TurnView, y: number, scale: Scale, striped: boolean): string {
  const r = turn.record;
  const at = (mark: number | undefined) => (typeof mark === 'number' ? mark - r.promptReceivedAt : undefined);
  const height = rowHeight(turn);
  const parts: string[] = [];
  if (striped) parts.push(`<rect class="stripe" x="0" y="${y}" width="${WIDTH}" height="${height}"/>`);

  const label = `turn ${turn.turn}${turn.kind === 'dtmf' ? ' keypad' : ''}`;
  parts.push(`<text class="turn-label" x="${LABEL_X + 14}" y="${y + 16}">${escapeXml(label)}</text>`);
  const badges = [turn.coldStart ? 'cold start' : '', turn.outcome !== 'completed' ? turn.outcome : ''].filter(Boolean).join(' · ');
  if (badges) parts.push(`<text class="badge" x="${CHART_X0 - 8}" y="${y + 16}" text-anchor="end">${escapeXml(badges)}</text>`);

  const barY = y + 7;
  // The consecutive phases, exactly the segments the table's numbers are computed from.
  for (const segment of turn.segments) {
    const key = WATERFALL_KEYS.find((k) => k.id === segment.id)!;
    const ms = segment.to - segment.from;
    const thin = key.thin ? 3 : 0;
    parts.push(
      bar(scale, segment.from, segment.to, barY + thin, BAR_HEIGHT - 2 * thin, key.color, `${key.label}: ${formatMs(ms)}`,
        ` class="phase" data-phase="${segment.id}" data-ms="${ms}"`),
    );
  }
  const llmLast = at(r.llmLastTokenAt);
  if (llmLast !== undefined && llmLast <= scale.domain) {
    const x = scale.x(llmLast).toFixed(1);
    parts.push(
      `<line class="llm-last" x1="${x}" x2="${x}" y1="${barY - 3}" y2="${barY + BAR_HEIGHT + 3}" stroke="${LLM_LAST_TOKEN_COLOR}" stroke-width="1.5">` +
        `<title>LLM last token at ${formatMs(llmLast)}</title></line>`,
    );
  }
  if (at(r.firstTokenPostedAt) === undefined) {
    const why = turn.error ? `${turn.outcome}: ${turn.error}` : turn.outcome;
    const reached = turn.segments.at(-1)?.to ?? 0;
    const x = Math.min(scale.x(reached) + 6, CHART_X1 - 200);
    parts.push(`<text class="note" x="${x.toFixed(1)}" y="${y + 16}">${escapeXml(`no reply (${why})`)}</text>`);
  }

  turn.tools.forEach((tool, i) => {
    const start = tool.startedAt - r.promptReceivedAt;
    const end = start + tool.durationMs;
    const laneY = y + 22 + i * TOOL_LANE;
    const failed = !tool.ok || tool.timedOut === true;
    const state = tool.timedOut ? ' (timed out)' : tool.ok ? '' : ' (failed)';
    const text = `${tool.name} ${formatMs(tool.durationMs)}${state}`;
    parts.push(
      bar(scale, start, end, laneY, TOOL_LANE - 3, color(failed ? 'toolFailed' : 'toolOk'), `tool ${text}`,
        ` class="lane" data-lane="tool" data-tool="${escapeXml(tool.name)}" data-ms="${tool.durationMs}"`),
    );
    // Right of the bar when there is room, else inside a long bar, else left of it.
    const startX = scale.x(start);
    const endX = scale.x(end);
    const textWidth = text.length * 5.6;
    const textAttrs =
      endX + 4 + textWidth <= CHART_X1 + 100
        ? `x="${(endX + 4).toFixed(1)}"`
        : endX - startX >= textWidth + 8
          ? `x="${(startX + 4).toFixed(1)}"`
          : `x="${(startX - 4).toFixed(1)}" text-anchor="end"`;
    parts.push(`<text class="tool-label" ${textAttrs} y="${laneY + TOOL_LANE - 3}">${escapeXml(text)}</text>`);
  });

  if (turn.llmAfterTools) {
    const { from, to } = turn.llmAfterTools;
    const laneY = y + 22 + turn.tools.length * TOOL_LANE;
    parts.push(bar(scale, from, to, laneY, TOOL_LANE - 3, color('llmAfterTools'), `LLM round after the tools: ${formatMs(to - from)}`, ' class="lane" data-lane="llmAfterTools"'));
  }

  const interruptedAt = at(r.interruptedAt);
  if (interruptedAt !== undefined) {
    const x = scale.x(interruptedAt);
    parts.push(
      `<g class="interrupt"><title>${escapeXml(`caller interrupted at ${formatMs(interruptedAt)}`)}</title>` +
        `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${y + 2}" y2="${y + height - 2}" stroke="${INTERRUPT_COLOR}" stroke-width="2"/>` +
        `<path d="M${(x - 5).toFixed(1)} ${y + 1} h10 l-5 6 z" fill="${INTERRUPT_COLOR}"/></g>`,
    );
  }

  const firstWord = turn.phases.firstWord;
  parts.push(
    `<text class="value" x="${VALUE_X}" y="${y + 16}" text-anchor="end">${firstWord === undefined ? '-' : escapeXml(formatMs(firstWord))}</text>`,
  );
  return (
    `<g class="turn-row" data-session="${escapeXml(turn.sessionId)}" data-turn="${turn.turn}">` + parts.join('') + '</g>'
  );
}

function axis(scale: Scale, y: number, top: boolean, chartTop: number, chartBottom: number): string {
  const parts = axisTicks(scale.domain).map((t) => {
    const x = scale.x(t).toFixed(1);
    const grid = top ? `<line class="grid" x1="${x}" x2="${x}" y1="${chartTop}" y2="${chartBottom}"/>` : '';
    return `${grid}<text class="tick" x="${x}" y="${top ? y + 18 : y + 14}" text-anchor="middle">${formatMs(t)}</text>`;
  });
  if (top) {
    parts.push(`<text class="axis-title" x="${VALUE_X}" y="${y + 18}" text-anchor="end">first word</text>`);
    parts.push(`<text class="axis-title" x="${LABEL_X}" y="${y + 18}">ms since prompt received</text>`);
  } else {
    parts.push(
      `<text class="axis-title" x="${((CHART_X0 + CHART_X1) / 2).toFixed(1)}" y="${y + 28}" text-anchor="middle">milliseconds since the caller's prompt was received</text>`,
    );
  }
  return parts.join('');
}

/** One chart: calls as groups of turn rows, with an axis above and below. `domain` is shared across a page. */
export function renderWaterfall(groups: WaterfallGroup[], domain: number): string {
  const scale = scaleFor(domain);
  const body: string[] = [];
  let y = AXIS_HEIGHT;
  let row = 0;
  for (const group of groups) {
    body.push(
      `<g class="call-header"><text x="${LABEL_X}" y="${y + 19}"><tspan class="call-title">${escapeXml(group.title)}</tspan>` +
        `<tspan class="call-detail" dx="10">${escapeXml(group.detail)}</tspan></text></g>`,
    );
    y += GROUP_HEIGHT;
    for (const turn of group.turns) {
      body.push(turnRow(turn, y, scale, row % 2 === 0));
      y += rowHeight(turn);
      row += 1;
    }
  }
  const chartBottom = y;
  const height = chartBottom + AXIS_HEIGHT + 12;
  const gridAndTop = axis(scale, 0, true, AXIS_HEIGHT - 6, chartBottom);
  const bottom = axis(scale, chartBottom, false, 0, 0);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="waterfall" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="Per-turn latency waterfall">` +
    gridAndTop +
    body.join('') +
    bottom +
    '</svg>'
  );
}
