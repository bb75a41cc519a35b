import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScript, ScriptError } from '../../dev/caller/script.ts';
import { startLocalRuntime } from '../../dev/local/runtime.ts';
import { readSettings } from '../../dev/local/settings.ts';
import { runEntry, type EntryRun } from '../support/run-entry.ts';
import { ROOT, TEST_TOKEN } from './support.ts';

/** `npm run call`: finds the app `npm start` runs, says where it tried when nothing answers, and checks scripts first. */
function call(args: string[], env: NodeJS.ProcessEnv): Promise<EntryRun> {
  const base = { ...process.env };
  for (const name of ['PORT', 'HOST', 'DATA_DIR', 'TWILIO_AUTH_TOKEN']) delete base[name];
  return runEntry('dev/caller/main.ts', args, { env: { ...base, ...env } });
}

async function closedPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

describe('npm run call', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cr-caller-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects a script with a misspelt keyword, naming file and line, before dialling', async () => {
    expect(() => parseScript('say hello\n\nexpcet Nice', 'typo.txt')).toThrow(ScriptError);
    expect(() => parseScript('say hello\n\nexpcet Nice', 'typo.txt')).toThrow('typo.txt:3: unknown keyword "expcet" (did you mean "expect"?)');
    expect(() => parseScript('Hello there', 'bare.txt')).toThrow('bare.txt:1: unknown keyword "Hello"');
    expect(() => parseScript('say hi\nexpect (unclosed', 'regex.txt')).toThrow(/^regex\.txt:2: not a regular expression/);

    let requests = 0;
    const webhook = createServer((req, res) => {
      requests++;
      res.writeHead(500).end();
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', () => r()));
    const script = join(dir, 'typo.txt');
    await writeFile(script, '# a typo on line 3\nsay Hi, my name is Jane Doe\nexpcet Nice to meet you\n');
    try {
      const run = await call(['--url', `http://127.0.0.1:${(webhook.address() as { port: number }).port}/call-setup`, '--script', script], {});
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`${script}:3: unknown keyword "expcet" (did you mean "expect"?)`);
      expect(run.stdout).not.toContain('Call completed');
      expect(requests).toBe(0);
    } finally {
      webhook.close();
    }
  }, 120_000);

  it('follows the running app to its port (PORT=0 here), whatever PORT the caller was given', async () => {
    const dataDir = join(dir, 'data');
    const settings = readSettings({ PORT: '0', DATA_DIR: dataDir, TWILIO_AUTH_TOKEN: TEST_TOKEN, OFFLINE_FIRST_TOKEN_MS: '0', OFFLINE_TOKEN_GAP_MS: '0' }, ROOT);
    const runtime = await startLocalRuntime({ settings, rootDir: ROOT });
    try {
      const run = await call(['--script', '05_use-case-default/demo-call.txt'], { DATA_DIR: dataDir, PORT: String(await closedPort()), TWILIO_AUTH_TOKEN: TEST_TOKEN });
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain('Call completed.');
    } finally {
      await runtime.stop();
    }
  }, 120_000);

  it('reads the env file npm start reads, and says which URL it tried when nothing answers', async () => {
    const port = await closedPort();
    const envFile = join(dir, 'caller.env');
    await writeFile(envFile, `PORT=${port}\nDATA_DIR=${join(dir, 'nothing-here')}\n`);
    const run = await call(['--env', envFile, '--script', '05_use-case-default/demo-call.txt'], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`The call did not connect to http://127.0.0.1:${port}/call-setup (HOST and PORT from the environment and .env)`);
    expect(run.stderr).toContain('Is the app running? Start it with `npm start`');
  }, 120_000);
});
