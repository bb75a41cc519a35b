import { z } from 'zod';
import type { ToolInvocation } from './contract.ts';

/**
 * The ToolInvocation payload as it crosses a boundary (a Lambda Invoke). Validated before any tool sees it, so a
 * malformed payload is an `invalid_arguments` outcome, not a crash inside a handler.
 */
export const ToolCallerSchema = z.object({
  sessionId: z.string().min(1),
  callSid: z.string().min(1),
  from: z.string().min(1),
  to: z.string().min(1),
  useCaseId: z.string().min(1),
});

export const ToolInvocationSchema = z.object({
  tool: z.string().min(1),
  callId: z.string().min(1),
  args: z.unknown(),
  caller: ToolCallerSchema,
}) satisfies z.ZodType<ToolInvocation>;
