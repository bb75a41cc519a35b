import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

/**
 * Secrets, each read on its own by the functions that use it. In AWS the values live in SSM Parameter Store
 * (SecureString); a function gets only the parameter *names* it needs (TWILIO_AUTH_TOKEN_PARAM,
 * OPENAI_API_KEY_PARAM) and an IAM grant scoped to them. Locally (and in tests) the values come straight from
 * the environment / .env. No value is ever logged.
 *
 * A value read from SSM is cached for SECRETS_TTL_SECONDS (default 300) and then read again, so a rotated secret
 * reaches warm containers within that time; a caller that sees the value refused (a Twilio signature that does not
 * verify) asks for `refresh()`, which reads it again at once, at most every 30 s per container.
 */
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

const SPECS = {
  twilioAuthToken: { variable: 'TWILIO_AUTH_TOKEN', parameter: 'TWILIO_AUTH_TOKEN_PARAM', required: true },
  /** Absent when the LLM endpoint needs no key (the offline model, a local server). */
  openaiApiKey: { variable: 'OPENAI_API_KEY', parameter: 'OPENAI_API_KEY_PARAM', required: false },
} as const;
export type SecretName = keyof typeof SPECS;

export const DEFAULT_SECRETS_TTL_SECONDS = 300;
/** A flood of forged requests must not become a flood of GetParameter calls (SSM throttles at tens per second). */
export const MIN_FORCED_REFRESH_MS = 30_000;

export interface Secret<T extends string | undefined = string | undefined> {
  /** The cached value, read again once it is older than the TTL. Concurrent first callers share one read. */
  get(): Promise<T>;
  /** The value was refused: read it again now (unless read in the last 30 s) and return what is current. */
  refresh(): Promise<T>;
}

export interface SecretOptions {
  env?: NodeJS.ProcessEnv;
  source?: SecretSource;
  /** Milliseconds clock; tests move it. */
  now?: () => number;
}

/** SECRETS_TTL_SECONDS: a whole number of seconds, 0 meaning "read on every use". */
export function secretsTtlMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SECRETS_TTL_SECONDS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_SECRETS_TTL_SECONDS * 1000;
  if (!/^\d+$/.test(raw.trim())) throw new Error(`SECRETS_TTL_SECONDS must be a whole number of seconds, got "${raw}"`);
  return Number(raw.trim()) * 1000;
}

export function createSecret<N extends SecretName>(name: N, options: SecretOptions = {}): Secret<(typeof SPECS)[N]['required'] extends true ? string : string | undefined> {
  type Value = (typeof SPECS)[N]['required'] extends true ? string : string | undefined;
  const spec = SPECS[name];
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  const ttlMs = secretsTtlMs(env);
  let current: { value: Value; readAt: number } | undefined;
  let inFlight: Promise<Value> | undefined;
  let source = options.source;

  const missing = (): Error =>
    new Error(`No ${name}: set ${spec.variable} (local) or ${spec.parameter} (an SSM SecureString name)`);

  const read = (): Promise<Value> =>
    (inFlight ??= (async () => {
      try {
        const parameter = env[spec.parameter] || undefined;
        source ??= ssmSecretSource();
        const value = parameter ? await source.getParameter(parameter) : undefined;
        if (!value && spec.required) throw missing();
        current = { value: value as Value, readAt: now() };
        return value as Value;
      } catch (err) {
        // A value already held keeps the calls going through an SSM outage; the next use tries again.
        if (current) return current.value;
        throw err;
      } finally {
        inFlight = undefined;
      }
    })());

  const fromEnv = (): { value: Value } | undefined => {
    const value = env[spec.variable];
    if (value) return { value: value as Value };
    if (!env[spec.parameter]) {
      if (spec.required) throw missing();
      return { value: undefined as Value };
    }
    return undefined;
  };

  return {
    async get() {
      const local = fromEnv();
      if (local) return local.value;
      if (current && now() - current.readAt < ttlMs) return current.value;
      return read();
    },
    async refresh() {
      const local = fromEnv();
      if (local) return local.value;
      if (current && now() - current.readAt < MIN_FORCED_REFRESH_MS) return current.value;
      return read();
    },
  };
}

const shared = new Map<SecretName, Secret>();

/** The container's one reader of a secret, from the process environment (what the Lambda edges use). */
export function secret<N extends SecretName>(name: N): ReturnType<typeof createSecret<N>> {
  let s = shared.get(name);
  if (!s) shared.set(name, (s = createSecret(name)));
  return s as ReturnType<typeof createSecret<N>>;
}

/** For tests: forget the container's readers and their cached values. */
export function resetSecretsCache(): void {
  shared.clear();
}
