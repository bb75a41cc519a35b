import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
// zod/mini: $default's cold start pays for every schema library it imports (see the protocol module).
import * as z from 'zod/mini';
import '../../../layers/config/zod-locale.ts';
import { DtmfMapSchema } from '../../../layers/data/use-case-config.ts';
import type { ToolInvoker, ToolOutcome } from '../../../layers/tools/contract.ts';

const ToolActionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('end'), handoffData: z.record(z.string(), z.unknown()) }),
  z.object({ type: z.literal('sendDigits'), digits: z.string() }),
  z.object({ type: z.literal('language'), ttsLanguage: z.optional(z.string()), transcriptionLanguage: z.optional(z.string()) }),
  z.object({ type: z.literal('updateSession'), tools: z.optional(z.array(z.any())), dtmfMap: z.optional(DtmfMapSchema) }),
]);

/** A tool Lambda's response, checked at the boundary: a malformed answer is a failed call, not a crash. */
export const ToolOutcomeSchema = z.union([
  z.object({ ok: z.literal(true), result: z.unknown(), actions: z.optional(z.array(ToolActionSchema)) }),
  z.object({
    ok: z.literal(false),
    error: z.object({
      code: z.enum(['invalid_arguments', 'unknown_tool', 'not_found', 'conflict', 'failed', 'timeout']),
      message: z.string(),
      details: z.optional(z.unknown()),
    }),
  }),
]);

const decoder = new TextDecoder();

/**
 * Tools as Lambda functions: a direct RequestResponse Invoke of the manifest entry's `functionName` (no Step
 * Functions or SNS hop). The payload is the ToolInvocation, the response a ToolOutcome. Never throws.
 */
export function createLambdaToolInvoker(client: LambdaClient): ToolInvoker {
  return {
    async invoke(call, options): Promise<ToolOutcome> {
      if (!options.functionName) {
        return { ok: false, error: { code: 'unknown_tool', message: `${call.tool} has no function to run it` } };
      }
      try {
        const out = await client.send(
          new InvokeCommand({ FunctionName: options.functionName, InvocationType: 'RequestResponse', Payload: JSON.stringify(call) }),
          { abortSignal: options.signal, requestTimeout: options.timeoutMs } as Parameters<LambdaClient['send']>[1],
        );
        const text = out.Payload ? decoder.decode(out.Payload) : '';
        if (out.FunctionError) {
          let message = out.FunctionError;
          try {
            const body = JSON.parse(text) as { errorMessage?: string };
            if (body.errorMessage) message = body.errorMessage;
          } catch {
            // The body is not JSON: the FunctionError kind is all we know.
          }
          return { ok: false, error: { code: 'failed', message: `${call.tool} failed: ${message}` } };
        }
        const parsed = ToolOutcomeSchema.safeParse(text ? JSON.parse(text) : undefined);
        if (!parsed.success) return { ok: false, error: { code: 'failed', message: `${call.tool} answered in an unexpected shape` } };
        return parsed.data as ToolOutcome;
      } catch (err) {
        const aborted = options.signal?.aborted || (err as { name?: string }).name === 'AbortError';
        return {
          ok: false,
          error: aborted
            ? { code: 'timeout', message: `${call.tool} did not answer in time` }
            : { code: 'failed', message: `${call.tool} could not be invoked: ${(err as Error).message}` },
        };
      }
    },
  };
}
