import { describe, expect, it } from 'vitest';
import { onSetup } from '../../02_cr-application/src/engine/messages/on-setup.ts';
import type { FrameContext } from '../../02_cr-application/src/engine/messages/context.ts';
import { SessionDirectory } from '../../02_cr-application/src/engine/session-directory.ts';
import { logger } from '../../layers/observability/logger.ts';
import { parseInbound } from '../../layers/protocol/conversation-relay.ts';

describe('setup', () => {
  it("resolves the connection's session before the caller speaks, so the first prompt makes one read", async () => {
    let pointerReads = 0;
    const directory = new SessionDirectory({
      sessionIdForConnection: async () => {
        pointerReads++;
        return 'session-1';
      },
    });
    const parsed = parseInbound(JSON.stringify({ type: 'setup', sessionId: 'VX1', callSid: 'CA1', from: '+14065550100', to: '+14065550199', customParameters: {} }));
    if (!parsed.ok || parsed.message.type !== 'setup') throw new Error('setup frame did not parse');
    const ctx = { connectionId: 'conn-1', directory, log: logger } as unknown as FrameContext;
    expect(await onSetup(ctx, parsed.message)).toEqual({ kind: 'noted' });
    expect(pointerReads).toBe(1);
    expect(await directory.sessionFor('conn-1')).toBe('session-1');
    expect(pointerReads).toBe(1);
  });

  it('still answers when the pointer cannot be read (the first prompt will read it itself)', async () => {
    const directory = new SessionDirectory({ sessionIdForConnection: async () => Promise.reject(new Error('table unreachable')) });
    const parsed = parseInbound(JSON.stringify({ type: 'setup', sessionId: 'VX1', callSid: 'CA1', from: '+1', to: '+2', customParameters: {} }));
    if (!parsed.ok || parsed.message.type !== 'setup') throw new Error('setup frame did not parse');
    const ctx = { connectionId: 'conn-2', directory, log: logger } as unknown as FrameContext;
    expect(await onSetup(ctx, parsed.message)).toEqual({ kind: 'noted' });
  });
});
