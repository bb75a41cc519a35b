import { afterEach, describe, expect, it } from 'vitest';
import { RelayCall } from '../../dev/caller/relay-call.ts';
import type { LocalRuntime } from '../../dev/local/runtime.ts';
import { SettingsError } from '../../dev/local/settings.ts';
import { getSession } from '../../layers/data/sessions.ts';
import { startTestRuntime, TEST_TOKEN } from './support.ts';

/** DEFAULT_USE_CASE_ID in .env: the use case a caller with no saved choice reaches under `npm start`. */
let runtime: LocalRuntime | undefined;
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

async function sessionUseCase(rt: LocalRuntime, options: { useCaseId?: string } = {}): Promise<string | undefined> {
  const call = await RelayCall.dial({ webhookUrl: rt.webhookUrl, authToken: TEST_TOKEN, from: '+14065550188', to: '+14065550199', ...options });
  const sessionId = new URL(call.relay.url).searchParams.get('session')!;
  await call.hangup();
  return (await getSession(rt.table, sessionId))?.useCaseId;
}

describe('which use case a local call reaches', () => {
  it('DEFAULT_USE_CASE_ID answers callers with no saved choice; --use-case still reaches any other', async () => {
    runtime = await startTestRuntime({ DEFAULT_USE_CASE_ID: 'apartment-search' });
    expect(await sessionUseCase(runtime)).toBe('apartment-search');
    expect(await sessionUseCase(runtime, { useCaseId: 'default' })).toBe('default');
  });

  it('a DEFAULT_USE_CASE_ID that is not a use case stops the start with a message naming it', async () => {
    const failed = await startTestRuntime({ DEFAULT_USE_CASE_ID: 'pizza' }).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(SettingsError);
    expect((failed as Error).message).toMatch(/^DEFAULT_USE_CASE_ID: no use case "pizza" \(there are: default, /);
  });
});
