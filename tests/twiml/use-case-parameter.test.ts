import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallSetupHandler, type Deps } from '../../03_twiml-api/src/handlers/call-setup.ts';
import { getSession, putUseCase } from '../../layers/data/index.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import { APARTMENT_USE_CASE, AUTH_TOKEN, captureLogger, DEFAULT_USE_CASE, expectApology, parseTwiml, twilioPost, WEBSOCKET_URL } from './support.ts';

/**
 * `npm run call -- --use-case <id>` sends a `UseCaseId` webhook parameter, signed with the others. The local
 * runtime honours it; the AWS handler (no `useCaseParameter`) never lets a request choose what answers.
 */
// Each test is its own call: call setup answers a repeated CallSid with the session it already made.
let calls = 0;
const call = () => ({ CallSid: `CA${String(++calls).padStart(32, '0')}`, AccountSid: 'AC0123456789abcdef0123456789abcdef', From: '+14065550177', To: '+14065550199' });

let table: TestTable;
beforeAll(async () => {
  table = await createTestTable();
  await putUseCase(table, DEFAULT_USE_CASE);
  await putUseCase(table, APARTMENT_USE_CASE);
});
afterAll(async () => {
  await table.drop();
});

const handler = (overrides: Partial<Deps> = {}) =>
  createCallSetupHandler({ table, authToken: async () => AUTH_TOKEN, websocketUrl: WEBSOCKET_URL, logger: captureLogger().logger, ...overrides });

async function answeredUseCase(result: { body?: string }): Promise<string | undefined> {
  const relay = (parseTwiml(result.body ?? '').Connect as Record<string, any>).ConversationRelay as Record<string, string>;
  const sessionId = new URL(relay.url!).searchParams.get('session')!;
  return (await getSession(table, sessionId))?.useCaseId;
}

describe('UseCaseId, the local runtime\'s way to reach any use case', () => {
  it('answers with the named use case when the handler accepts the parameter', async () => {
    const result = await handler({ useCaseParameter: true })(twilioPost({ path: '/call-setup', params: { ...call(), UseCaseId: 'apartment-search' } }));
    expect(await answeredUseCase(result)).toBe('apartment-search');
  });

  it('is ignored where the handler does not accept it, as in AWS', async () => {
    const result = await handler()(twilioPost({ path: '/call-setup', params: { ...call(), UseCaseId: 'apartment-search' } }));
    expect(await answeredUseCase(result)).toBe('default');
  });

  it('is covered by the signature: added after signing, the request is refused', async () => {
    const result = await handler({ useCaseParameter: true })(
      twilioPost({ path: '/call-setup', params: call(), tamper: (p) => ({ ...p, UseCaseId: 'apartment-search' }) }),
    );
    expect(result.statusCode).toBe(403);
  });

  it('names a use case that is not loaded: the caller hears the apology, the log says why', async () => {
    const log = captureLogger();
    const result = await handler({ useCaseParameter: true, logger: log.logger })(twilioPost({ path: '/call-setup', params: { ...call(), UseCaseId: 'pizza' } }));
    expectApology(result);
    expect(log.text()).toContain('UseCaseId \\"pizza\\": no such use case is loaded');
  });
});
