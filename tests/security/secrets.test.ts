import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadSecrets, resetSecretsCache, ssmSecretSource } from '../../layers/config/secrets.ts';
import { startFakeSsm, type FakeSsm } from './fake-ssm.ts';

const TOKEN_PARAM = '/conversation-relay/twilio-auth-token';
const KEY_PARAM = '/conversation-relay/openai-api-key';

describe('secrets', () => {
  let ssm: FakeSsm;
  let client: SSMClient;
  beforeAll(async () => {
    ssm = await startFakeSsm({ [TOKEN_PARAM]: 'ssm-twilio-token', [KEY_PARAM]: 'sk-ssm-key' });
    client = new SSMClient({ endpoint: ssm.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await ssm.close();
  });
  afterEach(() => {
    resetSecretsCache();
    ssm.requests.length = 0;
  });

  it('fetches SecureStrings from SSM once per container, however many callers ask at once', async () => {
    const env = { TWILIO_AUTH_TOKEN_PARAM: TOKEN_PARAM, OPENAI_API_KEY_PARAM: KEY_PARAM };
    const source = ssmSecretSource(client);
    const first = await Promise.all(Array.from({ length: 5 }, () => loadSecrets(env, source)));
    const later = await loadSecrets(env, source);
    for (const s of [...first, later]) expect(s).toEqual({ twilioAuthToken: 'ssm-twilio-token', openaiApiKey: 'sk-ssm-key' });
    // One request per parameter, both decrypted (fetched in parallel, so in either order).
    expect([...ssm.requests].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { target: 'AmazonSSM.GetParameter', name: KEY_PARAM, withDecryption: true },
      { target: 'AmazonSSM.GetParameter', name: TOKEN_PARAM, withDecryption: true },
    ]);
  });

  it('does not cache a failure: the next call fetches again', async () => {
    const env = { TWILIO_AUTH_TOKEN_PARAM: TOKEN_PARAM };
    const source = ssmSecretSource(client);
    ssm.failNext(1);
    await expect(loadSecrets(env, source)).rejects.toThrow(/not allowed/);
    expect(await loadSecrets(env, source)).toEqual({ twilioAuthToken: 'ssm-twilio-token' });
    expect(ssm.requests).toHaveLength(2);
  });

  it('takes values from the environment locally and never calls SSM for them', async () => {
    const env = { TWILIO_AUTH_TOKEN: 'local-token', TWILIO_AUTH_TOKEN_PARAM: TOKEN_PARAM };
    expect(await loadSecrets(env, ssmSecretSource(client))).toEqual({ twilioAuthToken: 'local-token' });
    expect(ssm.requests).toEqual([]);
  });

  it('fails loudly, naming the variables and never a value, when no token is configured', async () => {
    await expect(loadSecrets({ OPENAI_API_KEY: 'sk-local' }, ssmSecretSource(client))).rejects.toThrow(/TWILIO_AUTH_TOKEN/);
    resetSecretsCache();
    const err = await loadSecrets({ TWILIO_AUTH_TOKEN_PARAM: '/missing' }, ssmSecretSource(client)).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(String(err)).not.toContain('ssm-twilio-token');
  });
});
