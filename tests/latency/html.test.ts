import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../scripts/latency/html-page.ts';
import { buildReport, type CallTurns, type LatencyReport } from '../../scripts/latency/report.ts';
import type { TurnRecord } from '../../layers/data/turns.ts';
import { OURS, type PhaseId } from '../../scripts/latency/phases.ts';
import { loadCalls } from '../../scripts/latency/turn-source.ts';
import { axisDomain, axisTicks, niceStep } from '../../scripts/latency/waterfall.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import { seedCalls } from './fixtures.ts';

const NOW = Date.UTC(2025, 10, 25, 12, 0, 0);

/** Every element named `name` anywhere under `node` (fast-xml-parser's preserveOrder tree). */
function findAll(node: unknown, name: string, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(node)) for (const child of node) findAll(child, name, out);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === name) out.push(node as Record<string, unknown>);
      if (key !== ':@') findAll(value, name, out);
    }
  }
  return out;
}

const attrs = (el: Record<string, unknown>) => (el[':@'] ?? {}) as Record<string, string>;

function parse(html: string) {
  return new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '' }).parse(html) as unknown;
}

describe('HTML latency page', () => {
  let table: TestTable;
  let report: LatencyReport;
  beforeAll(async () => {
    table = await createTestTable();
    await seedCalls(table, NOW);
    report = buildReport(await loadCalls(table, { calls: 20, days: 2, now: NOW }), { source: 'local table t', selection: 'the last 20 calls', now: NOW });
  });
  afterAll(async () => {
    await table.drop();
  });

  it('is well-formed and self-contained', () => {
    const html = renderHtml(report);
    expect(XMLValidator.validate(html)).toBe(true);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    const tree = parse(html);
    expect(findAll(tree, 'script')).toHaveLength(0);
    expect(findAll(tree, 'link')).toHaveLength(0);
    expect(findAll(tree, 'img')).toHaveLength(0);
    expect(html).not.toMatch(/\s(src|href)=|@import|url\(|@font-face/);
    // The only address in the page is the SVG namespace, which is a name, not a fetch.
    expect(html.match(/https?:\/\/[^"'\s<]+/g)).toEqual(expect.arrayContaining(['http://www.w3.org/2000/svg']));
    expect(new Set(html.match(/https?:\/\/[^"'\s<]+/g))).toEqual(new Set(['http://www.w3.org/2000/svg']));
  });

  it('draws one waterfall row per turn, grouped per use case and call', () => {
    const tree = parse(renderHtml(report));
    const rows = findAll(tree, 'g').filter((g) => attrs(g).class === 'turn-row');
    expect(rows).toHaveLength(report.turns.length);
    expect(rows.map((g) => `${attrs(g)['data-session']}#${attrs(g)['data-turn']}`).sort()).toEqual(
      report.turns.map((t) => `${t.sessionId}#${t.turn}`).sort(),
    );
    const sections = findAll(tree, 'section').map((s) => attrs(s)['data-use-case']);
    expect(sections).toEqual(['apartment-search', 'default']);
    expect(findAll(tree, 'svg')).toHaveLength(2);
  });

  it('shows the summary numbers, tools as bars, the interruption and a legend with axis labels', () => {
    const html = renderHtml(report);
    // default's time to first word: p50 410, p95 530 (see fixtures).
    expect(html).toMatch(/<tr class="feel" data-row="firstWord"><td>time to first word<\/td><td class="num">3<\/td><td class="num">410 ms<\/td><td class="num">530 ms<\/td>/);
    expect(html).toContain('<title>tool search_apartments 350 ms</title>');
    expect(html).toContain('<title>tool search_apartments 1 s (timed out)</title>');
    expect(html).toContain('caller interrupted at 800 ms');
    expect(html).toContain('no reply (failed: LLM returned 500)');
    expect(html).toContain('class="legend"');
    expect(html).toContain("milliseconds since the caller's prompt was received");
    expect(html).toMatch(/class="tick"[^>]*>400 ms</);
    expect(html).toContain('>ms since prompt received<');
  });

  it('escapes what it did not write itself', () => {
    const hostile: CallTurns = {
      sessionId: 's"<x>',
      callSid: 'CA<script>alert(1)</script>',
      useCaseId: 'use&case',
      turns: [
        {
          sessionId: 's"<x>', turn: 1, useCaseId: 'a<b', callSid: 'CA1', kind: 'prompt', promptReceivedAt: 0, llmRequestSentAt: 5,
          outcome: 'failed', error: '</text><script>boom()</script>', tools: [{ name: '<img src=x>', startedAt: 6, durationMs: 10, ok: true }],
        },
      ],
    };
    const html = renderHtml(buildReport([hostile], { source: 'x', selection: 'y', now: NOW }));
    expect(XMLValidator.validate(html)).toBe(true);
    expect(findAll(parse(html), 'script')).toHaveLength(0);
    expect(html).toContain('&lt;img src=x&gt;');
  });

  it('says plainly when there is nothing to draw', () => {
    const html = renderHtml(buildReport([], { source: 'x', selection: 'y', now: NOW }));
    expect(XMLValidator.validate(html)).toBe(true);
    expect(html).toContain('No turn records found');
    expect(findAll(parse(html), 'svg')).toHaveLength(0);
  });

  it('scales the shared axis to the turns, following the bulk when one outlier would squash the rest', () => {
    expect(niceStep(1300, 8)).toBe(200);
    expect(axisTicks(1000)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(axisTicks(3500)).toEqual([0, 500, 1000, 1500, 2000, 2500, 3000, 3500]);
    // The fixtures' longest turn is 1504 ms after its prompt.
    expect(axisDomain(report.turns)).toBe(1600);
    const base = report.turns.find((t) => t.turn === 1 && t.useCaseId === 'default')!;
    const shifted = (ms: number) => ({ ...base, record: { ...base.record, lastTokenPostedAt: base.record.promptReceivedAt + ms } });
    const bulk = [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 20_000].map(shifted);
    expect(axisDomain(bulk)).toBeLessThan(2_000);
    expect(axisDomain(bulk.slice(0, 9))).toBe(1000);
  });

  describe('the waterfall agrees with the table', () => {
    const at = 1_000_000;
    // A tool turn: the LLM asks for a tool at 90 ms, the tool runs 100-400 ms, the next round's text comes at 640 ms.
    const toolTurn: TurnRecord = {
      sessionId: 'w', turn: 1, useCaseId: 'tools', callSid: 'CAw', kind: 'prompt', outcome: 'completed', promptReceivedAt: at,
      llmRequestSentAt: at + 5, llmFirstTokenAt: at + 90, llmFirstTextAt: at + 640, firstTokenPostedAt: at + 643, llmLastTokenAt: at + 1_100, lastTokenPostedAt: at + 1_102,
      tools: [{ name: 'search_apartments', startedAt: at + 100, durationMs: 300, ok: true }],
    };
    // A keypad turn: its line is posted at 8 ms, before the LLM request (once drawn as a negative posting phase).
    const keypadTurn: TurnRecord = {
      sessionId: 'w', turn: 2, useCaseId: 'keypad', callSid: 'CAw', kind: 'dtmf', outcome: 'completed', promptReceivedAt: at + 5_000,
      llmRequestSentAt: at + 5_030, llmFirstTokenAt: at + 5_300, llmFirstTextAt: at + 5_300, firstTokenPostedAt: at + 5_008, llmLastTokenAt: at + 5_900, lastTokenPostedAt: at + 5_903,
    };
    const html = renderHtml(buildReport([{ sessionId: 'w', callSid: 'CAw', useCaseId: 'tools', turns: [toolTurn, keypadTurn] }], { source: 'x', selection: 'y', now: NOW }));
    const tree = parse(html);
    const rowOf = (turn: number) => findAll(tree, 'g').find((g) => attrs(g).class === 'turn-row' && attrs(g)['data-turn'] === String(turn))!;
    /** The bars of a turn row: phase id, duration and x extent. */
    const bars = (turn: number) =>
      findAll(rowOf(turn), 'rect')
        .map(attrs)
        .filter((a) => a.class === 'phase')
        .map((a) => ({ phase: a['data-phase'] as PhaseId, ms: Number(a['data-ms']), x: Number(a.x), width: Number(a.width) }));
    /** The table's p50 for a phase in the section of a use case (one turn each, so p50 is that turn's value). */
    const tableMs = (useCase: string, phase: string) => {
      const section = html.slice(html.indexOf(`data-use-case="${useCase}"`));
      const match = new RegExp(`data-row="${phase}"><td>[^]*?</td><td class="num">(\\d+)</td><td class="num">([^<]+)</td>`).exec(section);
      return match && match[1] !== '0' ? Number.parseFloat(match[2]!) : undefined;
    };

    it('draws every phase of the tool turn with the duration the table gives, tools and the next LLM round apart from posting', () => {
      const drawn = bars(1);
      expect(drawn.map((b) => b.phase)).toEqual(['preLlm', 'llmFirstToken', 'toolRounds', 'postOverhead', 'streaming', 'tailLag']);
      for (const bar of drawn) expect(tableMs('tools', bar.phase)).toBe(bar.ms);
      expect(drawn.find((b) => b.phase === 'postOverhead')!.ms).toBe(3);
      // Consecutive: each bar starts where the one before ended.
      for (let i = 1; i < drawn.length; i++) expect(drawn[i]!.x).toBeCloseTo(drawn[i - 1]!.x + drawn[i - 1]!.width, 0);
      // Nothing drawn as ours overlaps the tool's lane or the LLM round after it.
      const tool = findAll(rowOf(1), 'rect').map(attrs).find((a) => a['data-lane'] === 'tool')!;
      const after = findAll(rowOf(1), 'rect').map(attrs).find((a) => a['data-lane'] === 'llmAfterTools')!;
      for (const lane of [tool, after]) {
        const [from, to] = [Number(lane.x), Number(lane.x) + Number(lane.width)];
        for (const bar of drawn.filter((b) => OURS.has(b.phase))) expect(bar.x + bar.width <= from + 0.2 || bar.x >= to - 0.2).toBe(true);
      }
      expect(tool['data-ms']).toBe('300');
      expect(tableMs('tools', 'tool:search_apartments')).toBe(300);
      expect(tableMs('tools', 'llmAfterTools')).toBe(240);
    });

    it('draws the keypad turn with no negative and no posting bar, matching the table', () => {
      const drawn = bars(2);
      expect(drawn.map((b) => [b.phase, b.ms])).toEqual([['preLlm', 8], ['streaming', 892], ['tailLag', 3]]);
      for (const bar of drawn) expect(tableMs('keypad', bar.phase)).toBe(bar.ms);
      expect(tableMs('keypad', 'postOverhead')).toBeUndefined();
      expect(tableMs('keypad', 'firstWord')).toBe(8);
      for (const bar of drawn) expect(bar.width).toBeGreaterThan(0);
    });
  });
});
