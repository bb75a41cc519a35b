import { createHash } from 'node:crypto';
import type { Reply, Responder } from '../reply.ts';
import { messageText, type ChatCompletionRequest } from '../request-schema.ts';
import { callSignature, canonicalJson, momentAt, pastDecisionPoints, type Moment } from './conversation.ts';
import type { OfflineScript, OfflineScriptRule } from './script-schema.ts';
import { lookup, renderArgs, renderText, spokenList, type Bindings } from './templates.ts';

/**
 * The offline model: a development stand-in that answers from a per-use-case script instead of thinking. It picks
 * the script whose `match` fits the system prompt, then the first rule that fits the latest message, and never
 * calls a tool the request does not offer. It is deterministic: the same conversation always gets the same reply,
 * tool-call ids included, because everything (even which `once` rules have fired) is read from the messages.
 */

export const NO_SCRIPT_REPLY =
  "I'm the offline demo model, and no offline script matches this use case, so this is all I can say. " +
  'Add an offline-model.json to the use case, or set an OpenAI key to talk to a real model.';

export const DEFAULT_AFTER_TOOL_RESULT = "All right, that's done.";

interface Choice {
  ruleIndex?: number;
  say?: string;
  calls: { name: string; args: Record<string, unknown> }[];
  /** The slots after this reply (a rule's `set` applied). */
  slots: Slots;
}

type Slots = Record<string, unknown>;

type Mode = 'auto' | 'none' | 'required';

export function createScriptedResponder(scripts: OfflineScript[]): Responder {
  return (request) => {
    const script = scriptFor(scripts, request);
    if (!script) return { text: NO_SCRIPT_REPLY };
    return replyFromScript(script, request);
  };
}

export function scriptFor(scripts: OfflineScript[], request: ChatCompletionRequest): OfflineScript | undefined {
  const system = request.messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => messageText(m.content).toLowerCase())
    .join('\n');
  return scripts.find((s) => s.match.systemPromptIncludes.every((text) => system.includes(text.toLowerCase())));
}

function replyFromScript(script: OfflineScript, request: ChatCompletionRequest): Reply {
  const { messages } = request;
  const offered = new Set((request.tools ?? []).map((t) => t.function.name));

  // `once` and slots are judged by replaying the earlier turns through the same choice, so no state lives in the
  // server and a replayed conversation always reads the same.
  const fired = new Set<number>();
  let slots: Slots = {};
  for (const at of pastDecisionPoints(messages)) {
    const earlier = choose(script, momentAt(messages, at), fired, offered, 'auto', slots);
    if (earlier.ruleIndex !== undefined && script.rules[earlier.ruleIndex]!.once) fired.add(earlier.ruleIndex);
    slots = earlier.slots;
  }

  const moment = momentAt(messages, messages.length - 1);
  const toolChoice = request.tool_choice;
  const choice =
    typeof toolChoice === 'object'
      ? forcedCall(script, moment, fired, toolChoice.function.name, slots)
      : choose(script, moment, fired, toolChoice === 'none' ? new Set() : offered, toolChoice ?? 'auto', slots);

  const reply: Reply = {};
  if (choice.say) reply.text = choice.say;
  if (choice.calls.length > 0) {
    const conversation = createHash('sha256').update(canonicalJson(messages)).digest('hex');
    reply.toolCalls = choice.calls.map((call, i) => ({
      id: `call_${createHash('sha256').update(`${conversation}:${i}:${call.name}`).digest('hex').slice(0, 24)}`,
      name: call.name,
      arguments: call.args,
    }));
  }
  return reply;
}

function choose(script: OfflineScript, moment: Moment, fired: Set<number>, offered: Set<string>, mode: Mode, slots: Slots): Choice {
  for (const [i, rule] of script.rules.entries()) {
    if (rule.once && fired.has(i)) continue;
    const calls = rule.call ?? [];
    if (mode === 'required' && calls.length === 0) continue;
    // A rule that needs a tool this request does not offer does not apply; the next one may.
    if (calls.some((c) => !offered.has(c.tool))) continue;
    if (calls.length > 0 && moment.toolRoundsSinceUser >= script.maxToolRoundsPerTurn) continue;
    const matched = bindingsFor(rule, moment, slots);
    if (!matched) continue;
    const bindings = withSlotsSet(rule, matched);
    const rendered = calls.map((c) => ({ name: c.tool, args: renderArgs(c.args, bindings) }));
    // The loop guard: the same call with the same arguments is never made twice for one caller message.
    if (rendered.some((c) => moment.callsSinceUser.has(callSignature(c.name, c.args)))) continue;
    return { ruleIndex: i, ...(rule.say ? { say: renderText(rule.say, bindings) } : {}), calls: rendered, slots: bindings.slots ?? slots };
  }
  if (mode === 'required') {
    const first = [...offered][0];
    if (first) return { calls: [{ name: first, args: {} }], slots };
  }
  return fallback(script, moment, slots);
}

