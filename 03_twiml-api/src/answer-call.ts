import * as z from 'zod/mini';
import { $ZodError } from 'zod/v4/core';
import '../../layers/config/zod-locale.ts';
import {
  appendMessages,
  rememberLastCall,
  claimCallSession,
  ConditionFailedError,
  createSession,
  getProfile,
  getSession,
  getUseCase,
  listUseCases,
  NotFoundError,
  type CallerProfile,
  type StoredUseCase,
  type Table,
} from '../../layers/data/index.ts';
import type { AppLogger } from '../../layers/observability/logger.ts';
import type { ConversationRelaySettings } from '../../layers/data/relay-settings.ts';
import { placeholdersIn, renderPrompt, type DemoEntry, type PromptContext } from '../../layers/prompts/render.ts';
import { chooseUseCase } from './choose-use-case.ts';
import { connectActionUrl, sessionWebSocketUrl } from './public-url.ts';
import { findResumable, type ResumedCall } from './resume.ts';
import { relayTwiml } from './twiml.ts';

/** The call webhook's parameters we use; Twilio sends many more, all kept out of the way. */
export const IncomingCallSchema = z.looseObject({
  CallSid: z.string().check(z.minLength(1)),
  AccountSid: z.optional(z.string().check(z.minLength(1))),
  From: z._default(z.string(), ''),
  To: z._default(z.string(), ''),
});
export type IncomingCall = z.infer<typeof IncomingCallSchema>;

export interface AnswerCallDeps {
  table: Table;
  websocketUrl: string;
  defaultUseCaseId: string;
  logger: AppLogger;
  now: () => Date;
  newSessionId: () => string;
}

export interface AnsweredCall {
  sessionId: string;
  useCaseId: string;
  twiml: string;
  /** Another webhook of the same CallSid came first: this one connects to its session. */
  replayed: boolean;
}

/**
 * Caller ID values that mean "withheld" (keypad spellings of ANONYMOUS, RESTRICTED, UNKNOWN, BLOCKED,
 * UNAVAILABLE): every such caller would otherwise share one profile.
 */
const WITHHELD_NUMBERS = new Set(['+266696687', '+7378742833', '+8656696', '+2562533', '+86282452253']);
const E164 = /^\+[1-9]\d{6,14}$/;

export function isProfileNumber(from: string): boolean {
  return E164.test(from) && !WITHHELD_NUMBERS.has(from);
}

/**
 * Who is calling, which use case answers, what the model is told, and what ConversationRelay is told: writes
 * the session and returns the TwiML that connects the call. Idempotent per CallSid: a webhook Twilio sends again
 * for the same call connects to the session the first one created. Throws on any failure; the handler turns that
 * into the spoken apology.
 */
export async function answerCall(deps: AnswerCallDeps, call: IncomingCall, publicBase: string, requestedUseCaseId?: string): Promise<AnsweredCall> {
  const profile = isProfileNumber(call.From) ? await getProfile(deps.table, call.From) : undefined;
  const useCase = requestedUseCaseId
    ? await requestedUseCase(deps.table, requestedUseCaseId)
    : await chooseUseCase(deps.table, profile, deps.defaultUseCaseId, deps.logger);
  const now = deps.now();
  const greetingTemplate = greetingTemplateOf(useCase, profile);
  const wantsDemos = placeholdersIn(`${useCase.promptTemplate}${greetingTemplate ?? ''}`).includes('demos');
  const demos = wantsDemos ? await availableDemos(deps, useCase) : [];
  const promptContext: PromptContext = {
    caller: callerFacts(call.From, profile),
    now,
    timeZone: useCase.timeZone,
    useCaseName: useCase.name,
    demos,
    custom: useCase.conversationRelay.customParameters ?? {},
  };
  const systemPrompt = renderPrompt(useCase.promptTemplate, promptContext);
  const greeting = greetingOf(useCase, profile, promptContext);
  const defaultLanguage = useCase.conversationRelay.language ?? useCase.conversationRelay.ttsLanguage;

  // A replayed webhook of the same call learns the first one's session here, and connects to it.
  const { sessionId, claimed } = await claimCallSession(deps.table, call.CallSid, deps.newSessionId(), now.getTime());
  let answering = useCase;
  let reused = false;
  const resumeWindow = isProfileNumber(call.From) ? useCase.continuity.resumeWindowMinutes : undefined;
  const resumed = claimed ? await resumable(deps, call.From, useCase.id, resumeWindow, now.getTime()) : undefined;
  // What the caller hears first: a dropped call picked up again says so, otherwise the greeting for this caller.
  const spokenGreeting = resumed && !reused ? resumed.greeting : greeting;
  // The greeting is the call's first assistant message, so the LLM knows what the caller has already been told.
  // Written alongside the session (call setup still waits one round trip), under a fixed id: a replayed webhook
  // cannot add a second one.
  // A resumed call's greeting closes the carried-over history instead (it is said after what came before).
  const greetingWritten = spokenGreeting && !resumed ? storeGreeting(deps.table, sessionId, spokenGreeting, now.getTime()) : undefined;
  // Awaited below; marked handled now, so a failed session write does not leave it rejected unobserved.
  void greetingWritten?.catch(() => undefined);
  try {
    await createSession(
      deps.table,
      {
        sessionId,
        callSid: call.CallSid,
        ...(call.AccountSid ? { accountSid: call.AccountSid } : {}),
        from: call.From,
        to: call.To,
        useCaseId: useCase.id,
        systemPrompt,
        tools: useCase.tools,
        dtmfMap: useCase.dtmfMap,
        llm: useCase.llm,
        filler: useCase.filler,
        timeZone: useCase.timeZone,
        // A session is held for a reconnect only when ConversationRelay is told to reconnect.
        ...(useCase.conversationRelay.applicationReconnect ? { reconnectGraceMs: useCase.continuity.reconnectGraceSeconds * 1000 } : {}),
        ...(useCase.continuity.silence ? { silence: useCase.continuity.silence } : {}),
        ...(useCase.preemption?.enabled ? { preemption: useCase.preemption } : {}),
        ...(defaultLanguage ? { defaultLanguage } : {}),
      },
      now.getTime(),
    );
  } catch (err) {
    if (!(err instanceof ConditionFailedError)) throw err;
    // Another webhook of this call wrote the session first; its use case is the one the caller will talk to.
    reused = true;
    const existing = await getSession(deps.table, sessionId);
    if (!existing) throw err;
    if (existing.useCaseId !== useCase.id) answering = await getUseCase(deps.table, existing.useCaseId);
  }
  await greetingWritten;
  if (!reused && resumeWindow) {
    await Promise.all([
      rememberLastCall(deps.table, call.From, useCase.id, sessionId, now.getTime()),
      resumed ? appendMessages(deps.table, sessionId, resumed.messages, now.getTime()) : undefined,
    ]);
    if (resumed) deps.logger.info('Caller called back after a dropped call; resuming it', { sessionId, previousSessionId: resumed.previousSessionId, messages: resumed.messages.length });
  }

  const twiml = relayTwiml({
    websocketUrl: sessionWebSocketUrl(deps.websocketUrl, sessionId),
    actionUrl: connectActionUrl(publicBase, sessionId),
    settings: withGreeting(answering, answering === useCase ? spokenGreeting : greetingOf(answering, profile, promptContext)),
    parameters: { sessionId },
  });
  return { sessionId, useCaseId: answering.id, twiml, replayed: !claimed || reused };
}

