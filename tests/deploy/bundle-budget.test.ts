import { describe, expect, it } from 'vitest';
import { serverlessFunctions } from '../../scripts/lib/stacks.ts';
import { builtFunction, repoStacks } from './support.ts';

/**
 * The functions on a caller's path import what their bundles hold on every cold start (`npm run bench --
 * --imports-only` times it). A size is deterministic where a time is not, so the suite guards the size: a budget
 * per hot bundle, and no classic zod (its namespace alone is ~440 KiB) where zod/mini does the validating.
 * Schemas are built when their module is imported: a function bundles only the modules whose schemas it uses.
 */
const BUDGETS: { stack: string; functionId: string; maxKiB: number; classicZod: 'none' | 'fromJSONSchema only'; without?: string[] }[] = [
  { stack: '02_cr-application', functionId: 'DefaultFunction', maxKiB: 960, classicZod: 'fromJSONSchema only' },
  // $connect sends no frame: the protocol schemas (every ConversationRelay message) are $default's.
  { stack: '02_cr-application', functionId: 'ConnectFunction', maxKiB: 515, classicZod: 'none', without: ['layers/protocol/conversation-relay.ts'] },
  // The SQS client (SendMessageCommand alone, about 26 KiB): a dropped call's grace check goes on the call-timer queue.
  { stack: '02_cr-application', functionId: 'DisconnectFunction', maxKiB: 450, classicZod: 'none' },
  { stack: '03_twiml-api', functionId: 'CallSetupFunction', maxKiB: 500, classicZod: 'none' },
  // The Lambda client (InvokeCommand alone, about 100 KiB): a live-agent handoff hands the agent's text off asynchronously.
  { stack: '03_twiml-api', functionId: 'ConnectActionFunction', maxKiB: 580, classicZod: 'none' },
];

describe('hot bundles stay small', () => {
  for (const budget of BUDGETS) {
    it(`${budget.stack}/${budget.functionId}: at most ${budget.maxKiB} KiB, classic zod: ${budget.classicZod}`, async () => {
      const stack = repoStacks().stacks.find((s) => s.folder === budget.stack)!;
      const fn = serverlessFunctions(stack).find((f) => f.functionId === budget.functionId)!;
      const built = await builtFunction(fn);
      const entry = Object.values(built.metafile.outputs).find((o) => o.entryPoint)!;
      expect(entry.bytes / 1024).toBeLessThanOrEqual(budget.maxKiB);
      const classic = Object.entries(entry.inputs)
        .filter(([path, info]) => /node_modules\/zod\/v4\/classic\//.test(path) && info.bytesInOutput > 0)
        .map(([path]) => path.replace(/.*node_modules\/zod\/v4\/classic\//, ''));
      for (const module of budget.without ?? []) expect(Object.keys(entry.inputs).filter((path) => path.endsWith(module))).toEqual([]);
      if (budget.classicZod === 'none') expect(classic).toEqual([]);
      // fromJSONSchema builds classic schemas (the engine compiles tool schemas with it), but never the `z` namespace.
      else expect(classic).not.toContain('external.js');
    }, 120_000);
  }
});
