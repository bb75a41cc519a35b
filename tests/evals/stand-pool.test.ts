import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { loadEvals } from '../../dev/evals/eval-files.ts';
import { localStandPool } from '../../dev/evals/local-stand.ts';
import { runEvals } from '../../dev/evals/run-evals.ts';
import type { Table } from '../../layers/data/table.ts';
import { functionSizes } from '../../scripts/lib/function-sizes.ts';
import { loadPrices } from '../../scripts/lib/prices.ts';
import { FAST_OFFLINE, ROOT } from './support.ts';

/**
 * One local stand serves eval after eval, each from the table as the use cases loaded it: the second booking of
 * the same tour finds the slot the first one booked open again, and afterwards the table holds exactly what it
 * held before the first call (no booking, profile, session or chat history left).
 */
const items = async (table: Table) =>
  ((await table.doc.send(new ScanCommand({ TableName: table.name, ConsistentRead: true }))).Items ?? []).sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));

describe('local stand pool', () => {
  it('a stand used by one eval is handed to the next with its table as loaded', { timeout: 60_000 }, async ({ onTestFinished }) => {
    const pool = localStandPool(ROOT, FAST_OFFLINE);
    onTestFinished(() => pool.close());
    const stand = await pool.open();
    const loaded = await items(stand.table!);
    expect(loaded.filter((i) => String(i.sk).startsWith('slot#')).length).toBeGreaterThan(0);
    expect(loaded.filter((i) => i.status === 'booked')).toEqual([]);
    await stand.stop();

    const booking = (await loadEvals(ROOT)).filter((c) => c.id === 'apartment-search/booking');
    const used: string[] = [];
    const runs = await runEvals({
      cases: booking,
      repeat: 2,
      concurrency: 1,
      openStand: async () => {
        const next = await pool.open();
        used.push(next.dialer.webhookUrl);
        return next;
      },
      prices: loadPrices(ROOT),
      sizes: functionSizes(ROOT),
    });
    expect(runs.map((r) => r.status)).toEqual(['pass', 'pass']);
    expect(used).toEqual([stand.dialer.webhookUrl, stand.dialer.webhookUrl]);
    // Two different callers, the same slot offered and booked: the first booking was gone when the second call came.
    const [first, second] = runs.map((r) => r.log!);
    expect(second!.legs[0]!.from).not.toBe(first!.legs[0]!.from);
    expect(second!.turns.map((t) => t.reply)).toEqual(first!.turns.map((t) => t.reply));
    expect(first!.turns[1]!.reply).toMatch(/booked/);

    const again = await pool.open();
    expect(again.dialer.webhookUrl).toBe(stand.dialer.webhookUrl);
    expect(await items(again.table!)).toEqual(loaded);
    await again.stop();
  });
});
