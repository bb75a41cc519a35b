import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataDirError, lockDataDir } from '../../dev/local/data-dir.ts';
import { loadUseCases } from '../../scripts/load-use-cases.ts';
import { describePlan, planFor, readProfile } from '../../scripts/lib/deploy-plan.ts';
import { loadStacks } from '../../scripts/lib/stacks.ts';
import { discoverUseCases } from '../../scripts/lib/use-case-folders.ts';

/**
 * The author's path, on a copy of this repository: `npm run new-use-case`, then `use-cases:check`, the generated
 * tests and the generated demo call (through the shared runtime test, which finds it on its own), and the deploy
 * plan. Nothing outside the new folder is touched. Runs the real commands, as an author would.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const tsx = (root: string) => join(root, 'node_modules', '.bin', 'tsx');

let copy: string;
let releaseCopy: () => Promise<void> = async () => undefined;
let before: Map<string, string>;
let printed: string;

/** Every file under `dir` with a hash of its content, except the installed packages. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (!entry.isFile() || relative(dir, path).startsWith('node_modules')) continue;
    files.set(relative(dir, path), createHash('sha256').update(await readFile(path)).digest('hex'));
  }
  return files;
}

/**
 * Where the copy goes: one fixed folder per checkout, so the nested vitest run (and this file's import of the copy's
 * use cases) finds the modules transformed on the previous run in vitest's module cache (keyed by each file's path
 * and content; a fresh temporary folder missed it every time, transformed everything again and left hundreds of
 * entries no run could reuse). The folder is held with the same lock as `npm start`'s data folder (a lock left by
 * a killed run is taken over): a second suite of the same checkout running at the same time gets a temporary
 * folder of its own instead.
 */
async function claimCopyFolder(): Promise<{ dir: string; release: () => Promise<void> }> {
  const dir = join(tmpdir(), `cr-new-use-case-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}`);
  const lockDir = `${dir}.lock`;
  await mkdir(lockDir, { recursive: true });
  const lock = await lockDataDir(lockDir, 'the new-use-case test').catch((err: unknown) => {
    if (err instanceof DataDirError) return undefined;
    throw err;
  });
  if (!lock) {
    const temporary = await mkdtemp(join(tmpdir(), 'new-use-case-'));
    return { dir: temporary, release: () => rm(temporary, { recursive: true, force: true }) };
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
  return {
    dir,
    release: async () => {
      await rm(dir, { recursive: true, force: true });
      await lock.release();
    },
  };
}

beforeAll(async () => {
  ({ dir: copy, release: releaseCopy } = await claimCopyFolder());
  const skip = new Set(['node_modules', '.git', '.data', '.soak']);
  await cp(ROOT, copy, { recursive: true, filter: (src) => !skip.has(relative(ROOT, src).split('/')[0]!) });
  await symlink(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  before = await snapshot(copy);
  printed = (await run(tsx(copy), ['scripts/new-use-case.ts', 'pizza', "Tony's Pizza"], { cwd: copy })).stdout;
}, 60_000);

afterAll(async () => {
  await releaseCopy();
});

describe('npm run new-use-case pizza "Tony\'s Pizza"', () => {
  const folder = () => /Created (\S+)\/:/.exec(printed)?.[1] ?? '';

  it('writes one new folder and touches nothing else, then prints the next commands', async () => {
    expect(folder()).toMatch(/^0\d_use-case-pizza$/);
    const after = await snapshot(copy);
    const changed = [...after].filter(([file, hash]) => before.get(file) !== hash).map(([file]) => file);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.filter((file) => !file.startsWith(`${folder()}/`))).toEqual([]);
    expect([...before.keys()].filter((file) => !after.has(file))).toEqual([]);
    expect(printed).toContain(`npm run call -- --use-case pizza --script ${folder()}/demo-call.txt`);
  });

  it('passes use-cases:check', async () => {
    const lines: string[] = [];
    // The new folder's checks, its policy against its bundle's SDK calls included (a bundle analysis each). The
    // shipped folders are unchanged (first test): their checks run in tests/use-cases/use-case-config.test.ts and
    // their policies, through SAM's own role, in tests/deploy/iam.test.ts.
    await loadUseCases(undefined, { check: true, iam: true, only: 'pizza', log: (line) => lines.push(line) }, copy);
    expect(lines).toContain('ok      pizza: 1 tools (get_opening_hours)');
  }, 60_000);

  it("passes its own tests, and its demo call passes in the shared runtime test that discovers demo calls", async () => {
    const vitest = join(copy, 'node_modules', '.bin', 'vitest');
    // Only the new folder's tests and demo call: the shipped ones run in this suite already. Only the project they
    // land in (the config's other projects would each start a server of their own for no file). One worker
    // thread: a forked worker costs a process start for two files.
    const only = `${folder()}/demo-call|get_opening_hours`;
    const args = ['run', folder(), 'tests/runtime/scripted-calls.test.ts', '-t', only, '--project', 'wire', '--reporter=verbose', '--maxWorkers=1', '--pool=threads'];
    const { stdout } = await run(vitest, args, {
      cwd: copy,
      env: { ...process.env, DYNAMODB_BACKENDS: 'dynalite', LOG_LEVEL: 'SILENT', NO_COLOR: '1', ENTRY_BUNDLES: 'none' },
    });
    const plain = stdout.replace(/\x1b\[[0-9;]*m/g, '');
    expect(plain).toMatch(new RegExp(`✓ .*${folder()}/tests/get-opening-hours.test.ts`));
    expect(plain).toMatch(new RegExp(`✓ .*${folder()}/demo-call.txt passes, in a call to its own use case`));
    expect(plain).toMatch(/Tests\s+4 passed( \| \d+ skipped)? \(/);
  }, 120_000);

  it('is planned by npm run deploy -- --dry-run, with its config loaded after the stack', async () => {
    // What scripts/deploy.ts --dry-run prints, computed in process.
    const { stacks } = loadStacks(copy);
    const useCases = (await discoverUseCases(copy)).map((u) => ({ folder: basename(u.dir), id: u.id }));
    const plan = describePlan(planFor(stacks, { mode: 'deploy', profile: readProfile(copy), useCases }));
    expect(plan).toContain(`(cd ${folder()} && sam deploy --config-file samconfig.toml`);
    expect(plan).toContain('npm run use-cases:load -- --only pizza');
  });
});