/** The greeting template for this caller: the known-caller one when their name is on file. */
function greetingTemplateOf(useCase: StoredUseCase, profile: CallerProfile | undefined): string | undefined {
  return (profile?.firstName && useCase.knownCallerGreeting) || useCase.conversationRelay.welcomeGreeting;
}

/** The greeting rendered like the prompt, for this use case. */
function greetingOf(useCase: StoredUseCase, profile: CallerProfile | undefined, context: PromptContext): string | undefined {
  const template = greetingTemplateOf(useCase, profile);
  return template && renderPrompt(template, { ...context, useCaseName: useCase.name, custom: useCase.conversationRelay.customParameters ?? {} });
}

function withGreeting(useCase: StoredUseCase, greeting: string | undefined): ConversationRelaySettings {
  // Preemption needs the transcript as it forms.
  const settings = useCase.preemption?.enabled ? { ...useCase.conversationRelay, partialPrompts: true } : useCase.conversationRelay;
  return greeting ? { ...settings, welcomeGreeting: greeting } : settings;
}

/** Sorts before every minted message id (ULIDs): the greeting comes first in the history, whenever it is read. */
export const GREETING_MESSAGE_ID = '0'.repeat(26);

async function storeGreeting(table: Table, sessionId: string, greeting: string, now: number): Promise<void> {
  try {
    await appendMessages(table, sessionId, [{ messageId: GREETING_MESSAGE_ID, role: 'assistant', content: greeting, turn: 0 }], now);
  } catch (err) {
    // A replayed webhook of this call: the first one stored the greeting.
    if (!(err instanceof ConditionFailedError)) throw err;
  }
}

/** A failed look-up of the previous call costs the caller only the resume, never the call. */
async function resumable(deps: AnswerCallDeps, phone: string, useCaseId: string, windowMinutes: number | undefined, now: number): Promise<ResumedCall | undefined> {
  try {
    return await findResumable(deps.table, phone, useCaseId, windowMinutes, now);
  } catch (err) {
    deps.logger.error('Could not look up the previous call; this one starts fresh', { error: err as Error });
    return undefined;
  }
}

/** A use case asked for by name (local development only): one that is not loaded is a mistake worth failing on. */
async function requestedUseCase(table: Table, id: string): Promise<StoredUseCase> {
  try {
    return await getUseCase(table, id);
  } catch (err) {
    if (err instanceof NotFoundError) throw new Error(`UseCaseId "${id}": no such use case is loaded`);
    throw err;
  }
}

function callerFacts(from: string, profile: CallerProfile | undefined) {
  return {
    ...(from ? { phone: from } : {}),
    ...(profile?.firstName ? { firstName: profile.firstName } : {}),
    ...(profile?.lastName ? { lastName: profile.lastName } : {}),
  };
}

/**
 * The demos the caller can pick from: every listed use case but the one answering. A malformed item elsewhere
 * in the index must not cost this caller their call, so only an outage propagates.
 */
async function availableDemos(deps: AnswerCallDeps, answering: StoredUseCase): Promise<DemoEntry[]> {
  try {
    const all = await listUseCases(deps.table);
    return all
      .filter((u) => u.listed && u.id !== answering.id)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(({ id, name, description }) => ({ id, name, description }));
  } catch (err) {
    if (!(err instanceof $ZodError)) throw err;
    deps.logger.error('A stored use case is malformed; the demo list is empty for this call', { error: err.message });
    return [];
  }
}
