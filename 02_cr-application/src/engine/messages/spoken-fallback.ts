import type { FrameContext } from './context.ts';

/** When we cannot run a turn at all (the table is down), the caller still hears a short complete reply. */
export async function sayFallback(ctx: FrameContext): Promise<void> {
  const result = await ctx.sink.post(ctx.connectionId, { type: 'text', token: ctx.config.apology, last: true });
  if (result.status !== 'sent') ctx.log.warn('fallback line not delivered', { status: result.status });
}
