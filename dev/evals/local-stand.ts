import { startLocalRuntime, type LocalRuntime } from '../local/runtime.ts';
import { readSettings } from '../local/settings.ts';
import { createUsageMeter, type UsageMeter } from '../local/usage-meter.ts';
import type { Stand } from './run-evals.ts';
import { snapshotTable, type TableSnapshot } from './table-snapshot.ts';

/** The number the eval callers dial (any number: the webhook answers every one). */
export const DIALED_NUMBER = '+14065550199';

/** Stands handed out one eval at a time; `close` stops those not in use. */
export interface StandPool {
  open(): Promise<Stand>;
  close(): Promise<void>;
}

/**
 * The app as `npm start` runs it (same handlers, gateway, tools and LLM choice), on free ports with its table in
 * memory, the use cases loaded and nobody's bookings in it; one per eval running at a time.
 *
 * Local stands serve one eval after another: when an eval is done with its stand, the stand waits for its
 * handlers to finish and puts its table back as the use cases loaded it (every item the eval wrote deleted, every
 * item it changed restored), so the next eval starts exactly where a fresh stand would, without starting the app
 * and loading the use cases again (most of a stand's cost). Evals running at the same time never share a stand.
 * A stand whose table cannot be restored is stopped instead.
 */
export function localStandPool(rootDir: string, env: NodeJS.ProcessEnv = process.env): StandPool {
  const idle: Stand[] = [];
  let closed = false;
  const start = async (): Promise<Stand> => {
    const { runtime, meter, authToken } = await startStandRuntime(rootDir, env);
    let snapshot: TableSnapshot;
    try {
      snapshot = await snapshotTable(runtime.table);
    } catch (err) {
      await runtime.stop();
      throw err;
    }
    const stand: Stand = standOf(runtime, meter, authToken, async () => {
      if (closed) return runtime.stop();
      try {
        await runtime.settled();
        await snapshot.restore();
      } catch {
        // The eval's result stands; only the stand is not fit for another one. The next eval gets a new stand.
        return runtime.stop();
      }
      idle.push(stand);
    });
    return stand;
  };
  return {
    open: async () => idle.pop() ?? start(),
    async close() {
      closed = true;
      // Usage meters are kept with their stands: each call's cost is keyed by its own session and CallSid.
      await Promise.all(idle.splice(0).map((stand) => stand.stop()));
    },
  };
}

async function startStandRuntime(rootDir: string, env: NodeJS.ProcessEnv): Promise<{ runtime: LocalRuntime; meter: UsageMeter; authToken: string }> {
  const settings = readSettings({ ...env, PORT: '0' }, rootDir);
  const meter = createUsageMeter();
  const runtime = await startLocalRuntime({ settings, rootDir, ephemeral: true, usageMeter: meter });
  return { runtime, meter, authToken: settings.TWILIO_AUTH_TOKEN };
}

function standOf(runtime: LocalRuntime, meter: UsageMeter, authToken: string, stop: () => Promise<void>): Stand {
  return {
    dialer: { webhookUrl: runtime.webhookUrl, authToken, to: DIALED_NUMBER },
    table: runtime.table,
    meter,
    defaultModel: runtime.llm.model,
    settled: () => runtime.settled(),
    stop,
  };
}
