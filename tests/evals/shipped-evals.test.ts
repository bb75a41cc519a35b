import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evalCli } from '../../dev/evals/cli.ts';
import { loadEvals, parseEvalFile } from '../../dev/evals/eval-files.ts';
import type { EvalCase } from '../../dev/evals/eval-schema.ts';
import { renderEvalHtml } from '../../dev/evals/report/html.ts';
import { renderJunit } from '../../dev/evals/report/junit.ts';
import type { EvalRun } from '../../dev/evals/run-evals.ts';
import { launchChromium } from '../support/browser.ts';
import { FAST_OFFLINE, ROOT, runLocally } from './support.ts';

/**
 * The shipped evals pass offline, through the real local runtime (signed webhook, WebSocket through the API
 * Gateway stand-in, engine, tools, dynalite), exactly as `npm run eval` runs them on a fresh clone. The same runs,
 * with one more that fails on purpose, feed the reports: JUnit for CI, and the HTML page checked the way a person
 * reads it, in Chromium, with a screenshot.
 */
const FAILING = `name: Mentions a penthouse
description: Fails on purpose, to show a failed check in the report.
callers: [{ id: caller, name: Jane Doe }]
script:
  - say: What apartments do you have?
    expect:
      says: { contains: penthouse }
      judge: { criteria: Names the penthouse. }
`;

let dir: string;
let cases: EvalCase[];
let all: EvalRun[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evals-report-'));
  cases = await loadEvals(ROOT);
  all = await runLocally({ cases: [...cases, parseEvalFile(FAILING, 'failing.yaml', 'apartment-search')], offlineNote: 'offline in this test' });
}, 180_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('shipped evals, offline', () => {
  it('ships at least six apartment evals and three demo-chooser evals, and every one passes', () => {
    const ids = cases.map((c) => c.id);
    for (const id of ['availability', 'booking', 'double-booking', 'pets-policy', 'confirmation-text', 'handoff']) expect(ids).toContain(`apartment-search/${id}`);
    expect(ids.filter((id) => id.startsWith('default/')).length).toBeGreaterThanOrEqual(3);

    const runs = all.filter((r) => r.evalCase.file !== 'failing.yaml');
    expect(runs).toHaveLength(cases.length);
    const failures = runs.filter((r) => r.status !== 'pass').map((r) => ({ id: r.evalCase.id, status: r.status, failed: r.checks.filter((c) => c.status === 'fail') }));
    expect(failures).toEqual([]);
    for (const run of runs) {
      // Every run checked something and has a transcript; offline, only judge checks are skipped.
      expect(run.checks.filter((c) => c.status === 'pass').length).toBeGreaterThan(0);
      expect(run.checks.filter((c) => c.status === 'skip').every((c) => c.what.startsWith('judge:'))).toBe(true);
      expect(run.log!.transcript.some((l) => l.who === 'app')).toBe(true);
    }

    // Cost per call, from what the call used: the usage meter saw the table units and every function the call hit.
    const booking = runs.find((r) => r.evalCase.id === 'apartment-search/booking')!;
    const cost = booking.cost!;
    expect(cost.unpriced).toEqual([]);
    expect(cost.llm.detail).toMatch(/^offline-demo: \d+ in \(0 cached\), \d+ out$/);
    expect(cost.dynamodb.detail).toMatch(/^[\d.]+ read, [\d.]+ write units$/);
    expect(cost.dynamodb.usd).toBeGreaterThan(0);
    for (const fn of ['call-setup', 'connect', 'default', 'disconnect', 'tools-apartment-search']) expect(cost.lambda.detail).toContain(`${fn} `);
    expect(cost.conversationRelay).toEqual({ usd: 0.07, detail: '1 min' });
    // Two callers, two ConversationRelay sessions.
    expect(runs.find((r) => r.evalCase.id === 'apartment-search/double-booking')!.cost!.conversationRelay.detail).toBe('2 min');
  });
});

