import { monotonicFactory } from 'ulid';

/**
 * Sort keys for chat messages. A ULID is time-ordered and carries 80 random bits, so ids from different
 * containers never collide; the monotonic factory makes ids minted by one writer within the same millisecond
 * strictly increasing, so history reads back in write order. (The original used Date.now() and overwrote
 * messages written in the same millisecond.)
 */
export type IdClock = () => number;

export function createIdFactory(clock: IdClock = Date.now): () => string {
  const next = monotonicFactory();
  return () => next(clock());
}

export const newMessageId = createIdFactory();

/** Session ids travel in the WebSocket URL; ULIDs are URL-safe and sort by creation time. */
export const newSessionId = createIdFactory();
