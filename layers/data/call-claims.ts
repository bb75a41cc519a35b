import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
// zod/mini: call setup reads a claim on every call, and its cold start pays for classic zod at import.
import * as z from 'zod/mini';
import '../config/zod-locale.ts';
import { ConditionFailedError, guard } from './errors.ts';
import { callKey } from './keys.ts';
import type { Table } from './table.ts';
import { expireAt } from './ttl.ts';

/**
 * Which session answers a call. Twilio may send the call webhook for one CallSid more than once (a retry after a
 * timeout, a replay); every copy must connect to the same session. The first webhook to write the call's claim
 * (conditional on its absence, so two at once cannot both win) names the session; any later or concurrent one
 * reads the claim back and uses that session. The session item itself is written afterwards by whichever webhook
 * gets there first (also conditionally), so a webhook that dies between the two writes leaves nothing broken.
 */
export interface CallClaim {
  sessionId: string;
  /** This webhook wrote the claim; false when another webhook of the same call had. */
  claimed: boolean;
}

const ClaimItemSchema = z.object({ sessionId: z.string().check(z.minLength(1)) });

export async function claimCallSession(table: Table, callSid: string, sessionId: string, now = Date.now()): Promise<CallClaim> {
  const key = callKey(callSid);
  try {
    await guard('PutItem call claim', key, () =>
      table.doc.send(
        new PutCommand({
          TableName: table.name,
          Item: { ...key, sessionId, createdAt: new Date(now).toISOString(), expireAt: expireAt(now) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    return { sessionId, claimed: true };
  } catch (err) {
    if (!(err instanceof ConditionFailedError)) throw err;
  }
  const out = await guard('GetItem call claim', key, () => table.doc.send(new GetCommand({ TableName: table.name, Key: key, ConsistentRead: true })));
  const parsed = ClaimItemSchema.safeParse(out.Item);
  if (!parsed.success) throw new Error(`the call claim ${JSON.stringify(key)} is malformed: ${z.prettifyError(parsed.error)}`);
  return { sessionId: parsed.data.sessionId, claimed: false };
}
