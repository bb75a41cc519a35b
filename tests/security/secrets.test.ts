import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { twilioHandshakeVerifier } from '../../02_cr-application/src/edges/handshake-verifier.ts';
import { readSignedRequest } from '../../03_twiml-api/src/signed-request.ts';
import { createSecret, MIN_FORCED_REFRESH_MS, secretsTtlMs, ssmSecretSource } from '../../layers/config/secrets.ts';
import { signTwilioRequest } from '../../layers/security/webhook.ts';
import { startFakeSsm, type FakeSsm } from './fake-ssm.ts';

const TOKEN_PARAM = '/conversation-relay/twilio-auth-token';
const KEY_PARAM = '/conversation-relay/openai-api-key';
const OLD_TOKEN = 'ssm-twilio-token';
const NEW_TOKEN = 'ssm-twilio-token-rotated';
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, appendKeys: () => undefined, removeKeys: () => undefined };

describe('secrets', () => {
  let ssm: FakeSsm;
  let client: SSMClient;
  const parameters: Record<string, string> = {};
  beforeAll(async () => {
    ssm = await startFakeSsm(parameters);
    client = new SSMClient({ endpoint: ssm.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await ssm.close();
  });
  afterEach(() => {
    Object.assign(parameters, { [TOKEN_PARAM]: OLD_TOKEN, [KEY_PARAM]: 'sk-ssm-key' });
    ssm.requests.length = 0;
  });
  Object.assign(parameters, { [TOKEN_PARAM]: OLD_TOKEN, [KEY_PARAM]: 'sk-ssm-key' });

  /** A clock the test moves. */
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => void (t += ms) };
  };

  it('reads a SecureString once, however many callers ask at once, and only the one asked for', async () => {
    const env = { TWILIO_AUTH_TOKEN_PARAM: TOKEN_PARAM, OPENAI_API_KEY_PARAM: KEY_PARAM };
    const key = createSecret('openaiApiKey', { env, source: ssmSecretSource(client) });
    const values = await Promise.all(Array.from({ length: 5 }, () => key.get()));
    expect(values).toEqual(Array(5).fill('sk-ssm-key'));
    expect(await key.get()).toBe('sk-ssm-key');
    expect(ssm.requests).toEqual([{ target: 'AmazonSSM.GetParameter', name: KEY_PARAM, withDecryption: true }]);
  });

  it('reads the value again once it is older than SECRETS_TTL_SECONDS (default 5 minutes), so a rotation reaches warm containers', async () => {
    const c = clock();
    const token = createSecret('twilioAuthToken', { env: { TWILIO_AUTH_TOKEN_PARAM: TOKEN_PARAM }, source: ssmSecretSource(client), now: c.now });
    expect(await token.get()).toBe(OLD_TOKEN);
    parameters[TOKEN_PARAM] = NEW_TOKEN;
    c.advance(299_000);
    expect(await token.get()).toBe(OLD_TOKEN);
    c.advance(1_000);
    expect(await token.get()).toBe(NEW_TOKEN);
    expect(ssm.requests).toHaveLength(2);

    const short = createSecret('twilioAuthToken', { env: { TWILIO_AUTH_TOKEN_PARAM: TOKEN_PARAM, SECRETS_TTL_SECONDS: '10' }, source: ssmSecretSource(client), now: c.now });
    await short.get();
    c.advance(10_000);
    await short.get();
    expect(ssm.requests).toHaveLength(4);
  });

  it('names SECRETS_TTL_SECONDS when it is not a whole number of seconds', () => {
    expect(secretsTtlMs({})).toBe(300_000);
    expect(secretsTtlMs({ SECRETS_TTL_SECONDS: '0' })).toBe(0);
    expect(() => secretsTtlMs({ SECRETS_TTL_SECONDS: '5m' })).toThrow(/SECRETS_TTL_SECONDS/);
  });

  it('refresh() reads at once, but at most every 30 s: forged requests cannot flood SSM', async () => {
    const c = clock();
    const token = createSecret('twilioAuthToken', { env: { TWILIO_AUTH_TOKEN_PARAM: TOKEN_PARAM }, source: ssmSecretSource(client), now: c.now });
    await token.get();
    c.advance(MIN_FORCED_REFRESH_MS);
    parameters[TOKEN_PARAM] = NEW_TOKEN;
    expect(await token.refresh()).toBe(NEW_TOKEN);
    for (let i = 0; i < 20; i++) expect(await token.refresh()).toBe(NEW_TOKEN);
    expect(ssm.requests).toHaveLength(2);
  });

  it('does not cache a failure, and keeps serving a value it holds while SSM fails', async () => {
    const c = clock();
    const token = createSecret('twilioAuthToken', { env: { TWILIO_AUTH_TOKEN_PARAM: TOKEN_PARAM }, source: ssmSecretSource(client), now: c.now });
    ssm.failNext(1);
    await expect(token.get()).rejects.toThrow(/not allowed/);
    expect(await token.get()).toBe(OLD_TOKEN);
    c.advance(300_000);
    ssm.failNext(1);
    expect(await token.get()).toBe(OLD_TOKEN);
    expect(await token.get()).toBe(OLD_TOKEN);
    expect(ssm.requests).toHaveLength(4);
  });

  it('takes values from the environment locally and never calls SSM for them', async () => {
    const env = { TWILIO_AUTH_TOKEN: 'local-token', TWILIO_AUTH_TOKEN_PARAM: TOKEN_PARAM };
    const token = createSecret('twilioAuthToken', { env, source: ssmSecretSource(client) });
    expect(await token.get()).toBe('local-token');
    expect(await token.refresh()).toBe('local-token');
    expect(await createSecret('openaiApiKey', { env: {}, source: ssmSecretSource(client) }).get()).toBeUndefined();
    expect(ssm.requests).toEqual([]);
  });

  it('fails loudly, naming the variables and never a value, when no token is configured', async () => {
    await expect(createSecret('twilioAuthToken', { env: { OPENAI_API_KEY: 'sk-local' }, source: ssmSecretSource(client) }).get()).rejects.toThrow(
      /TWILIO_AUTH_TOKEN/,
    );
    const err = await createSecret('twilioAuthToken', { env: { TWILIO_AUTH_TOKEN_PARAM: '/missing' }, source: ssmSecretSource(client) })
      .get()
      .catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(String(err)).not.toContain(OLD_TOKEN);
  });

  describe('after a rotation, before the TTL runs out', () => {
    const PUBLIC_URL = 'wss://ws1.execute-api.us-east-1.amazonaws.com/prod';

    it('$connect accepts a handshake signed with the new token (one re-read), and still refuses a forged one', async () => {
      const c = clock();
      const authToken = createSecret('twilioAuthToken', { env: { TWILIO_AUTH_TOKEN_PARAM: TOKEN_PARAM }, source: ssmSecretSource(client), now: c.now });
      const verify = twilioHandshakeVerifier({ authToken, publicUrl: () => PUBLIC_URL });
      const handshake = (token: string) => ({
        headers: { 'X-Twilio-Signature': signTwilioRequest(token, `${PUBLIC_URL}?session=s1`) },
        queryStringParameters: { session: 's1' },
      });
      expect(await verify(handshake(OLD_TOKEN))).toBe(true);
      parameters[TOKEN_PARAM] = NEW_TOKEN;
      c.advance(MIN_FORCED_REFRESH_MS);
      expect(await verify(handshake(NEW_TOKEN))).toBe(true);
      expect(await verify(handshake('forged-token'))).toBe(false);
      expect(await verify(handshake(NEW_TOKEN))).toBe(true);
      // The first read, the re-read after the refused signature; the forged one found the token just re-read.
      expect(ssm.requests).toHaveLength(2);
    });

    it('a webhook signed with the new token is accepted (call setup and the connect action share this check)', async () => {
      const c = clock();
      const token = createSecret('twilioAuthToken', { env: { TWILIO_AUTH_TOKEN_PARAM: TOKEN_PARAM }, source: ssmSecretSource(client), now: c.now });
      const url = 'https://api.example.test/call-setup';
      const params = { CallSid: 'CA1', From: '+14065550100' };
      const event = (signWith: string) => ({
        rawPath: '/call-setup',
        headers: { host: 'api.example.test', 'x-forwarded-proto': 'https', 'x-twilio-signature': signTwilioRequest(signWith, url, params) },
        body: new URLSearchParams(params).toString(),
        isBase64Encoded: false,
        requestContext: { http: { method: 'POST', path: '/call-setup', sourceIp: '127.0.0.1' } },
      });
      const options = { authToken: () => token.get(), refreshAuthToken: () => token.refresh(), publicBaseUrl: 'https://api.example.test', logger: silent, route: 'call-setup' };
      expect((await readSignedRequest(event(OLD_TOKEN) as never, options)).ok).toBe(true);
      parameters[TOKEN_PARAM] = NEW_TOKEN;
      c.advance(MIN_FORCED_REFRESH_MS);
      expect((await readSignedRequest(event(NEW_TOKEN) as never, { ...options, refreshAuthToken: undefined })).ok).toBe(false);
      expect((await readSignedRequest(event(NEW_TOKEN) as never, options)).ok).toBe(true);
    });
  });
});
