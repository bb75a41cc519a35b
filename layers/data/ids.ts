import { monotonicFactory } from 'ulid';

/**
 * Sort keys for chat messages. A ULID is time-ordered and carries 80 random bits, so ids from different
 * containers never collide; the monotonic factory makes ids minted by one writer within the same millisecond
 * strictly increasing, so history reads back in write order. (The original used Date.now() and overwrote
 * messages written in the same millisecond.)
 */
export type IdClock = () => number;

// Date.now read at each mint, not captured when the factory is made: a test that stops wall time stops it here too.
export function createIdFactory(clock: IdClock = () => Date.now()): () => string {
  const next = monotonicFactory();
  return () => next(clock());
}

/**
 * Every chat message id a process mints comes from this one factory, whichever module writes the message (a turn's
 * reply, a silence reprompt, a resumed call's copies): ids minted by one container then sort in the order they
 * were minted. Two factories minting in the same millisecond would order their ids by random bits, and a reprompt
 * could read back before the reply it follows.
 */
export const newMessageId = createIdFactory();

/** Session ids travel in the WebSocket URL; ULIDs are URL-safe and sort by creation time. */
export const newSessionId = createIdFactory();
