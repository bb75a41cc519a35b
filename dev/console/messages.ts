import { z } from 'zod';
import type { CallEvent } from '../local/runtime.ts';
import type { CallSummary, Latency, TranscriptEntry } from './call-view.ts';

/**
 * The console page's socket vocabulary. The page places one call at a time and plays ConversationRelay's part in
 * it: it says what the caller said (`say`), pressed (`dtmf`) and heard before cutting in (`interrupt`).
 */
const E164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 number like +14065550123');

export const BrowserMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('dial'), from: E164, to: E164.default('+14065550199') }),
  z.object({ type: z.literal('say'), text: z.string().trim().min(1).max(2_000) }),
  z.object({ type: z.literal('dtmf'), digit: z.string().regex(/^[0-9*#]$/, 'one key: 0-9, * or #') }),
  z.object({ type: z.literal('interrupt'), heard: z.string().max(10_000), durationMs: z.number().int().min(0).max(3_600_000) }),
  z.object({ type: z.literal('hangup') }),
]);
export type BrowserMessage = z.infer<typeof BrowserMessageSchema>;

export type ServerMessage =
  | { type: 'calls'; calls: CallSummary[] }
  | { type: 'call'; event: CallEvent }
  | { type: 'update'; call: CallSummary; transcript: TranscriptEntry[]; latency: Latency }
  | { type: 'connected'; callSid: string; sessionId: string; greeting?: string | undefined; from: string }
  | { type: 'text'; token: string }
  | { type: 'reply-end' }
  | { type: 'play'; source: string }
  | { type: 'sendDigits'; digits: string }
  | { type: 'end'; handoffData?: string | undefined; next?: string | undefined }
  | { type: 'closed' }
  | { type: 'error'; message: string };
