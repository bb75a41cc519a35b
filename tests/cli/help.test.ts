import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { npmEntryCommands } from '../support/entry-bundles.ts';
import { ROOT, runEntry } from '../support/run-entry.ts';

/** Every npm script a person types answers --help with its usage and exit code 0, and does nothing else. */
const commands = npmEntryCommands(ROOT);

describe('--help on every command', () => {
  it('covers every command of package.json that runs an entry point', () => {
    expect(commands.map((c) => c.name).sort()).toEqual(
      ['bench', 'build', 'call', 'deploy', 'destroy', 'eval', 'latency', 'new-use-case', 'offline-llm', 'scaling', 'start', 'test:soak', 'use-cases:check', 'use-cases:load'].sort(),
    );
  });

  it('prints usage and exits 0 for each', async () => {
    // In a scratch environment: nothing may be started, written or dialled by --help.
    const env = { ...process.env, PORT: '1', DATA_DIR: join(ROOT, 'does-not-exist-help-test') };
    // Each command as its own process, with the arguments its npm script passes (one bundle per entry point).
    const results = await Promise.all(commands.map(async ({ name, entry, args }) => ({ name, ...(await runEntry(entry, [...args, '--help'], { env })) })));
    for (const r of results) {
      expect({ name: r.name, code: r.code, stderr: r.stderr }).toMatchObject({ name: r.name, code: 0 });
      expect(r.stdout, r.name).toMatch(/usage:/i);
    }
  }, 120_000);
});
