/**
 * Key layout of the single table. Everything that reads or writes an item builds its key here, so the layout
 * below has exactly one implementation.
 *
 * | item               | pk                   | sk               | GSI index-1-full (pk1 / sk1)          |
 * | use case           | usecase#<id>         | config           | use-case / <id>                       |
 * | caller profile     | profile#<E.164>      | profile          |                                       |
 * | session            | session#<id>         | meta             | sessions#<YYYY-MM-DD> / <iso>#<id>    |
 * | chat message       | session#<id>         | msg#<ulid>       |                                       |
 * | turn record        | session#<id>         | turn#<000042>    |                                       |
 * | dropped speculation| session#<id>         | spec#<ulid>      |                                       |
 * | connection pointer | conn#<connectionId>  | conn             |                                       |
 * | call claim         | call#<CallSid>       | call             |                                       |
 * | agent SMS claim    | call#<CallSid>       | agent-sms        |                                       |
 */
export const GSI1 = 'index-1-full';

export const useCaseKey = (id: string) => ({ pk: `usecase#${id}`, sk: 'config' });
export const USE_CASE_INDEX_PK = 'use-case';

export const profileKey = (phone: string) => ({ pk: `profile#${phone}`, sk: 'profile' });

export const sessionPk = (sessionId: string) => `session#${sessionId}`;
export const sessionKey = (sessionId: string) => ({ pk: sessionPk(sessionId), sk: 'meta' });
export const sessionIndexPk = (isoTime: string) => `sessions#${isoTime.slice(0, 10)}`;

export const MESSAGE_PREFIX = 'msg#';
export const messageKey = (sessionId: string, messageId: string) => ({ pk: sessionPk(sessionId), sk: `${MESSAGE_PREFIX}${messageId}` });

export const TURN_PREFIX = 'turn#';
export const turnKey = (sessionId: string, turn: number) => ({
  pk: sessionPk(sessionId),
  sk: `${TURN_PREFIX}${String(turn).padStart(6, '0')}`,
});

export const SPECULATION_PREFIX = 'spec#';
export const speculationKey = (sessionId: string, speculationId: string) => ({ pk: sessionPk(sessionId), sk: `${SPECULATION_PREFIX}${speculationId}` });

export const connectionKey = (connectionId: string) => ({ pk: `conn#${connectionId}`, sk: 'conn' });

export const callKey = (callSid: string) => ({ pk: `call#${callSid}`, sk: 'call' });

/** The handoff summary texted to the agent, at most once per call (a replayed connect action finds it). */
export const agentSmsKey = (callSid: string) => ({ pk: `call#${callSid}`, sk: 'agent-sms' });

/** A caller's last call to one use case (redial resume), on the caller's profile partition. */
export const lastCallKey = (phone: string, useCaseId: string) => ({ pk: `profile#${phone}`, sk: `last-call#${useCaseId}` });
