import { z } from 'zod';
import type { Table } from '../data/table.ts';
import type { MessageSender } from '../messaging/message-sender.ts';
import type { AppLogger } from '../observability/logger.ts';
import type { ToolAction, ToolCaller, ToolErrorCode, ToolInvocation, ToolManifestEntry, ToolOutcome } from './contract.ts';
import { describeIssues } from './describe-issues.ts';

export { describeIssues };

/** What a tool handler may use. Identity comes from the session (`caller`), never from the LLM's arguments. */
export interface ToolContext {
  caller: ToolCaller;
  table: Table;
  logger: AppLogger;
  messages: MessageSender;
  now(): Date;
  /** Aborted when the engine gives up on the call (timeout, caller hung up); pass it to slow I/O. */
  signal: AbortSignal;
}

/** Built once per container (Lambda) or per runtime (local) and shared by every call. */
export interface ToolDeps {
  table: Table;
  logger: AppLogger;
  messages: MessageSender;
  now?: () => Date;
}

export interface ToolReturn {
  /** Anything JSON-serialisable; the LLM reads it as the tool's result. */
  result: unknown;
  actions?: ToolAction[];
}

/**
 * An expected failure a handler reports on purpose (slot taken, unknown demo...). The message goes to the LLM,
 * so write it as something it can say to the caller.
 */
export class ToolError extends Error {
  readonly code: ToolErrorCode;
  readonly details: unknown;
  constructor(code: ToolErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'ToolError';
    this.code = code;
    this.details = details;
  }
}

export type ToolParameters = z.ZodObject;

export interface ToolSpec<P extends ToolParameters> {
  /** 1-64 letters, digits, _ or -: the name the LLM calls. */
  name: string;
  /** Tells the LLM when to call the tool; the use case's prompt should agree with it. */
  description: string;
  parameters: P;
  timeoutMs?: number;
  handler(args: z.output<P>, context: ToolContext): Promise<ToolReturn>;
}

export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly timeoutMs: number | undefined;
  /** The entry the LLM sees; `functionName` is the Lambda that runs it in AWS. */
  manifest(functionName?: string): ToolManifestEntry;
  /** Validates the arguments and runs the handler. Never throws. */
  run(invocation: ToolInvocation, deps: ToolDeps & { signal?: AbortSignal }): Promise<ToolOutcome>;
}

/** One typed definition gives the manifest entry, argument validation and the handler binding. */
export function defineTool<P extends ToolParameters>(spec: ToolSpec<P>): ToolDefinition {
  // Computed on first use, so a schema JSON Schema cannot express fails in the loader, which names the tool.
  let parameters: ToolManifestEntry['parameters'] | undefined;
  // The manifest tells the LLM `additionalProperties: false` and the engine rejects unknown arguments; the tool
  // does the same, in the same words, instead of silently dropping them.
  const closed = spec.parameters.strict() as unknown as P;
  return {
    name: spec.name,
    description: spec.description,
    timeoutMs: spec.timeoutMs,
    manifest(functionName) {
      return {
        name: spec.name,
        description: spec.description,
        parameters: (parameters ??= parametersJsonSchema(spec.parameters)),
        ...(functionName ? { functionName } : {}),
        ...(spec.timeoutMs ? { timeoutMs: spec.timeoutMs } : {}),
      };
    },
    async run(invocation, deps) {
      const args = parseArguments(spec.name, closed, invocation.args);
      if (!args.ok) return args.outcome;
      const context: ToolContext = {
        caller: invocation.caller,
        table: deps.table,
        logger: deps.logger,
        messages: deps.messages,
        now: deps.now ?? (() => new Date()),
        signal: deps.signal ?? new AbortController().signal,
      };
      try {
        const out = await spec.handler(args.value, context);
        return out.actions?.length ? { ok: true, result: out.result, actions: out.actions } : { ok: true, result: out.result };
      } catch (err) {
        if (err instanceof ToolError) {
          deps.logger.info('tool refused', { tool: spec.name, callId: invocation.callId, sessionId: invocation.caller.sessionId, code: err.code, reason: err.message });
          return { ok: false, error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } };
        }
        deps.logger.error('tool failed', { tool: spec.name, callId: invocation.callId, sessionId: invocation.caller.sessionId, error: err as Error });
        return { ok: false, error: { code: 'failed', message: `The ${spec.name} tool ran into a problem and could not finish.` } };
      }
    },
  };
}

/**
 * The JSON Schema the LLM sees, in OpenAI's function-calling dialect: a plain object schema without `$schema`,
 * closed to unknown properties. `io: 'input'` keeps fields with defaults optional, as the LLM may omit them.
 */
export function parametersJsonSchema(schema: ToolParameters): ToolManifestEntry['parameters'] {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as Record<string, unknown>;
  return { ...json, type: 'object', properties: (json.properties as Record<string, unknown> | undefined) ?? {}, additionalProperties: false };
}

type Parsed<T> = { ok: true; value: T } | { ok: false; outcome: ToolOutcome };

function parseArguments<P extends ToolParameters>(tool: string, schema: P, raw: unknown): Parsed<z.output<P>> {
  let args = raw;
  // LLMs send "" or nothing for a tool without parameters, and some transports pass the raw JSON text along.
  if (args === undefined || args === null || args === '') args = {};
  if (typeof args === 'string') {
    try {
      args = JSON.parse(args);
    } catch {
      return invalid(tool, 'the arguments are not valid JSON');
    }
  }
  const parsed = schema.safeParse(args);
  if (parsed.success) return { ok: true, value: parsed.data };
  return invalid(tool, describeIssues(parsed.error.issues, args), parsed.error.issues);
}

function invalid(tool: string, problem: string, details?: unknown): Parsed<never> {
  return {
    ok: false,
    outcome: {
      ok: false,
      error: {
        code: 'invalid_arguments',
        message: `${tool} was called with invalid arguments: ${problem}. Ask the caller for what is missing or wrong, then call it again.`,
        ...(details === undefined ? {} : { details }),
      },
    },
  };
}
