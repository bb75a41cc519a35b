import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evalCli } from '../../dev/evals/cli.ts';
import { loadEvals, parseEvalFile } from '../../dev/evals/eval-files.ts';
import { renderEvalHtml } from '../../dev/evals/report/html.ts';
import { renderJunit } from '../../dev/evals/report/junit.ts';
import type { EvalRun } from '../../dev/evals/run-evals.ts';
import { launchChromium } from './browser.ts';
import { FAST_OFFLINE, ROOT, runLocally } from './support.ts';

/**
 * The reports of real runs (two shipped evals and one that fails on purpose): JUnit for CI, and the HTML page
 * checked the way a person reads it, in Chromium, with a screenshot.
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
let runs: EvalRun[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evals-report-'));
  const shipped = (await loadEvals(ROOT)).filter((c) => ['apartment-search/pets-policy', 'apartment-search/double-booking'].includes(c.id));
  runs = await runLocally({ cases: [...shipped, parseEvalFile(FAILING, 'failing.yaml', 'apartment-search')], offlineNote: 'offline in this test' });
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('eval reports', () => {
  it('JUnit: a suite per use case, a test case per run, the failed checks as the failure text', () => {
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(renderJunit(runs, 1)) as {
      testsuites: { tests: string; failures: string; testsuite: { name: string; testcase: { name: string; failure?: { message: string; '#text': string } }[] } };
    };
    expect(xml.testsuites).toMatchObject({ tests: '3', failures: '1' });
    const cases = xml.testsuites.testsuite.testcase;
    expect(xml.testsuites.testsuite.name).toBe('evals.apartment-search');
    expect(cases.map((c) => [c.name, c.failure?.message ?? 'passed'])).toEqual([
      ['Refuses a time another caller just booked', 'passed'],
      ['Answers the pets policy from the data, and parking when cut in on', 'passed'],
      ['Mentions a penthouse', '1 check failed'],
    ]);
    expect(cases[2]!.failure!['#text']).toMatch(/^step 1 \(line 5\): says "penthouse"\n {2}the agent said: "We have the Studio/);
  });

  it('HTML in Chromium: summary, transcripts with each check marked under its reply, judge notes, latency and cost', { timeout: 60_000 }, async () => {
    const file = join(dir, 'report.html');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, renderEvalHtml(runs, { generatedAt: '2026-11-30T08:00:00.000Z', target: 'the local app (offline model)', note: 'Offline: judge checks were skipped.', repeat: 1 }));
    const { context, close } = await launchChromium();
    try {
      const page = await context.newPage();
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto(pathToFileURL(file).href);
      expect(await page.title()).toBe('Evals, 2026-11-30 08:00 UTC');
      expect(await page.locator('table.summary tbody tr').allInnerTexts()).toEqual([
        expect.stringMatching(/^apartment-search\/double-booking\tpass\t1\/1\t\d+ ms\t\$0\.14\d+$/),
        expect.stringMatching(/^apartment-search\/pets-policy\tpass\t1\/1\t\d+ ms\t\$0\.07\d+$/),
        expect.stringMatching(/^apartment-search\/failing\tfail\t0\/1\t\d+ ms\t\$0\.07\d+$/),
      ]);
      // The failed run: its check marked in red under the reply it is about, with what the agent said instead.
      const failed = page.locator('section[data-status="fail"]');
      await expect.poll(() => failed.locator('li.fail').innerText()).toMatch(/^says "penthouse" — the agent said: "We have the Studio/);
      expect(await failed.locator('li.fail').evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).color)).toBe('rgb(155, 44, 44)');
      expect(await failed.locator('li.skip').innerText()).toBe('judge: Names the penthouse. (pass at 0.7) — offline in this test');
      expect(await failed.locator('.line.app[data-step] .ms').first().innerText()).toMatch(/^first word \d+ ms$/);
      expect(await failed.locator('table.cost tr').last().innerText()).toMatch(/^Total\t\$0\.07\d+\tprices as of 2026-11-30$/);
      // The barge-in: what the caller heard before cutting in ends with a dash; two callers are told apart.
      expect(await page.locator('section[data-status="pass"]').nth(1).locator('.line.app').allInnerTexts()).toContainEqual(expect.stringMatching(/ —\s/));
      expect(await page.locator('section').first().locator('.line.caller .who').allInnerTexts()).toEqual(['jane', 'sam', 'sam', 'jane']);
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
