import type { Session } from '../../../../layers/data/index.ts';
import { applyToLedger } from '../ledger/ledger-client.ts';
import type { FrameContext, FrameResult } from '../messages/context.ts';
import { comparable } from '../utterance.ts';

/**
 * The final prompt's side of preemption: when a speculative turn is answering these same words (compared by the
 * use case's match rule), the claim adopts it and this invocation is done; that turn's invocation learns it on
 * its next ledger read, posts what it holds and goes on as the turn. One conditional write, and only when the
 * conversation read showed a speculation running; otherwise (or when it was dropped meanwhile) the prompt runs
 * a turn of its own, whose claim drops any speculation still running.
 */
export async function adoptSpeculation(ctx: FrameContext, sessionId: string, session: Session, userText: string): Promise<FrameResult | undefined> {
  const running = session.ledger.speculation?.state === 'running' ? session.ledger.speculation : undefined;
  const preemption = session.preemption;
  if (!running || !preemption?.enabled) return undefined;
  const key = comparable(userText, preemption.match);
  if (key !== running.key) return undefined;
  try {
    const { verdict } = await applyToLedger(
      ctx.store,
      sessionId,
      { type: 'claim', promptAt: ctx.receivedAt, userText, key, adoptOnly: true },
      { ledger: session.ledger, status: session.status },
    );
    if (verdict.type !== 'claimed') return undefined;
    ctx.log.appendKeys({ turn: verdict.turn });
    ctx.log.info('final prompt confirmed the speculative turn', { speculationId: verdict.adopted });
    return { kind: 'preempted', turn: verdict.turn };
  } catch (err) {
    ctx.log.warn('could not adopt the speculative turn; answering the prompt here', { error: err as Error });
    return undefined;
  }
}
