import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayCall } from '../../dev/caller/relay-call.ts';
import { ROOT, TEST_TOKEN } from './support.ts';

/**
 * `npm start` as a person sees it: settings from the env file (read before the logger exists), a banner, then one
 * readable line per call and per turn with phases that are never negative and add up; the JSON logs and EMF
 * metrics only when LOG_LEVEL asks for them.
 */

interface Started {
  child: ChildProcess;
  output(): string;
  webhookUrl: string;
  waitFor(pattern: RegExp): Promise<void>;
  stop(): Promise<number | null>;
}

async function start(envFile: string): Promise<Started> {
  const env = { ...process.env };
  // The test runner's own quiet settings must not stand in for the file's.
  for (const name of ['LOG_LEVEL', 'POWERTOOLS_METRICS_DISABLED', 'PORT', 'DATA_DIR', 'TWILIO_AUTH_TOKEN', 'HOST']) delete env[name];
  // Node with tsx's loader, not the tsx wrapper: the exit code is the app's own, and Ctrl-C reaches it directly.
  const child = spawn(process.execPath, ['--import', 'tsx', 'dev/local/main.ts', '--env', envFile], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const w of waiters.filter((w) => w.pattern.test(text))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = (pattern: RegExp) =>
    pattern.test(text) ? Promise.resolve() : Promise.race([new Promise<void>((resolve) => waiters.push({ pattern, resolve })), exited.then(() => Promise.reject(new Error(`exited before ${pattern}:\n${text}`)))]);
  await waitFor(/Press Ctrl-C to stop\./);
  const webhookUrl = /POST (http:\/\/\S+\/call-setup)/.exec(text)![1]!;
  return {
    child,
    output: () => text,
    webhookUrl,
    waitFor,
    stop: () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

/** One call with a tool turn (name, then the demo list) and a keypad turn. */
async function placeCall(webhookUrl: string, from: string): Promise<void> {
  const call = await RelayCall.dial({ webhookUrl, authToken: TEST_TOKEN, from, to: '+14065550199' });
  call.say('Hi, my name is Jane Doe');
  await call.nextReply();
  call.press('1');
  await call.nextReply();
  await call.hangup();
}

// The two apps are separate processes on their own ports and folders: they start side by side.
describe.concurrent('npm start in a terminal', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cr-terminal-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const envFile = async (name: string, extra: string) => {
    const file = join(dir, name);
    const settings = `PORT=0\nDATA_DIR=${join(dir, `data-${name}`)}\nTWILIO_AUTH_TOKEN=${TEST_TOKEN}\nOFFLINE_FIRST_TOKEN_MS=5\nOFFLINE_TOKEN_GAP_MS=1\n${extra}`;
    await writeFile(file, settings);
    return file;
  };

  it('is quiet by default: a banner, then one readable line per call and per turn, phases non-negative and adding up', async ({ expect }) => {
    const app = await start(await envFile('quiet.env', ''));
    try {
      await placeCall(app.webhookUrl, '+14065550901');
      await app.waitFor(/call ended/);
      await app.waitFor(/turn 2 \[default\] keypad/);
    } finally {
      const code = await app.stop();
      expect(code, app.output()).toBe(0);
    }
    const lines = app.output().split('\n');
    expect(app.output()).toContain('Web console (place a call in the browser): http://127.0.0.1:');
    expect(lines.filter((l) => l.trimStart().startsWith('{'))).toEqual([]);
    expect(app.output()).not.toContain('"_aws"');
    expect(lines.some((l) => /call started CA\w+ \[default\] from \+14065550901/.test(l))).toBe(true);
    const turns = lines.filter((l) => /^\s+turn \d/.test(l));
    expect(turns).toHaveLength(2);
    for (const line of turns) {
      expect(line, line).not.toMatch(/-\d/);
      // "first word N ms (...) = a + b (...) + c; then ...": the parts add up to the first word (each rounded).
      const [, total, parts] = /first word (\d+) ms(?: \([^)]*\))? = ([^;]+)/.exec(line)!;
      const sum = [...parts!.replace(/\([^)]*\)/g, '').matchAll(/(\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
      expect(Math.abs(sum - Number(total)), line).toBeLessThanOrEqual(2);
    }
    expect(turns[0]).toMatch(/= before LLM \(ours\) \d+ \+ LLM first token \d+ \+ tools \d+ \+ posting \(ours\) \d+;/);
    expect(turns[0]).toMatch(/tool calls: save_caller_name \d+, list_demos \d+, LLM after tools \d+;/);
    expect(turns[1]).toMatch(/^\s+turn 2 \[default\] keypad completed: first word \d+ ms (\(the keypad line\) )?= before LLM \(ours\) \d+/);
  }, 180_000);

  it('prints the JSON logs and EMF metrics when LOG_LEVEL=DEBUG in the env file', async ({ expect }) => {
    const app = await start(await envFile('debug.env', 'LOG_LEVEL=DEBUG\nHOST=0.0.0.0\n'));
    try {
      await placeCall(app.webhookUrl.replace('0.0.0.0', '127.0.0.1'), '+14065550902');
      await app.waitFor(/"_aws"/);
    } finally {
      await app.stop();
    }
    expect(app.output()).toMatch(/^\{"level":"(DEBUG|INFO)","message"/m);
    expect(app.output()).toContain('Listening on 0.0.0.0 (HOST), not only this machine');
  }, 180_000);
});
