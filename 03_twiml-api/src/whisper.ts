import type { Session } from '../../layers/data/index.ts';
import { readHandoff } from './handoff.ts';

/** Said to the agent when nothing better is known (no session, no summary): the transfer still goes through. */
export const WHISPER_FALLBACK = 'Incoming transfer from the phone assistant.';

/** The longest summary read out: the caller is waiting on hold while the agent listens. */
export const MAX_WHISPER_CHARS = 600;

/**
 * What the agent hears before the caller is put through: where the call comes from and the handoff's summary (who
 * is calling, what they want, what was done), as the tool that ended the session wrote it.
 */
export function whisperText(session: Pick<Session, 'handoffData'> | undefined): string {
  const handoff = readHandoff(session?.handoffData);
  const summary = handoff.kind === 'live-agent' || handoff.kind === 'other' ? handoff.data.summary : undefined;
  if (typeof summary !== 'string' || summary.trim() === '') return WHISPER_FALLBACK;
  const text = summary.trim().replace(/\s+/g, ' ');
  const cut = text.length > MAX_WHISPER_CHARS ? `${text.slice(0, text.lastIndexOf(' ', MAX_WHISPER_CHARS))}...` : text;
  return `${WHISPER_FALLBACK} ${cut}`;
}
