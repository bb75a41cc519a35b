import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RelayCall } from '../../dev/caller/relay-call.ts';
import { startLocalRuntime } from '../../dev/local/runtime.ts';
import { chooseLlm, DEV_TWILIO_AUTH_TOKEN, readSettings, SettingsError } from '../../dev/local/settings.ts';
import { getProfile } from '../../layers/data/profiles.ts';
import { loadConversation } from '../../layers/data/sessions.ts';
import { ROOT, TEST_TOKEN } from './support.ts';

describe('local runtime settings', () => {
  it('runs on embedded defaults with no keys', () => {
    const settings = readSettings({}, '/repo');
    expect(settings).toMatchObject({ PORT: 8080, TWILIO_AUTH_TOKEN: DEV_TWILIO_AUTH_TOKEN, dataDir: '/repo/.data' });
    expect(chooseLlm(settings)).toEqual({ kind: 'offline', model: 'offline-demo' });
  });

  it('picks OpenAI with a key, and any compatible server with a base URL', () => {
    expect(chooseLlm(readSettings({ OPENAI_API_KEY: 'sk-test' }))).toEqual({ kind: 'openai', apiKey: 'sk-test', model: 'gpt-4o-mini' });
    expect(chooseLlm(readSettings({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', OPENAI_MODEL: 'llama3.2' }))).toEqual({
      kind: 'compatible',
      baseUrl: 'http://127.0.0.1:11434/v1',
      model: 'llama3.2',
    });
  });

  it('fails fast on a bad setting, naming it', () => {
    expect(() => readSettings({ PORT: 'eighty' })).toThrow(SettingsError);
    expect(() => readSettings({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => readSettings({ OPENAI_BASE_URL: 'not a url' })).toThrow(/OPENAI_BASE_URL/);
    expect(() => readSettings({ AGENT_NUMBER: '555-0100' })).toThrow(/AGENT_NUMBER: an E\.164 number/);
  });
});

describe('local runtime persistence', () => {
  it('keeps what calls wrote across a stop and a restart on the same DATA_DIR', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cr-runtime-'));
    const settings = readSettings({ PORT: '0', DATA_DIR: dataDir, TWILIO_AUTH_TOKEN: TEST_TOKEN, OFFLINE_FIRST_TOKEN_MS: '0', OFFLINE_TOKEN_GAP_MS: '0' }, ROOT);
    const from = '+14065550404';
    try {
      const first = await startLocalRuntime({ settings, rootDir: ROOT });
      const call = await RelayCall.dial({ webhookUrl: first.webhookUrl, authToken: TEST_TOKEN, from, to: '+14065550199' });
      call.say('Hi, my name is Grace Hopper');
      await call.nextReply();
      await call.hangup();
      await first.stop();

      const second = await startLocalRuntime({ settings, rootDir: ROOT });
      try {
        expect(await getProfile(second.table, from)).toMatchObject({ firstName: 'Grace', lastName: 'Hopper' });
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('local runtime shutdown', () => {
  it('stopping mid-reply lets the turn save what was said before the database stops', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cr-runtime-'));
    // A slow offline model: the reply is still streaming when the runtime is stopped.
    const settings = readSettings({ PORT: '0', DATA_DIR: dataDir, TWILIO_AUTH_TOKEN: TEST_TOKEN, OFFLINE_FIRST_TOKEN_MS: '0', OFFLINE_TOKEN_GAP_MS: '40' }, ROOT);
    const from = '+14065550405';
    try {
      const first = await startLocalRuntime({ settings, rootDir: ROOT });
      const call = await RelayCall.dial({ webhookUrl: first.webhookUrl, authToken: TEST_TOKEN, from, to: '+14065550199' });
      const sessionId = new URL(call.relay.url).searchParams.get('session')!;
      const firstToken = new Promise((resolve) => call.once('token', resolve));
      call.say('What can you do?');
      await firstToken;
      await first.stop();

      const second = await startLocalRuntime({ settings, rootDir: ROOT });
      try {
        const { messages, session } = await loadConversation(second.table, sessionId);
        expect(session.status).toBe('ended');
        // The greeting (stored at call setup), the caller's words, and what was said of the reply.
        expect(messages.map((m) => m.role)).toEqual(['assistant', 'user', 'assistant']);
        expect(messages[0]!.content).toMatch(/^Hi, thanks for calling the voice demo line/);
        expect(messages[2]!.content!.length).toBeGreaterThan(0);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
