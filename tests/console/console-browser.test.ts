import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../dev/local/runtime.ts';
import { getSession, loadConversation } from '../../layers/data/sessions.ts';
import { listTurnRecords } from '../../layers/data/turns.ts';
import { ROOT, startTestRuntime, TEST_TOKEN } from '../runtime/support.ts';
import { HAVE_CHROMIUM, launchChromium, NO_CHROMIUM_REASON } from '../support/browser.ts';

/**
 * The web console end to end in a real headless Chromium: the page places a call through the runtime's signed
 * webhook and WebSocket, streams a reply, barges in, presses a key, and shows the transcript (tool calls included)
 * and the waterfall. Speech runs at 2 words a minute, so the app is reliably still talking when the test cuts in,
 * whatever the machine's load; the test waits on what the page shows, never on time.
 * CONSOLE_SCREENSHOT=docs/console.png also writes the README's picture.
 */
if (!HAVE_CHROMIUM) console.warn(`Skipping the web console browser test: ${NO_CHROMIUM_REASON}`);

/** Distinct colours and the share of non-white pixels of a PNG, decoded by the browser itself (page code as text: no DOM types here). */
const PIXEL_STATS = `async (b64) => {
  const img = new Image();
  img.src = 'data:image/png;base64,' + b64;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.width;
  canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height).data;
  const colours = new Set();
  let inked = 0;
  for (let i = 0; i < data.length; i += 4) {
    colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
    if (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240) inked++;
  }
  return { width: img.width, height: img.height, colours: colours.size, inked: inked / (data.length / 4) };
}`;

async function pixelStats(page: Page, png: Buffer): Promise<{ width: number; height: number; colours: number; inked: number }> {
  return page.evaluate(`(${PIXEL_STATS})(${JSON.stringify(png.toString('base64'))})`);
}

