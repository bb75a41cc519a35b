import type { ToolTiming } from '../../../layers/data/index.ts';
import type { AppLogger } from '../../../layers/observability/logger.ts';
import { DEFAULT_TOOL_TIMEOUT_MS, type ToolCaller, type ToolManifestEntry, type ToolOutcome } from '../../../layers/tools/contract.ts';
import type { Clock, ToolInvoker } from './ports.ts';
import { checkToolArguments } from './tool-arguments.ts';
import type { ToolCall } from './tool-calls.ts';

export interface ToolResult {
  call: ToolCall;
  outcome: ToolOutcome;
  timing: ToolTiming;
  /**
   * The arguments as the history keeps them: the LLM's text when it was a valid call, else `{}` (the validation
   * error is the tool's result). Replaying invalid JSON would make strict OpenAI-compatible servers reject every
   * later request of the call.
   */
  historyArguments: string;
}

export interface ToolRoundInput {
  calls: ToolCall[];
  manifest: ToolManifestEntry[];
  caller: ToolCaller;
  invoker: ToolInvoker;
  clock: Clock;
  signal: AbortSignal;
  log: AppLogger;
  /** Called once if the round is still running after `slowAfterMs` (the filler line). */
  slowAfterMs?: number | undefined;
  onSlow?: () => void;
}

export function timeoutFor(entry: ToolManifestEntry | undefined): number {
  return entry?.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
}

/**
 * Runs every call of one LLM reply in parallel and never throws: an unknown tool, bad arguments, a failure or a
 * timeout each become a result the LLM can talk about. The timeout and the turn's abort are enforced here too,
 * so a misbehaving invoker cannot hold the turn.
 */
export async function runToolRound(input: ToolRoundInput): Promise<ToolResult[]> {
  const byName = new Map(input.manifest.map((t) => [t.name, t]));
  const cancelSlow = input.onSlow && input.slowAfterMs !== undefined ? input.clock.setTimer(input.slowAfterMs, input.onSlow) : undefined;
  try {
    return await Promise.all(input.calls.map((call) => runOne(call, byName.get(call.name), input)));
  } finally {
    cancelSlow?.();
  }
}

async function runOne(call: ToolCall, entry: ToolManifestEntry | undefined, input: ToolRoundInput): Promise<ToolResult> {
  const startedAt = input.clock.now();
  const finish = (outcome: ToolOutcome, timedOut = false, validArguments = true): ToolResult => {
    const timing: ToolTiming = { name: call.name, startedAt, durationMs: input.clock.now() - startedAt, ok: outcome.ok };
    if (timedOut) timing.timedOut = true;
    return { call, outcome, timing, historyArguments: validArguments ? call.arguments.trim() || '{}' : '{}' };
  };
  if (!entry) {
    return finish({ ok: false, error: { code: 'unknown_tool', message: `There is no tool named "${call.name}".` } }, false, false);
  }
  const checked = checkToolArguments(entry, call.arguments);
  if (!checked.ok) return finish(checked.outcome, false, false);

  const timeoutMs = timeoutFor(entry);
  const controller = new AbortController();
  // A stopped turn (interrupted, superseded) does not wait for its tools: the next turn waits for its commit.
  let onAbort!: () => void;
  const stopped = new Promise<'stopped'>((resolve) => {
    onAbort = () => {
      controller.abort(input.signal.reason);
      resolve('stopped');
    };
  });
  if (input.signal.aborted) onAbort();
  else input.signal.addEventListener('abort', onAbort, { once: true });
  let cancelTimer: (() => void) | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    cancelTimer = input.clock.setTimer(timeoutMs, () => resolve('timeout'));
  });
  try {
    const invoked = input.invoker
      .invoke(
        { tool: entry.name, callId: call.id, args: checked.args, caller: input.caller },
        { timeoutMs, signal: controller.signal, ...(entry.functionName ? { functionName: entry.functionName } : {}) },
      )
      .catch((err: unknown): ToolOutcome => ({ ok: false, error: { code: 'failed', message: errorText(err) } }));
    const winner = await Promise.race([invoked, timedOut, stopped]);
    if (winner === 'stopped') return finish({ ok: false, error: { code: 'failed', message: `${entry.name} was cancelled: the turn stopped.` } });
    if (winner === 'timeout') {
      controller.abort(new Error('tool timeout'));
      input.log.warn('tool timed out', { tool: entry.name, timeoutMs });
      return finish({ ok: false, error: { code: 'timeout', message: `${entry.name} did not answer within ${timeoutMs} ms.` } }, true);
    }
    if (!winner.ok) input.log.warn('tool failed', { tool: entry.name, error: winner.error });
    return finish(winner, !winner.ok && winner.error.code === 'timeout');
  } finally {
    cancelTimer?.();
    input.signal.removeEventListener('abort', onAbort);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What the LLM sees as the tool's answer. */
export function toolResultContent(outcome: ToolOutcome): string {
  return JSON.stringify(outcome.ok ? outcome.result ?? null : { error: outcome.error });
}
