import { SegmentedMessage } from 'sms-segments-calculator';

/**
 * The text an agent gets on a live-agent handoff: who is calling (name when on file, and the number to call back),
 * what they want and what was done (the handoff tool's summary). At most two SMS segments: one glance on a phone,
 * and a bounded cost per handoff. Built from the caller's number, their profile name and the summary only, so no
 * session id, URL or credential can end up in it.
 */
export const MAX_AGENT_SMS_SEGMENTS = 2;

/** Said instead of the summary when the handoff carried none. */
export const NO_SUMMARY = 'The assistant gave no summary.';

const MAX_NAME_CHARS = 60;
const MAX_USE_CASE_NAME_CHARS = 40;

export interface AgentSmsFacts {
  /** The use case's name, so an agent serving several lines knows which one. */
  useCaseName: string;
  callerNumber: string;
  callerName?: string | undefined;
  summary?: string | undefined;
}

export function agentSmsText(facts: AgentSmsFacts): string {
  const name = facts.callerName ? cut(oneLine(facts.callerName), MAX_NAME_CHARS) : '';
  const header = encoded(
    [
      `Transfer from the ${cut(oneLine(facts.useCaseName), MAX_USE_CASE_NAME_CHARS)} assistant.`,
      `Caller: ${name ? `${name}, ` : ''}${oneLine(facts.callerNumber)}`,
    ].join('\n'),
  );
  const summary = facts.summary ? encoded(redactLongNumbers(oneLine(facts.summary))) : '';
  const full = `${header}\n${summary || NO_SUMMARY}`;
  const message = new SegmentedMessage(full, 'auto');
  if (message.segmentsCount <= MAX_AGENT_SMS_SEGMENTS) return full;
  // What the first two segments hold (the library packs them as Twilio does), less room for "...", back to a word.
  const fitting = message.segments
    .slice(0, MAX_AGENT_SMS_SEGMENTS)
    .flatMap((segment) => [...segment])
    .map((part: { raw?: unknown }) => (typeof part.raw === 'string' ? part.raw : ''))
    .join('');
  const room = [...fitting.slice(header.length + 1)].slice(0, -3).join('');
  let words = summary.slice(0, room.length + 1).split(' ').slice(0, -1);
  // Checked, not assumed: a word boundary can still land an extended character across a segment.
  while (words.length > 0 && smsSegments(`${header}\n${words.join(' ')}...`) > MAX_AGENT_SMS_SEGMENTS) words = words.slice(0, -1);
  return `${header}\n${words.length > 0 ? `${words.join(' ')}...` : NO_SUMMARY}`;
}

/** How many SMS segments Twilio bills for a body (the encoding decides: GSM-7 or UCS-2). */
export function smsSegments(body: string): number {
  return new SegmentedMessage(body, 'auto').segmentsCount;
}

/**
 * Typographic quotes, dashes and the like replaced by their GSM-7 look-alikes (Twilio's smart-encoding table):
 * one curly quote from the LLM would otherwise switch the whole text to UCS-2 and more than halve what fits.
 */
function encoded(text: string): string {
  return new SegmentedMessage(text, 'auto', true).graphemes.join('');
}

function oneLine(text: string): string {
  return text.replace(/[\s\u0000-\u001F\u007F-\u009F]+/g, ' ').trim();
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3).trimEnd()}...`;
}

/**
 * A run of 12 or more digits (spaces and dashes allowed between them) is a card or account number a caller read
 * out, not something to leave on a phone's lock screen. Phone numbers (at most 15 digits, written with a `+`)
 * stay: the agent needs them.
 */
function redactLongNumbers(text: string): string {
  return text.replace(/(?<![+\d])\d(?:[ -]?\d){11,}/g, '[number removed]');
}
