import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionFailedError, guard } from './errors.ts';
import { agentSmsKey } from './keys.ts';
import type { Table } from './table.ts';
import { expireAt } from './ttl.ts';

/**
 * The handoff summary is texted to the agent at most once per call. Twilio may request the `<Connect action>` URL
 * again for the same CallSid (a retry after a timeout), and Lambda retries a failed asynchronous invocation: the
 * first sender writes this claim (conditional on its absence, so two at once cannot both win) and only the winner
 * sends. At most once, not at least once: a second text of the same summary is noise on the agent's phone, while a
 * lost one still leaves the whisper and the summary stored with the session.
 */
export type AgentSmsOutcome =
  | { status: 'sent'; messageSid?: string | undefined; delivered: boolean }
  | { status: 'failed'; reason: string };

/** True when this caller won the claim and must send; false when the call's text was already claimed. */
export async function claimAgentSms(table: Table, callSid: string, claim: { sessionId: string; to: string }, now = Date.now()): Promise<boolean> {
  const key = agentSmsKey(callSid);
  try {
    await guard('PutItem agent SMS claim', key, () =>
      table.doc.send(
        new PutCommand({
          TableName: table.name,
          Item: { ...key, ...claim, status: 'sending', claimedAt: new Date(now).toISOString(), expireAt: expireAt(now) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionFailedError) return false;
    throw err;
  }
}

/** What became of the text, on the claim (for whoever looks into a call later). */
export async function recordAgentSms(table: Table, callSid: string, outcome: AgentSmsOutcome, now = Date.now()): Promise<void> {
  const key = agentSmsKey(callSid);
  const fields: Record<string, unknown> = { ...outcome, finishedAt: new Date(now).toISOString() };
  const names = Object.keys(fields).filter((name) => fields[name] !== undefined);
  await guard('UpdateItem agent SMS outcome', key, () =>
    table.doc.send(
      new UpdateCommand({
        TableName: table.name,
        Key: key,
        UpdateExpression: `SET ${names.map((name) => `#${name} = :${name}`).join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: Object.fromEntries(names.map((name) => [`#${name}`, name])),
        ExpressionAttributeValues: Object.fromEntries(names.map((name) => [`:${name}`, fields[name]])),
      }),
    ),
  );
}
