import type { InterruptMessage } from '../../../../layers/protocol/conversation-relay.ts';
import { heardTurn } from '../ledger/heard.ts';
import { heardToRewrite } from '../ledger/decide.ts';
import { applyToLedger } from '../ledger/ledger-client.ts';
import type { FrameContext, FrameResult } from './context.ts';
import { sessionIdFor } from './load-session.ts';

/**
 * The caller cut in, having heard `utteranceUntilInterrupt` of the reply that was playing. The interrupt is first
 * noted on the session item (one unconditional write: it counts for every reader from then on, however many
 * ledger writes it would otherwise lose to the newer prompt and to the interrupted turn's own commit, which all
 * happen at this moment), then recorded in the ledger on the turn whose reply that was (the newest turn whose
 * prompt came before this frame: a newer prompt may be claimed already), once per turn. A turn still streaming
 * sees it on its next ledger read, stops, and stores only what was heard; a reply already committed is rewritten
 * here (and, until it is, the next turn applies the heard text to its own read of the history).
 */
export async function onInterrupt(ctx: FrameContext, message: InterruptMessage): Promise<FrameResult> {
  const sessionId = await sessionIdFor(ctx);
  if (!sessionId) return { kind: 'ignored' };
  const heard = message.utteranceUntilInterrupt;
  const heardMs = message.durationUntilInterruptMs;
  const at = ctx.receivedAt;
  const noted = await ctx.store
    .noteInterrupt(sessionId, { at, heard, ...(heardMs !== undefined ? { heardMs } : {}) })
    .then(() => true)
    .catch((err: unknown) => {
      ctx.log.warn('interrupt not noted; the ledger write alone records it', { error: err as Error });
      return false;
    });
  try {
    const { verdict, ledger } = await applyToLedger(ctx.store, sessionId, { type: 'interrupt', at, heard, heardMs });
    // Another writer may have folded this interrupt's note into the ledger first: the rewrite is still ours.
    const folded = verdict.type === 'interrupt-recorded' ? undefined : heardToRewrite(ledger, at, heard);
    const rewrite = verdict.type === 'interrupt-recorded' ? verdict.rewrite : folded;
    const turn = verdict.type === 'interrupt-recorded' ? verdict.turn : folded?.turn;
    if (turn === undefined && verdict.type === 'interrupt-ignored') ctx.log.info('interrupt changes nothing', { reason: verdict.reason });
    if (turn !== undefined) {
      ctx.log.appendKeys({ turn });
      ctx.log.info('caller interrupted', { committed: rewrite !== undefined, heardChars: heard.length, durationMs: heardMs });
      if (rewrite) {
        const reply = await ctx.store.getMessage(sessionId, rewrite.replyMessageId);
        if (reply?.role === 'assistant' && reply.content !== null) {
          // The reply, and the tool rounds' words and lines before it that the caller did not hear all of.
          const cut = heardTurn(rewrite.spokenBefore, reply.content, rewrite.held ?? [], rewrite.heard, rewrite.heardMs);
          await Promise.all([
            ctx.store.rewriteHeard(sessionId, reply.messageId, cut.reply),
            ...cut.cuts.map((c) => ctx.store.rewriteHeard(sessionId, c.messageId, c.content)),
          ]);
        }
        await applyToLedger(ctx.store, sessionId, { type: 'heard-applied', turn });
      }
    }
    // The ledger holds it now: the note has done its job.
    if (noted) await ctx.store.clearInterruptNote(sessionId, at).catch((err: unknown) => ctx.log.warn('interrupt note not cleared', { error: err as Error }));
  } catch (err) {
    ctx.log.error('interrupt not recorded', { error: err as Error });
  }
  return { kind: 'interrupt' };
}
