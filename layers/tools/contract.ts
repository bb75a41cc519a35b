import type { DtmfMap, ToolManifestEntry } from '../data/use-case-config.ts';
import type { CallAction } from './call-actions.ts';

/**
 * The contract between the conversation engine and tools. A tool runs as its own Lambda in AWS (the engine
 * invokes it directly, all calls of a turn in parallel) and in-process locally; both speak exactly these shapes,
 * so the payload of a Lambda Invoke is a ToolInvocation and its response a ToolOutcome.
 */

/** Who is on the line. Always taken from the session, never from the LLM's arguments. */
export interface ToolCaller {
  sessionId: string;
  callSid: string;
  /** The caller's number (E.164), as Twilio reported it at call setup. */
  from: string;
  /** The number they dialled. */
  to: string;
  useCaseId: string;
}

export interface ToolInvocation {
  tool: string;
  /** The LLM's tool_call id; echoed so results pair with calls. */
  callId: string;
  /** Arguments parsed from the LLM's JSON; validated by the tool against its own schema. */
  args: unknown;
  caller: ToolCaller;
}

/** Things a tool may ask the engine to do after the LLM has its result. */
export type ToolAction =
  /** End the ConversationRelay session; Twilio then requests the `<Connect action>` URL with HandoffData. */
  | { type: 'end'; handoffData: Record<string, unknown> }
  | { type: 'sendDigits'; digits: string }
  | { type: 'language'; ttsLanguage?: string; transcriptionLanguage?: string }
  /** Change this call's tools or keypad map from the next LLM round on. */
  | { type: 'updateSession'; tools?: ToolManifestEntry[]; dtmfMap?: DtmfMap }
  /** Say a line (optionally one the caller cannot cut off), play audio, change call settings, set recognition hints. */
  | CallAction;

export type ToolErrorCode = 'invalid_arguments' | 'unknown_tool' | 'not_found' | 'conflict' | 'failed' | 'timeout';

export type ToolOutcome =
  | { ok: true; result: unknown; actions?: ToolAction[] }
  | { ok: false; error: { code: ToolErrorCode; message: string; details?: unknown } };

/** Runs tools. Never throws: a failure or timeout comes back as `ok: false` for the LLM to talk about. */
export interface ToolInvoker {
  invoke(call: ToolInvocation, options: { timeoutMs: number; signal?: AbortSignal; functionName?: string }): Promise<ToolOutcome>;
}

export const DEFAULT_TOOL_TIMEOUT_MS = 10_000;
export type { ToolManifestEntry };
