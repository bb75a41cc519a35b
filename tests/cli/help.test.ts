import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/** Every npm script a person types answers --help with its usage and exit code 0, and does nothing else. */
const ROOT = join(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The commands that run one of our TypeScript entry points (not the test and typecheck wrappers). */
const commands = Object.entries(scripts)
  .filter(([, line]) => line.startsWith('tsx '))
  .map(([name, line]) => ({ name, argv: line.split(' ').slice(1) }));

describe('--help on every command', () => {
  it('covers every command of package.json that runs an entry point', () => {
    expect(commands.map((c) => c.name).sort()).toEqual(
      ['bench', 'build', 'call', 'deploy', 'destroy', 'eval', 'latency', 'new-use-case', 'offline-llm', 'scaling', 'start', 'test:soak', 'use-cases:check', 'use-cases:load'].sort(),
    );
  });

  it('prints usage and exits 0 for each', async () => {
    const run = promisify(execFile);
    // In a scratch environment: nothing may be started, written or dialled by --help.
    const env = { ...process.env, PORT: '1', DATA_DIR: join(ROOT, 'does-not-exist-help-test') };
    const results = await Promise.all(
      commands.map(async ({ name, argv }) => {
        const out = await run(TSX, [...argv, '--help'], { cwd: ROOT, env, timeout: 60_000 }).catch((err: { code: number; stdout: string; stderr: string }) => err);
        return { name, code: 'code' in out ? out.code : 0, stdout: out.stdout, stderr: out.stderr };
      }),
    );
    for (const r of results) {
      expect({ name: r.name, code: r.code, stderr: r.stderr }).toMatchObject({ name: r.name, code: 0 });
      expect(r.stdout, r.name).toMatch(/usage:/i);
    }
  }, 120_000);
});
