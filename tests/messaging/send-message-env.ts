import { vi } from 'vitest';
import type { TestTable } from '../support/dynamo.ts';
import type { FakeTwilio } from './fake-twilio.ts';

/**
 * The environment a deployed function that texts through 04 reads at its first call, pointed at the local table and
 * the Twilio stand-in (stubbed, so `vi.unstubAllEnvs()` restores it). The Lambda endpoint is stubbed once the fake
 * Lambda that serves 04 is listening.
 */
export function stubSendMessageEnv(table: TestTable, twilio: FakeTwilio, credentials: { accountSid: string; authToken: string; from: string }): void {
  const env = {
    TABLE_NAME: table.name,
    DYNAMODB_ENDPOINT: table.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    TWILIO_ACCOUNT_SID: credentials.accountSid,
    TWILIO_AUTH_TOKEN: credentials.authToken,
    TWILIO_FROM_NUMBER: credentials.from,
    TWILIO_API_BASE_URL: twilio.baseUrl,
    SEND_MESSAGE_FUNCTION: 'cr-test-send-message',
  };
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
}
