import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayCall } from '../../dev/caller/relay-call.ts';
import { DataDirError } from '../../dev/local/data-dir.ts';
import { startLocalRuntime } from '../../dev/local/runtime.ts';
import { readSettings } from '../../dev/local/settings.ts';
import { runLatency } from '../../scripts/latency/main.ts';
import { runEntry } from '../support/run-entry.ts';
import { ROOT, TEST_TOKEN } from './support.ts';

/** DATA_DIR: one process at a time, problems that name the setting, and a report that needs no running app. */
const settingsFor = (dataDir: string) =>
  readSettings({ PORT: '0', DATA_DIR: dataDir, TWILIO_AUTH_TOKEN: TEST_TOKEN, OFFLINE_FIRST_TOKEN_MS: '0', OFFLINE_TOKEN_GAP_MS: '0' }, ROOT);

describe('DATA_DIR', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cr-datadir-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('is locked while an app runs: a second start is told which process holds it, and starts once it is free', async () => {
    const dataDir = join(scratch, 'locked');
    const first = await startLocalRuntime({ settings: settingsFor(dataDir), rootDir: ROOT });
    try {
      const second = startLocalRuntime({ settings: settingsFor(dataDir), rootDir: ROOT });
      await expect(second).rejects.toThrow(DataDirError);
      await expect(second).rejects.toThrow(`DATA_DIR=${dataDir} is in use by another process: npm start (pid ${process.pid}, serving ${first.gateway.httpUrl}`);

      // As a command: the message, exit code 1, and no stack trace (it once was "Error: Database is closed").
      // Plain node runs its bundle: the lock refuses the start before any use case's TypeScript is imported.
      const run = await runEntry('dev/local/main.ts', [], { env: { ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: '' } });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`is in use by another process: npm start (pid ${process.pid}`);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.stderr).not.toContain('Database is closed');
    } finally {
      await first.stop();
    }
    const again = await startLocalRuntime({ settings: settingsFor(dataDir), rootDir: ROOT });
    await again.stop();
  }, 120_000);

  it('takes over a lock left by a process that is gone', async () => {
    const dataDir = join(scratch, 'stale');
    const exited = await promisify(execFile)(process.execPath, ['-e', 'console.log(process.pid)']);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'lock.json'), JSON.stringify({ pid: Number(exited.stdout), command: 'npm start' }));
    const runtime = await startLocalRuntime({ settings: settingsFor(dataDir), rootDir: ROOT });
    await runtime.stop();
  }, 60_000);

  it('names the setting when the folder cannot be used', async () => {
    const file = join(scratch, 'a-file');
    await writeFile(file, 'not a folder');
    await expect(startLocalRuntime({ settings: settingsFor(file), rootDir: ROOT })).rejects.toThrow(`DATA_DIR=${file}: this is a file, not a folder`);
    const inside = join(file, 'data');
    await expect(startLocalRuntime({ settings: settingsFor(inside), rootDir: ROOT })).rejects.toThrow(new RegExp(`^DATA_DIR=${inside}: cannot`));
  });

  it('npm run latency reads the folder itself when the app is not running', async () => {
    const dataDir = join(scratch, 'report');
    const runtime = await startLocalRuntime({ settings: settingsFor(dataDir), rootDir: ROOT });
    const call = await RelayCall.dial({ webhookUrl: runtime.webhookUrl, authToken: TEST_TOKEN, from: '+14065550606', to: '+14065550199' });
    call.say('Hi, my name is Ada Lovelace');
    await call.nextReply();
    await call.hangup();
    await runtime.stop();

    const out: string[] = [];
    const err: string[] = [];
    const code = await runLatency([], { env: { DATA_DIR: dataDir }, cwd: scratch, out: (t) => out.push(t), err: (t) => err.push(t) });
    expect(err.join('\n')).toBe('');
    expect(code).toBe(0);
    expect(out.join('\n')).toContain(`read directly: npm start is not running`);
    expect(out.join('\n')).toMatch(/Use case default: 1 call, 1 turn/);
    // The report let go of the folder: the app starts on it again.
    const again = await startLocalRuntime({ settings: settingsFor(dataDir), rootDir: ROOT });
    await again.stop();
  }, 120_000);
});
