import { emptyLedger } from '../../../../layers/data/turn-ledger.ts';
import type { AppLogger } from '../../../../layers/observability/logger.ts';
import { applyToLedger } from '../ledger/ledger-client.ts';
import { GRACE_OVER_REASON } from './grace.ts';
import type { ConnectionsEndpoint, Store } from '../ports.ts';

/**
 * The session's WebSocket connection over a call that may drop and come back (ConversationRelay's
 * `applicationReconnect`). What happens is decided by the turn ledger (`connect` and `disconnect` events in
 * engine/ledger/decide.ts); this module only gathers what the decision needs and carries out its verdict.
 */
export type LedgerAndEnd = Pick<Store, 'readLedger' | 'compareAndSetLedger' | 'endSession'>;
export type ConnectionStore = LedgerAndEnd & Pick<Store, 'bindConnection' | 'pointConnection'>;

export interface ConnectionDeps {
  store: ConnectionStore;
  /** Whether API Gateway no longer has a connection (GetConnection answers 410). Without it, assume it is alive. */
  connectionGone?: ((connectionId: string, endpoint: ConnectionsEndpoint) => Promise<boolean>) | undefined;
  log: AppLogger;
}

export type ReconnectOutcome =
  | { accepted: true; gen: number; retired?: string | undefined }
  | { accepted: false; reason: 'unknown' | 'ended' | 'not-reconnectable' | 'grace-over' | 'in-use' };

/** The call's first connection has just bound the session: the ledger records it (generation 1) with its grace. */
export async function recordFirstConnection(deps: Pick<ConnectionDeps, 'log'> & { store: LedgerAndEnd }, sessionId: string, connectionId: string, at: number, graceMs: number): Promise<void> {
  try {
    // A session that was `created` until now has no ledger yet: decide from the empty one and save the read (the
    // compare-and-set still checks, and a lost race reads and decides again).
    await applyToLedger(deps.store, sessionId, { type: 'connect', connectionId, at, bound: true, graceMs }, { ledger: emptyLedger(), status: 'connected' });
  } catch (err) {
    // The call goes on; without the record a drop ends it rather than waiting for a reconnect.
    deps.log.error('connection not recorded in the turn ledger; a drop will end the call', { error: err as Error });
  }
}

/**
 * A signed $connect for a session that is no longer `created`: a reconnect. Accepted within the grace of the
 * dropped connection (or when API Gateway says the current connection is gone before its $disconnect landed);
 * the new connection then gets its pointer. After the grace the session ends.
 */
export async function reconnect(deps: ConnectionDeps, sessionId: string, connectionId: string, at: number, endpoint: ConnectionsEndpoint): Promise<ReconnectOutcome> {
  const { store, log } = deps;
  const read = await store.readLedger(sessionId);
  if (!read) return { accepted: false, reason: 'unknown' };
  if (read.status === 'ended') return { accepted: false, reason: 'ended' };
  const current = read.ledger.connection;
  let previousGone = false;
  if (current && current.state === 'connected' && current.id !== connectionId && current.graceMs > 0 && deps.connectionGone) {
    previousGone = await deps.connectionGone(current.id, endpoint).catch((err: unknown) => {
      log.warn('could not ask API Gateway about the previous connection; treating it as alive', { error: err as Error });
      return false;
    });
  }
  const { verdict } = await applyToLedger(store, sessionId, { type: 'connect', connectionId, at, bound: false, graceMs: 0, previousGone }, read);
  switch (verdict.type) {
    case 'connected':
    case 'reconnected':
      // Written after the ledger: a pointer never leads frames to a session that refused their connection.
      await store.pointConnection(connectionId, sessionId);
      return { accepted: true, gen: verdict.gen, ...(verdict.type === 'reconnected' ? { retired: verdict.retired } : {}) };
    case 'connect-refused':
      if (verdict.reason === 'grace-over') {
        await store.endSession(sessionId, GRACE_OVER_REASON).catch((err: unknown) => log.error('session end not saved', { error: err as Error }));
      }
      return { accepted: false, reason: verdict.reason };
    default:
      throw new Error(`unexpected connect verdict ${verdict.type}`);
  }
}

export type DisconnectOutcome = { type: 'held'; graceUntil: number; gen: number } | { type: 'ended' } | { type: 'stale' };

/**
 * $disconnect of a connection: a call that reconnects is held for its grace (a reply streaming to it stops);
 * one that does not is ended; a connection already replaced changes nothing.
 */
export async function disconnected(deps: { store: LedgerAndEnd }, sessionId: string, connectionId: string, at: number, reason: string): Promise<DisconnectOutcome> {
  const { verdict } = await applyToLedger(deps.store, sessionId, { type: 'disconnect', connectionId, at });
  switch (verdict.type) {
    case 'disconnected':
      return { type: 'held', graceUntil: verdict.graceUntil, gen: verdict.gen };
    case 'disconnect-stale':
      return { type: 'stale' };
    case 'call-over':
      await deps.store.endSession(sessionId, reason);
      return { type: 'ended' };
    default:
      throw new Error(`unexpected disconnect verdict ${verdict.type}`);
  }
}
