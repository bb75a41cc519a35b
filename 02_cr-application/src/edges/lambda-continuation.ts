import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
// zod/mini: $default's cold start pays for every schema library it imports (see the protocol module).
import * as z from 'zod/mini';
import '../../../layers/config/zod-locale.ts';
import type { TurnRecord } from '../../../layers/data/index.ts';
import type { ContinuedTurnState, TurnContinuation } from '../engine/ports.ts';

/** The event an async self-invocation carries: marked so the handler tells it from API Gateway's events. */
export const CONTINUE_TURN = 'cr.continue-turn';

const ToolCallSchema = z.object({ id: z.string(), name: z.string(), arguments: z.string() });

/** The state as it crosses the async invocation; its type is the engine's, checked against this schema. */
export const ContinuedTurnStateSchema = z.object({
  kind: z.enum(['prompt', 'dtmf']),
  connectionId: z.string().check(z.minLength(1)),
  sessionId: z.string().check(z.minLength(1)),
  endpoint: z.object({ domainName: z.optional(z.string()), stage: z.optional(z.string()) }),
  turn: z.int().check(z.positive()),
  round: z.int().check(z.minimum(0)),
  // A continued turn never hands off again; a state that says otherwise is refused, never run.
  hops: z.literal(1),
  pendingToolCalls: z.array(ToolCallSchema).check(z.minLength(1)),
  roundText: z.string(),
  spokenText: z.string(),
  heldChars: z.optional(z.int().check(z.minimum(0))),
  held: z.optional(z.array(z.object({ messageId: z.string(), start: z.int().check(z.minimum(0)), end: z.int().check(z.minimum(0)) }))),
  replyMessageId: z.optional(z.string().check(z.minLength(1))),
  pendingEnd: z.optional(z.object({ handoffData: z.string() })),
  // The turn record's marks so far: plain numbers and strings written by the same code that reads them.
  timings: z.custom<Partial<TurnRecord>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'timings must be an object'),
}) satisfies z.ZodMiniType<ContinuedTurnState>;

export const ContinueTurnEventSchema = z.object({ source: z.literal(CONTINUE_TURN), state: ContinuedTurnStateSchema });
export type ContinueTurnEvent = { source: typeof CONTINUE_TURN; state: ContinuedTurnState };

export function isContinueTurnEvent(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as { source?: unknown }).source === CONTINUE_TURN;
}

/**
 * Hands the rest of a turn to an async (`Event`) invocation of this same function: Lambda queues it and returns
 * at once, and that invocation is bound only by the function's own timeout, not by API Gateway's 29 s.
 */
export function createLambdaContinuation(client: LambdaClient, functionName: string): TurnContinuation {
  return {
    async handOff(state) {
      const event: ContinueTurnEvent = { source: CONTINUE_TURN, state };
      await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: JSON.stringify(event) }));
    },
  };
}
