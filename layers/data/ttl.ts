/** How long call data lives before DynamoDB's TTL removes it. */
export const DEFAULT_SESSION_TTL_SECONDS = 7 * 24 * 3600;

export function ttlSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SESSION_TTL_SECONDS;
  const parsed = raw ? Number(raw) : DEFAULT_SESSION_TTL_SECONDS;
  return Number.isFinite(parsed) && parsed > 0 ? parsed : DEFAULT_SESSION_TTL_SECONDS;
}

/** `expireAt` in epoch seconds, the unit DynamoDB TTL requires. */
export function expireAt(nowMs: number, ttl = ttlSeconds()): number {
  return Math.floor(nowMs / 1000) + ttl;
}