describe.skipIf(!HAVE_CHROMIUM)('web console in Chromium', () => {
  let runtime: LocalRuntime;

  /** Until the app has recorded the caller's interruption of this turn (what a real caller's pause gives it). */
  async function heardRecorded(sessionId: string, turn: number): Promise<void> {
    await expect.poll(async () => (await getSession(runtime.table, sessionId))?.ledger.turns[String(turn)]?.heard, { timeout: 60_000 }).toBeDefined();
  }
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    runtime = await startTestRuntime({}, { console: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  it('places a call, streams the reply, barges in, presses a key, and shows transcript, tools and waterfall', async () => {
    const page = await browser.context.newPage();
    // A shared 2-core machine can be slow; every wait below is for something the page shows, never for time.
    page.setDefaultTimeout(60_000);
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    await page.goto(`${runtime.consoleUrl}?wpm=2`);
    await page.waitForSelector('body[data-state="idle"]');

    await page.fill('#from', '+14065550777');
    await page.click('#call');
    await page.waitForSelector('body[data-state="in-call"]');
    const sessionId = (await page.locator('#status').textContent())?.match(/session (\S+)\)/)?.[1] ?? '';
    expect(sessionId).not.toBe('');

    // 1. A reply streams in whole while it is being spoken, a word at a time.
    await page.fill('#say', 'Hi, my name is Jane Doe');
    await page.press('#say', 'Enter');
    const first = page.locator('.entry.app[data-received-all]').first();
    await first.waitFor();
    expect(await first.getAttribute('data-received')).toMatch(/Nice to meet you, Jane\..*Apartment search demo/s);
    await page.waitForSelector('body[data-speaking="true"] .entry.app[data-heard]');

    // 2. Typing while the app talks cuts in: the first key sends the interrupt with the words heard so far, as
    // ConversationRelay does when a caller starts to speak; the prompt follows once the utterance is complete.
    await page.type('#say', 'w');
    await page.waitForSelector('.entry.app[data-interrupted="true"]');
    expect(await page.locator('.entry.app[data-interrupted="true"]').first().getAttribute('data-heard')).toBe('Nice');
    await heardRecorded(sessionId, 1);
    await page.type('#say', 'hat demos do you have');
    await page.press('#say', 'Enter');
    await expect.poll(() => page.locator('.entry.app[data-received-all]').count(), { timeout: 60_000 }).toBe(2);
    await page.waitForSelector('body[data-speaking="true"]');

    // 3. A keypad key (the demo chooser's 1 picks the apartment demo, through its choose_demo tool), after the
    // caller has cut the second reply short.
    await page.type('#say', 'o');
    await heardRecorded(sessionId, 2);
    await page.fill('#say', '');
    await page.click('#keypad button[data-key="1"]');
    await expect.poll(() => page.locator('.entry.app[data-received-all]').count(), { timeout: 60_000 }).toBe(3);
    await expect.poll(() => page.locator('.entry.app[data-received-all]').nth(2).getAttribute('data-received'), { timeout: 30_000 }).toMatch(/apartment search demo.*saved for you/is);

    // 4. The transcript shows the tools the app called and what they answered; the waterfall has a row per turn.
    await expect.poll(() => page.locator('.entry.tool-call').allTextContents(), { timeout: 60_000 }).toEqual(
      expect.arrayContaining([expect.stringContaining('save_caller_name'), expect.stringContaining('list_demos'), expect.stringContaining('choose_demo')]),
    );
    expect(await page.locator('.entry.tool-result').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('.entry.keypad').textContent()).toContain('1');
    await expect.poll(() => page.locator('#waterfall g.turn-row').count(), { timeout: 60_000 }).toBe(3);
    expect(await page.locator('#waterfall g.turn-row[data-turn="3"] text.turn-label').textContent()).toBe('turn 3 keypad');
    expect(await page.locator('#waterfall rect.phase').count()).toBeGreaterThan(6);
    expect(await page.locator('#turn-lines li').count()).toBe(3);

    // The page did what Twilio would: the app stored the interruption and three turn records for this call.
    const { messages } = await loadConversation(runtime.table, sessionId);
    // Each cut reply is stored as interrupted, and what the app keeps of it begins with the words the page heard.
    for (const [turn, heard] of [[1, 'Nice'], [2, 'You']] as const) {
      const replies = messages.filter((m) => m.role === 'assistant' && m.turn === turn);
      expect(replies.at(-1)?.interrupted, `turn ${turn}`).toBe(true);
      expect(replies.map((m) => m.content ?? '').join(' ').trim().startsWith(heard), `turn ${turn}`).toBe(true);
    }
    expect((await listTurnRecords(runtime.table, sessionId)).map((r) => r.kind)).toEqual(['prompt', 'prompt', 'dtmf']);

    // 5. Hang up; the call is in the list of recent calls and opens again from it.
    await page.click('#hangup');
    await page.waitForSelector('body[data-state="idle"]');
    await page.waitForSelector(`#calls button[data-session="${sessionId}"]`);

    // 6. Screenshot: the whole console, and a waterfall with real ink in it.
    const shot = join(tmpdir(), `console-${process.pid}.png`);
    const png = await page.screenshot({ path: shot });
    const waterfall = await page.locator('#waterfall').screenshot();
    const checker = await browser.context.newPage();
    const full = await pixelStats(checker, png);
    expect({ width: full.width, height: full.height }).toEqual({ width: 1440, height: 900 });
    const chart = await pixelStats(checker, waterfall);
    expect(chart.colours).toBeGreaterThan(8);
    expect(chart.inked).toBeGreaterThan(0.02);
    if (process.env.CONSOLE_SCREENSHOT) {
      const target = resolve(ROOT, process.env.CONSOLE_SCREENSHOT);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, png);
    }
    expect(problems).toEqual([]);
    // The page never sees the auth token.
    expect(await page.content()).not.toContain(TEST_TOKEN);
  }, 240_000);
});
