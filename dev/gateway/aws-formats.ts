import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/**
 * Identifiers, clocks and text formats as API Gateway produces them, so logs and stored records look the same locally
 * and in AWS.
 */

/** Fixed identity of the local API; AWS api ids are 10 lower-case alphanumerics. */
export const LOCAL_API_ID = 'localapigw';
export const LOCAL_ACCOUNT_ID = '000000000000';

/**
 * Connection and request ids look like AWS's (`L0SM9cOFvHcCIhw=`): 15 characters and a `=`. The url-safe alphabet keeps
 * `/` out, so an id is always one path segment of the @connections URL.
 */
export function awsStyleId(): string {
  return `${randomBytes(11).toString('base64url')}=`;
}

/** Epoch ms with sub-millisecond precision, comparable across this process (and with Date.now()). */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** `requestTime` / `time` format: `09/Apr/2019:18:18:23 +0000`. */
export function apiGatewayTime(epochMs: number): string {
  const d = new Date(epochMs);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())} +0000`;
}

/** The client address as AWS reports it (no IPv4-mapped IPv6 prefix). */
export function sourceIp(remoteAddress: string | undefined): string {
  if (!remoteAddress) return '127.0.0.1';
  return remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress;
}

/** The body API Gateway sends to the client when a $default integration fails or times out. */
export function integrationErrorFrame(message: string, connectionId: string, requestId: string): string {
  // Byte for byte what API Gateway sends, inconsistent spacing included.
  return `{"message": ${JSON.stringify(message)}, "connectionId":${JSON.stringify(connectionId)}, "requestId":${JSON.stringify(requestId)}}`;
}