/** The bindings with the rule's `set` applied: new values rendered from the moment, `null` forgetting one. */
function withSlotsSet(rule: OfflineScriptRule, bindings: Bindings): Bindings {
  if (!rule.set) return bindings;
  const slots: Slots = { ...bindings.slots };
  for (const [name, template] of Object.entries(rule.set)) {
    if (template === null) {
      delete slots[name];
      continue;
    }
    const value = renderArgs({ [name]: template }, bindings)[name];
    if (value === undefined) delete slots[name];
    else slots[name] = value;
  }
  return { ...bindings, slots };
}

/** A forced tool_choice (how keypad presses run a tool): that tool, with arguments from the rule that calls it. */
function forcedCall(script: OfflineScript, moment: Moment, fired: Set<number>, name: string, slots: Slots): Choice {
  const callers = script.rules
    .map((rule, i) => ({ rule, i, call: rule.call?.find((c) => c.tool === name) }))
    .filter((c) => c.call !== undefined);
  for (const { rule, i, call } of callers) {
    if (rule.once && fired.has(i)) continue;
    const matched = bindingsFor(rule, moment, slots);
    if (matched) {
      const bindings = withSlotsSet(rule, matched);
      return { calls: [{ name, args: renderArgs(call!.args, bindings) }], slots: bindings.slots ?? slots };
    }
  }
  // No rule fits the moment: take the first rule's arguments with whatever can be filled; the rest are dropped.
  const first = callers[0]?.call;
  return { calls: [{ name, args: first ? renderArgs(first.args, looseBindings(moment, slots)) : {} }], slots };
}

/** The rule's bindings when it applies to this moment, else undefined. */
function bindingsFor(rule: OfflineScriptRule, moment: Moment, slots: Slots): Bindings | undefined {
  const { when } = rule;
  const bindings = baseBindings(moment, slots);
  if (when.user !== undefined) {
    if (moment.latestUser === undefined) return undefined;
    const match = when.user.exec(moment.latestUser);
    if (!match) return undefined;
    bindings.match = { ...Object.fromEntries(match.map((v, i) => [String(i), v])), ...match.groups };
  }
  if (when.toolResult === undefined) {
    // A rule about the caller's words answers the caller, not a tool result that follows them.
    if (moment.kind !== 'user') return undefined;
    return satisfies(when.has, bindings) ? bindings : undefined;
  }
  if (moment.kind !== 'toolResult') return undefined;
  // With parallel calls, the first result of that tool that satisfies `has` is the one the reply reads.
  return moment.toolResults
    .filter((r) => r.name === when.toolResult)
    .map((r): Bindings => ({ ...bindings, tool: r.name, result: r.result, args: r.args }))
    .find((b) => satisfies(when.has, b));
}

function baseBindings(moment: Moment, slots: Slots): Bindings {
  return { ...(moment.latestUser !== undefined ? { user: moment.latestUser } : {}), results: moment.latestResults, slots };
}

function looseBindings(moment: Moment, slots: Slots): Bindings {
  const first = moment.toolResults[0];
  return { ...baseBindings(moment, slots), ...(first ? { tool: first.name, result: first.result, args: first.args } : {}) };
}

function satisfies(has: string[] | undefined, bindings: Bindings): boolean {
  return (has ?? []).every((path) => holdsSomething(lookup(bindings, path)));
}

function fallback(script: OfflineScript, moment: Moment, slots: Slots): Choice {
  if (moment.kind === 'toolResult') {
    return { say: renderText(script.fallback.afterToolResult ?? DEFAULT_AFTER_TOOL_RESULT, looseBindings(moment, slots)), calls: [], slots };
  }
  const say = script.fallback.say ?? defaultFallback(script);
  return { say: renderText(say, looseBindings(moment, slots)), calls: [], slots };
}

function defaultFallback(script: OfflineScript): string {
  const intro = "Sorry, I'm the offline demo model, so I only follow a short script and didn't catch that.";
  if (script.examples.length === 0) return intro;
  return `${intro} You could say: ${spokenList(script.examples.map((e) => `"${e}"`), 'or')}.`;
}

function holdsSomething(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  return true;
}
