import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

/**
 * Secrets, fetched once per container and cached. In AWS the values live in SSM Parameter Store (SecureString);
 * the functions get only the parameter *names* (TWILIO_AUTH_TOKEN_PARAM, OPENAI_API_KEY_PARAM) and an IAM grant
 * scoped to them. Locally (and in tests) the values come straight from the environment / .env.
 * No value is ever logged.
 */
export interface Secrets {
  twilioAuthToken: string;
  /** Absent when the LLM endpoint needs no key (the offline model, a local server). */
  openaiApiKey?: string;
}

export interface SecretSource {
  getParameter(name: string): Promise<string | undefined>;
}

export function ssmSecretSource(client = new SSMClient({})): SecretSource {
  return {
    async getParameter(name) {
      const out = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      return out.Parameter?.Value;
    },
  };
}

let cached: Promise<Secrets> | undefined;

/** Loads the secrets once per container; concurrent first callers share one fetch. A failure is not cached. */
export function loadSecrets(env: NodeJS.ProcessEnv = process.env, source?: SecretSource): Promise<Secrets> {
  cached ??= fetchSecrets(env, source).catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

/** For tests: forget the cached values. */
export function resetSecretsCache(): void {
  cached = undefined;
}

async function fetchSecrets(env: NodeJS.ProcessEnv, source?: SecretSource): Promise<Secrets> {
  const tokenParam = env.TWILIO_AUTH_TOKEN ? undefined : env.TWILIO_AUTH_TOKEN_PARAM || undefined;
  const keyParam = env.OPENAI_API_KEY ? undefined : env.OPENAI_API_KEY_PARAM || undefined;
  const ssm = source ?? (tokenParam || keyParam ? ssmSecretSource() : undefined);
  // Both parameters in parallel: this sits on the cold-start path of the first call.
  const [tokenFromSsm, keyFromSsm] = await Promise.all([
    tokenParam ? ssm?.getParameter(tokenParam) : undefined,
    keyParam ? ssm?.getParameter(keyParam) : undefined,
  ]);
  const twilioAuthToken = env.TWILIO_AUTH_TOKEN || tokenFromSsm;
  if (!twilioAuthToken) {
    throw new Error('No Twilio auth token: set TWILIO_AUTH_TOKEN (local) or TWILIO_AUTH_TOKEN_PARAM (an SSM SecureString name)');
  }
  const openaiApiKey = env.OPENAI_API_KEY || keyFromSsm;
  return openaiApiKey ? { twilioAuthToken, openaiApiKey } : { twilioAuthToken };
}
