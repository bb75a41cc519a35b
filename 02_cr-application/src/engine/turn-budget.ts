/**
 * API Gateway ends a WebSocket route's integration after 29 s and sends its error body to the socket (Twilio
 * error 64107, and the caller hears nothing more). A turn that must wait for slow tools therefore checks, before
 * each tool round, whether this invocation can still finish the round and the LLM round after it; when it cannot,
 * the rest of the turn is handed to an invocation that API Gateway does not wait on (an async invocation of the
 * same function in AWS) and this one returns at once.
 */
export interface TurnBudget {
  /** Epoch ms by which this invocation must have returned. */
  deadlineAt: number;
  /** Time kept for the LLM round that follows a tool round (TTFT plus a spoken reply). */
  llmRoundReserveMs: number;
}

/** API Gateway's integration timeout is 29 s; the margin covers the final writes and the return trip. */
export const SYNC_BUDGET_MS = 26_000;

/** The deadline of an invocation that started at `startedAt`, also bounded by what Lambda says is left. */
export function deadlineFor(startedAt: number, budgetMs: number, lambdaRemainingMs?: number, now = startedAt, safetyMs = 1_000): number {
  const byBudget = startedAt + budgetMs;
  if (lambdaRemainingMs === undefined) return byBudget;
  return Math.min(byBudget, now + lambdaRemainingMs - safetyMs);
}

export type ToolRoundPlan = 'run-here' | 'hand-off';

export function planToolRound(input: {
  now: number;
  budget: TurnBudget;
  /** Each pending call's timeout: the round ends by the slowest. */
  toolTimeoutsMs: number[];
  /** Whether there is anywhere to hand off to (not in every runtime). */
  canHandOff: boolean;
}): ToolRoundPlan {
  if (!input.canHandOff) return 'run-here';
  const worstTool = Math.max(0, ...input.toolTimeoutsMs);
  const needed = worstTool + input.budget.llmRoundReserveMs;
  return input.budget.deadlineAt - input.now >= needed ? 'run-here' : 'hand-off';
}
