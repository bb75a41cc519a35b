import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RelayCall } from '../../dev/caller/relay-call.ts';
import type { LocalRuntime } from '../../dev/local/runtime.ts';
import { getSession, updateProfile } from '../../layers/data/index.ts';
import { startFakeTwilio, type FakeTwilio } from '../messaging/fake-twilio.ts';
import { startTestRuntime, TEST_TOKEN } from './support.ts';

/**
 * A live-agent handoff through `npm start`'s runtime, every hop on the wire: the terminal caller's signed webhook
 * and WebSocket, the offline model calling the apartment demo's handoff tool, the `<Connect action>` callback
 * (posted by the caller as Twilio would, then once more as a Twilio retry), the signed whisper, and the agent's
 * text reaching a local server that speaks Twilio's Messages API (TWILIO_* set, as with real credentials).
 */
const ACCOUNT_SID = `AC${'e5'.repeat(16)}`;
const MESSAGING_TOKEN = 'warm-transfer-messaging-token';
const FROM_NUMBER = '+14065550111';
const AGENT = '+14065550100';
const CALLER = '+14065550177';

let runtime: LocalRuntime;
let twilio: FakeTwilio;

beforeAll(async () => {
  twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: MESSAGING_TOKEN });
  // What 04's core reads for its Twilio client; the runtime's own settings (webhook signing) come from its options.
  vi.stubEnv('TWILIO_ACCOUNT_SID', ACCOUNT_SID);
  vi.stubEnv('TWILIO_AUTH_TOKEN', MESSAGING_TOKEN);
  vi.stubEnv('TWILIO_FROM_NUMBER', FROM_NUMBER);
  vi.stubEnv('TWILIO_API_BASE_URL', twilio.baseUrl);
  runtime = await startTestRuntime({ AGENT_NUMBER: AGENT });
});

afterAll(async () => {
  await runtime?.stop();
  await twilio?.close();
  vi.unstubAllEnvs();
});

describe('warm transfer through the local runtime', () => {
  it('dials the agent with the whisper, stores the summary, and texts it to the agent exactly once, a replayed callback included', async () => {
    await updateProfile(runtime.table, CALLER, { firstName: 'Dana', lastName: 'Reyes' });
    const call = await RelayCall.dial({ webhookUrl: runtime.webhookUrl, authToken: TEST_TOKEN, from: CALLER, to: '+14065550199', useCaseId: 'apartment-search' });
    const sessionId = call.relay.parameters.sessionId!;
    call.say('Can I talk to a person please');
    const end = await call.waitForEnd();

    expect(end.next).toMatchObject({ kind: 'other', dial: AGENT });
    const summary = 'The caller asked to speak with a leasing agent. They said: Can I talk to a person please';
    expect(JSON.parse(end.handoffData!)).toEqual({ reason: 'live-agent-handoff', summary });
    const session = await getSession(runtime.table, sessionId);
    expect(session).toMatchObject({ status: 'ended', outcome: 'dialed-agent', handoffData: end.handoffData });

    // Twilio retries the action URL for the same call: the same Dial, with the signed whisper URL.
    const params = { CallSid: call.callSid, AccountSid: ACCOUNT_SID, CallStatus: 'in-progress', From: CALLER, To: '+14065550199', SessionStatus: 'completed', HandoffData: end.handoffData! };
    const replay = await RelayCall.postWebhook(call.relay.action!, params, TEST_TOKEN);
    const whisperUrl = `${runtime.actionUrl.replace(/\/connect-action$/, '')}/whisper?session=${sessionId}`;
    expect(replay.body).toContain(`<Number url="${whisperUrl}" method="POST">${AGENT}</Number>`);
    const whisper = await RelayCall.postWebhook(whisperUrl, { CallSid: `CA${'a'.repeat(32)}`, CallStatus: 'in-progress' }, TEST_TOKEN);
    expect(whisper.body).toContain(`<Say>Incoming transfer from the phone assistant. ${summary}</Say>`);

    await runtime.settled();
    expect(twilio.requests.map((r) => ({ path: r.path, form: r.form }))).toEqual([
      {
        path: `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`,
        form: { To: AGENT, From: FROM_NUMBER, Body: `Transfer from the Apartment search assistant.\nCaller: Dana Reyes, ${CALLER}\n${summary}` },
      },
    ]);
  });
});
