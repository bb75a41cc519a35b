import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evalCli } from '../../dev/evals/cli.ts';
import { LOCAL_TABLE_NAME, startLocalRuntime, type LocalRuntime } from '../../dev/local/runtime.ts';
import { readSettings } from '../../dev/local/settings.ts';
import { startFakeSsm, type FakeSsm } from '../security/fake-ssm.ts';
import { FAST_OFFLINE, ROOT } from './support.ts';

/**
 * `npm run eval -- --target <webhook>`: the same evals against a stack that is already running elsewhere, signed
 * with that stack's auth token read from SSM (never the local one). The "deployed stack" here is a second local
 * runtime with its own token; SSM is a local server speaking its protocol; the table is reached by name, as in AWS.
 */
const DEPLOYED_TOKEN = 'deployed-stack-auth-token';
let deployed: LocalRuntime;
let ssm: FakeSsm;
const saved: Record<string, string | undefined> = {};
const awsEnv = (endpoints: Record<string, string>) => ({ AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', ...endpoints });

beforeAll(async () => {
  deployed = await startLocalRuntime({ settings: readSettings({ ...FAST_OFFLINE, PORT: '0', TWILIO_AUTH_TOKEN: DEPLOYED_TOKEN }, ROOT), rootDir: ROOT, ephemeral: true });
  ssm = await startFakeSsm({ '/conversation-relay/twilio-auth-token': DEPLOYED_TOKEN, '/other/token': 'not-the-right-token' });
  // The AWS SDK finds each service's endpoint in AWS_ENDPOINT_URL_<SERVICE>, as it would a custom one in AWS.
  for (const [k, v] of Object.entries(awsEnv({ AWS_ENDPOINT_URL_SSM: ssm.endpoint, AWS_ENDPOINT_URL_DYNAMODB: deployed.dynamoEndpoint }))) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
}, 60_000);
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await deployed?.stop();
  await ssm?.close();
});

async function cli(args: string[]) {
  const out: string[] = [];
  // The local token in the environment must not be what signs calls to the target.
  const code = await evalCli(args, { rootDir: ROOT, env: { ...process.env, TWILIO_AUTH_TOKEN: 'local-token-not-the-target' }, out: (l) => out.push(l), err: (l) => out.push(l) });
  return { code, text: out.join('\n') };
}

describe('npm run eval -- --target', () => {
  it('runs the evals against the target, signed with the token from SSM, reading tool calls and effects from its table', { timeout: 90_000 }, async () => {
    const { code, text } = await cli(['--target', deployed.webhookUrl, '--table', LOCAL_TABLE_NAME, '--grep', 'name-and-demos']);
    expect(text).toContain(`against ${deployed.webhookUrl}`);
    // Tool calls (in order, with arguments) and the profile row were read from the target's table.
    expect(text).toMatch(/✓ default\/name-and-demos {2}[\d.]+ s {2}6 checks {2}\$0\.07\d+/);
    expect(code).toBe(0);
    expect(ssm.requests).toEqual([{ target: 'AmazonSSM.GetParameter', name: '/conversation-relay/twilio-auth-token', withDecryption: true }]);
  });

  it('a token that does not match the target fails each eval with the webhook refusal, not a crash', { timeout: 60_000 }, async () => {
    const { code, text } = await cli(['--target', deployed.webhookUrl, '--auth-token-param', '/other/token', '--grep', 'name-and-demos']);
    expect(code).toBe(1);
    expect(text).toMatch(/call: the eval ran\n\s+Error: call webhook answered 403/);
  });

  it('a missing SSM parameter stops before any call, naming it', async () => {
    const { code, text } = await cli(['--target', deployed.webhookUrl, '--auth-token-param', '/missing']);
    expect(code).toBe(2);
    expect(text).toMatch(/^--target: could not read the auth token from SSM parameter \/missing: /);
  });
});
