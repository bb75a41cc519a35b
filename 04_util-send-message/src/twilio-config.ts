import { z } from 'zod';
import { ssmSecretSource, type SecretSource } from '../../layers/config/secrets.ts';

/**
 * Where messages are sent from. In AWS the values live in SSM Parameter Store and the function gets only the
 * parameter names (`*_PARAM`, set from stack parameters); locally they come straight from the environment.
 * No credentials at all means "use the local outbox".
 */
export const TwilioMessagingConfigSchema = z
  .object({
    accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'an account SID is AC followed by 32 hex digits'),
    authToken: z.string().min(1),
    fromNumber: z.string().min(1).optional(),
    messagingServiceSid: z.string().regex(/^MG[0-9a-fA-F]{32}$/, 'a messaging service SID is MG followed by 32 hex digits').optional(),
    /** Another host speaking Twilio's REST API (a test server); unset means api.twilio.com. */
    apiBaseUrl: z.url().optional(),
  })
  .refine((c) => c.fromNumber || c.messagingServiceSid, { message: 'set a from number or a messaging service SID', path: ['fromNumber'] });
export type TwilioMessagingConfig = z.infer<typeof TwilioMessagingConfigSchema>;

const FIELDS = {
  accountSid: 'TWILIO_ACCOUNT_SID',
  authToken: 'TWILIO_AUTH_TOKEN',
  fromNumber: 'TWILIO_FROM_NUMBER',
  messagingServiceSid: 'TWILIO_MESSAGING_SERVICE_SID',
} as const;

/**
 * Reads the config; `undefined` when neither the account SID nor the auth token is configured (the outbox case).
 * A half-configured environment is an error, not a silent fall-back to the outbox.
 */
export async function loadTwilioMessagingConfig(
  env: NodeJS.ProcessEnv = process.env,
  source?: SecretSource,
): Promise<TwilioMessagingConfig | undefined> {
  const values: Record<string, string | undefined> = {};
  let ssm = source;
  for (const [field, name] of Object.entries(FIELDS)) {
    const direct = env[name];
    const param = env[`${name}_PARAM`];
    if (direct) values[field] = direct;
    else if (param) {
      ssm ??= ssmSecretSource();
      values[field] = (await ssm.getParameter(param)) || undefined;
    }
  }
  if (!values.accountSid && !values.authToken) return undefined;
  const parsed = TwilioMessagingConfigSchema.safeParse({ ...values, apiBaseUrl: env.TWILIO_API_BASE_URL || undefined });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${FIELDS[i.path[0] as keyof typeof FIELDS] ?? i.path.join('.')}: ${i.message}`);
    throw new Error(`Twilio messaging is misconfigured: ${problems.join('; ')}`);
  }
  return parsed.data;
}