describe('eval reports', () => {
  it('JUnit: a suite per use case, a test case per run, the failed checks as the failure text', () => {
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(renderJunit(all, 1)) as {
      testsuites: { tests: string; failures: string; testsuite: { name: string; tests: string; failures: string; testcase: { name: string; failure?: { message: string; '#text': string } }[] }[] };
    };
    expect(xml.testsuites).toMatchObject({ tests: String(cases.length + 1), failures: '1' });
    expect(xml.testsuites.testsuite.map((s) => [s.name, s.tests, s.failures])).toEqual([
      ['evals.default', '3', '0'],
      ['evals.apartment-search', String(cases.length - 2), '1'],
    ]);
    const testcases = xml.testsuites.testsuite[1]!.testcase;
    expect(testcases.filter((c) => c.failure).map((c) => [c.name, c.failure!.message])).toEqual([['Mentions a penthouse', '1 check failed']]);
    expect(testcases.find((c) => c.failure)!.failure!['#text']).toMatch(/^step 1 \(line 5\): says "penthouse"\n {2}the agent said: "We have the Studio/);
  });

  it('HTML in Chromium: summary, transcripts with each check marked under its reply, judge notes, latency and cost', { timeout: 60_000 }, async () => {
    const file = join(dir, 'report.html');
    await writeFile(file, renderEvalHtml(all, { generatedAt: '2026-11-30T08:00:00.000Z', target: 'the local app (offline model)', note: 'Offline: judge checks were skipped.', repeat: 1 }));
    const { context, close } = await launchChromium();
    try {
      const page = await context.newPage();
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto(pathToFileURL(file).href);
      expect(await page.title()).toBe('Evals, 2026-11-30 08:00 UTC');
      const summary = await page.locator('table.summary tbody tr').allInnerTexts();
      expect(summary).toHaveLength(cases.length + 1);
      expect(summary).toContainEqual(expect.stringMatching(/^apartment-search\/double-booking\tpass\t1\/1\t\d+ ms\t\$0\.14\d+$/));
      expect(summary).toContainEqual(expect.stringMatching(/^apartment-search\/failing\tfail\t0\/1\t\d+ ms\t\$0\.07\d+$/));
      // The failed run: its check marked in red under the reply it is about, with what the agent said instead.
      const failed = page.locator('section[data-status="fail"]');
      await expect.poll(() => failed.locator('li.fail').innerText()).toMatch(/^says "penthouse" — the agent said: "We have the Studio/);
      expect(await failed.locator('li.fail').evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).color)).toBe('rgb(155, 44, 44)');
      expect(await failed.locator('li.skip').innerText()).toBe('judge: Names the penthouse. (pass at 0.7) — offline in this test');
      expect(await failed.locator('.line.app[data-step] .ms').first().innerText()).toMatch(/^first word \d+ ms$/);
      expect(await failed.locator('table.cost tr').last().innerText()).toMatch(/^Total\t\$0\.07\d+\tprices as of 2026-11-30$/);
      // The barge-in: what the caller heard before cutting in ends with a dash; two callers are told apart.
      expect(await page.locator('#apartment-search-pets-policy-1 .line.app').allInnerTexts()).toContainEqual(expect.stringMatching(/ —\s/));
      expect(await page.locator('#apartment-search-double-booking-1 .line.caller .who').allInnerTexts()).toEqual(['jane', 'sam', 'sam', 'jane']);
      const shot = join(dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect((await stat(shot)).size).toBeGreaterThan(50_000);
      if (process.env.EVAL_REPORT_SCREENSHOT) await page.screenshot({ path: process.env.EVAL_REPORT_SCREENSHOT, fullPage: true });
    } finally {
      await close();
    }
  });

  it('npm run eval -- --junit --html writes both files for the runs it made', { timeout: 60_000 }, async () => {
    const junit = join(dir, 'out.xml');
    const html = join(dir, 'out.html');
    const out: string[] = [];
    const code = await evalCli(['--grep', 'keypad$', '--use-case', 'default', '--junit', junit, '--html', html], {
      rootDir: ROOT,
      env: { ...process.env, ...FAST_OFFLINE, OPENAI_API_KEY: '', OPENAI_BASE_URL: '' },
      out: (l) => out.push(l),
      err: (l) => out.push(l),
    });
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/^ {2}✓ default\/keypad {2}[\d.]+ s {2}\d+ checks {2}\$0\.07\d+$/m);
    expect(await readFile(junit, 'utf8')).toContain('<testcase classname="evals.default" name="Chooses the apartment demo from the keypad"');
    expect(await readFile(html, 'utf8')).toContain('Offline: judge checks and simulated callers were skipped');
  });
});
