import { fileURLToPath } from 'node:url';
import type OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ChatCompletionRequestSchema,
  createScriptedResponder,
  findOfflineScriptFiles,
  loadOfflineScripts,
  NO_SCRIPT_REPLY,
  OFFLINE_MODEL_TIMING,
  OfflineScriptSchema,
  startOfflineModel,
  type ChatCompletionRequest,
  type OfflineScript,
  type OfflineScriptInput,
  type Reply,
  type Responder,
} from '../../dev/llm/index.ts';
import { clientFor, track } from './support.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/use-cases', import.meta.url));
const SYSTEM = { role: 'system', content: 'You are the leasing assistant for Parkview Apartments in Missoula.' } as const;
const tool = (name: string) => ({ type: 'function' as const, function: { name, parameters: { type: 'object', properties: {} } } });
const APARTMENT_TOOLS = ['get_apartment_info', 'check_availability', 'schedule_tour', 'live_agent_handoff'].map(tool);

type Message = ChatCompletionRequest['messages'][number];

function request(messages: Message[], extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest {
  return ChatCompletionRequestSchema.parse({ model: 'offline-demo', messages, tools: APARTMENT_TOOLS, ...extra });
}

/** A history turn in which the model called one tool and got `result` back. */
function toolRound(id: string, name: string, args: unknown, result: unknown): Message[] {
  return [
    { role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name, arguments: JSON.stringify(args) } }] },
    { role: 'tool', tool_call_id: id, content: JSON.stringify(result) },
  ];
}

function argsOf(reply: Reply, i = 0): unknown {
  const call = reply.toolCalls?.[i];
  return typeof call?.arguments === 'string' ? JSON.parse(call.arguments) : call?.arguments;
}

let respond: Responder;
let scripts: OfflineScript[];
beforeAll(async () => {
  scripts = await loadOfflineScripts(await findOfflineScriptFiles(FIXTURES));
  respond = createScriptedResponder(scripts);
});
const ask = async (messages: Message[], extra: Partial<ChatCompletionRequest> = {}) => respond(request(messages, extra));

describe('offline model: choosing the script and the rule', () => {
  it('uses the script whose match fits the system prompt, and says so plainly when none does', async () => {
    const chooser = await ask([{ role: 'system', content: 'This demo line lets you choose a use case.' }, { role: 'user', content: 'apartments please' }], {
      tools: [tool('switch_use_case')],
    });
    expect(chooser.text).toBe('Switching you to the apartment demo.');
    expect(chooser.toolCalls?.map((c) => c.name)).toEqual(['switch_use_case']);

    const none = await ask([{ role: 'system', content: 'A pizza shop.' }, { role: 'user', content: 'a tour of the studio' }]);
    expect(none).toEqual({ text: NO_SCRIPT_REPLY });
  });

  it('matches the latest user message case-insensitively and puts named captures into tool arguments', async () => {
    const reply = await ask([SYSTEM, { role: 'user', content: 'Hi there' }, { role: 'assistant', content: 'Hello!' }, { role: 'user', content: 'Can I get a TOUR of the Two-Bedroom?' }]);
    expect(reply.text).toBe('Let me check the tour times.');
    expect(reply.toolCalls).toHaveLength(1);
    expect(reply.toolCalls![0]!.name).toBe('check_availability');
    expect(argsOf(reply)).toEqual({ layout: 'Two-Bedroom', tourType: 'in-person' });
  });

  it('takes the first rule that fits, in order', async () => {
    // "tour" without a layout: the more specific tour rule does not fit, the next one does.
    expect((await ask([SYSTEM, { role: 'user', content: 'I want a tour' }])).text).toBe(
      'Happy to set up a tour. Which layout would you like to see?',
    );
    const info = await ask([SYSTEM, { role: 'user', content: 'what about the studio' }]);
    expect(info.text).toBeUndefined();
    expect(info.toolCalls!.map((c) => [c.name, argsOf(info)])).toEqual([['get_apartment_info', { layout: 'studio' }]]);
  });

  it('fires a once rule only once in a conversation', async () => {
    const first = await ask([SYSTEM, { role: 'user', content: 'hello' }]);
    expect(first.text).toContain('thanks for calling Parkview Apartments');
    const again = await ask([SYSTEM, { role: 'user', content: 'hello' }, { role: 'assistant', content: first.text! }, { role: 'user', content: 'hello' }]);
    expect(again.text).not.toContain('thanks for calling');
    expect(again.text).toContain('offline demo model');
  });

  it('falls back to saying it is the offline demo model and what it understands', async () => {
    const reply = await ask([SYSTEM, { role: 'user', content: 'What is the meaning of life?' }]);
    expect(reply.toolCalls).toBeUndefined();
    expect(reply.text).toBe(
      'Sorry, I\'m the offline demo model, so I only follow a short script and didn\'t catch that. You could say: "tell me about the two-bedroom", "I\'d like a tour of the studio", "book it" or "talk to a person".',
    );
  });
});

describe('offline model: tool results', () => {
  it('templates fields of the result by dotted path, with defaults for missing ones', async () => {
    const history: Message[] = [SYSTEM, { role: 'user', content: 'the studio' }];
    const full = await ask([
      ...history,
      ...toolRound('c1', 'get_apartment_info', { layout: 'studio' }, { layout: 'Studio', squareFeet: 450, rent: 1050, features: ['1 bathroom', 'open kitchen', 'private balcony'] }),
    ]);
    expect(full.text).toBe(
      'The Studio is 450 square feet and rents for 1050 dollars a month. It has 1 bathroom, open kitchen and private balcony. Would you like a tour?',
    );
    expect(full.toolCalls).toBeUndefined();

    const sparse = await ask([...history, ...toolRound('c1', 'get_apartment_info', { layout: 'studio' }, { layout: 'Studio' })]);
    expect(sparse.text).toBe('The Studio is  square feet and rents for  dollars a month. It has the usual features. Would you like a tour?');
  });

  it('branches on `has` and reads array elements and the call arguments', async () => {
    const history: Message[] = [SYSTEM, { role: 'user', content: 'tour of the one-bedroom' }];
    const open = await ask([
      ...history,
      ...toolRound('c1', 'check_availability', { layout: 'one-bedroom' }, { layout: 'one-bedroom', slots: [{ date: 'Friday', time: '10:00 AM' }, { date: 'Saturday', time: '9:00 AM' }] }),
    ]);
    expect(open.text).toBe('The first open slot is Friday at 10:00 AM. Shall I book it?');

    const none = await ask([...history, ...toolRound('c1', 'check_availability', { layout: 'one-bedroom' }, { layout: 'one-bedroom', slots: [] })]);
    expect(none.text).toBe('Sorry, there are no open tour times for the one-bedroom this week.');
  });

  it('reads earlier results of the conversation into a later tool call', async () => {
    const slots = { layout: 'two-bedroom', slots: [{ date: '2026-12-04', time: '2:30 PM', tourType: 'self-guided' }] };
    const messages: Message[] = [
      SYSTEM,
      { role: 'user', content: 'a tour of the two-bedroom' },
      ...toolRound('c1', 'check_availability', { layout: 'two-bedroom' }, slots),
      { role: 'assistant', content: 'The first open slot is 2026-12-04 at 2:30 PM. Shall I book it?' },
      { role: 'user', content: 'Yes please.' },
    ];
    const book = await ask(messages);
    expect(book.toolCalls!.map((c) => c.name)).toEqual(['schedule_tour']);
    expect(argsOf(book)).toEqual({ layout: 'two-bedroom', date: '2026-12-04', time: '2:30 PM', tourType: 'self-guided' });

    const done = await ask([...messages, ...toolRound('c2', 'schedule_tour', argsOf(book), { date: 'December 4', time: '2:30 PM' })]);
    expect(done.text).toBe("You're booked for December 4 at 2:30 PM. Is there anything else?");

    // Without an earlier availability check, "yes" books nothing.
    const bare = await ask([SYSTEM, { role: 'user', content: 'yes' }]);
    expect(bare.toolCalls).toBeUndefined();
  });

  it('answers a tool result no rule covers with the fallback for tool results', async () => {
    const reply = await ask([SYSTEM, { role: 'user', content: 'agent' }, ...toolRound('c1', 'live_agent_handoff', { reason: 'x' }, { ok: true })]);
    expect(reply).toEqual({ text: "That's done." });
  });

  it('never loops: the same call is not repeated for one caller message, and tool rounds are capped', async () => {
    const loopy = OfflineScriptSchema.parse({
      name: 'loopy',
      match: { systemPromptIncludes: 'loop test' },
      maxToolRoundsPerTurn: 2,
      rules: [
        { when: { user: 'go' }, call: [{ tool: 'step', args: { n: 1 } }] },
        { when: { toolResult: 'step' }, call: [{ tool: 'step', args: { n: '{{result.next}}' } }] },
      ],
      fallback: { afterToolResult: 'Stopped after {{args.n}}.' },
    } satisfies OfflineScriptInput);
    const loop = createScriptedResponder([{ ...loopy, file: 'inline' }]);
    const base: Message[] = [{ role: 'system', content: 'loop test' }, { role: 'user', content: 'go' }];
    const tools = [tool('step')];

    const same = await loop(request([...base, ...toolRound('a', 'step', { n: 1 }, { next: 1 })], { tools }));
    expect(same).toEqual({ text: 'Stopped after 1.' });

    const second = await loop(request([...base, ...toolRound('a', 'step', { n: 1 }, { next: 2 })], { tools }));
    expect(second.toolCalls!.map((c) => argsOf({ toolCalls: [c] }))).toEqual([{ n: 2 }]);
    const capped = await loop(
      request([...base, ...toolRound('a', 'step', { n: 1 }, { next: 2 }), ...toolRound('b', 'step', { n: 2 }, { next: 3 })], { tools }),
    );
    expect(capped).toEqual({ text: 'Stopped after 2.' });
  });
});

describe('offline model: tools offered and tool_choice', () => {
  it('never calls a tool the request does not offer; the rule is skipped instead', async () => {
    const withoutHandoff = APARTMENT_TOOLS.filter((t) => t.function.name !== 'live_agent_handoff');
    const reply = await ask([SYSTEM, { role: 'user', content: 'let me talk to a person' }], { tools: withoutHandoff });
    expect(reply.toolCalls).toBeUndefined();
    expect(reply.text).toContain('offline demo model');

    const noTools = await ask([SYSTEM, { role: 'user', content: 'tell me about the studio' }], { tools: undefined });
    expect(noTools.toolCalls).toBeUndefined();
    const choiceNone = await ask([SYSTEM, { role: 'user', content: 'tell me about the studio' }], { tool_choice: 'none' });
    expect(choiceNone.toolCalls).toBeUndefined();
  });

  it('with a forced tool_choice calls exactly that tool, with arguments from the rule that calls it', async () => {
    const forced = (name: string) => ({ tool_choice: { type: 'function' as const, function: { name } } });

    const fitting = await ask([SYSTEM, { role: 'user', content: 'a tour of the studio' }], forced('check_availability'));
    expect(fitting.text).toBeUndefined();
    expect(fitting.toolCalls!.map((c) => c.name)).toEqual(['check_availability']);
    expect(argsOf(fitting)).toEqual({ layout: 'studio', tourType: 'in-person' });

    // A keypad press: no rule fits the words, so the calling rule's arguments are filled as far as they can be.
    const keypad = await ask([SYSTEM, { role: 'user', content: 'The caller pressed 0.' }], forced('live_agent_handoff'));
    expect(keypad.toolCalls!.map((c) => c.name)).toEqual(['live_agent_handoff']);
    expect(argsOf(keypad)).toEqual({ reason: 'caller asked for a person: The caller pressed 0.' });
    const uncaptured = await ask([SYSTEM, { role: 'user', content: 'The caller pressed 2.' }], forced('get_apartment_info'));
    expect(argsOf(uncaptured)).toEqual({});

    // A tool no rule calls: empty arguments.
    const unscripted = await ask([SYSTEM, { role: 'user', content: 'pressed 9' }], {
      tools: [...APARTMENT_TOOLS, tool('repeat_menu')],
      ...forced('repeat_menu'),
    });
    expect(unscripted.toolCalls!.map((c) => [c.name, argsOf(unscripted)])).toEqual([['repeat_menu', {}]]);
  });

  it('is deterministic: the same conversation gets the same reply, tool-call ids included', async () => {
    const messages: Message[] = [SYSTEM, { role: 'user', content: 'tour of the three-bedroom' }];
    const a = await ask(messages);
    const b = await ask(structuredClone(messages));
    expect(b).toEqual(a);
    expect(a.toolCalls![0]!.id).toMatch(/^call_[0-9a-f]{24}$/);
    const other = await ask([SYSTEM, { role: 'user', content: 'tour of the two-bedroom' }]);
    expect(other.toolCalls![0]!.id).not.toBe(a.toolCalls![0]!.id);
  });
});

describe('offline model served over the OpenAI protocol', () => {
  it('walks a tool round trip end to end through the real SDK', async () => {
    const model = track(await startOfflineModel({ rootDir: FIXTURES, timing: { firstTokenMs: 0, tokenGapMs: 0 } }));
    expect(model.scriptFiles.map((f) => f.slice(FIXTURES.length + 1))).toEqual([
      '05_use-case-default/offline-model.json',
      '06_use-case-apartment-search/offline-model.json',
    ]);
    const client = clientFor(model);
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [SYSTEM, { role: 'user', content: 'Tell me about the one-bedroom.' }];

    const first = await client.chat.completions.stream({ model: 'offline-demo', messages, tools: APARTMENT_TOOLS, stream: true }).finalMessage();
    expect(first.tool_calls).toHaveLength(1);
    const call = first.tool_calls![0]!;
    if (call.type !== 'function') throw new Error('expected a function call');
    expect([call.function.name, JSON.parse(call.function.arguments)]).toEqual(['get_apartment_info', { layout: 'one-bedroom' }]);

    messages.push(first, { role: 'tool', tool_call_id: call.id, content: JSON.stringify({ layout: 'One-bedroom', squareFeet: 600, rent: 1200, features: ['walk-in closet'] }) });
    const second = await client.chat.completions.create({ model: 'offline-demo', messages, tools: APARTMENT_TOOLS, stream: true });
    let text = '';
    for await (const chunk of second) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('The One-bedroom is 600 square feet and rents for 1200 dollars a month. It has walk-in closet. Would you like a tour?');
    expect(model.requests.map((r) => r.tokensSent)).toEqual([expect.any(Number), 22]);
  });

  it('streams at a realistic pace unless told otherwise', async () => {
    expect(OFFLINE_MODEL_TIMING).toEqual({ firstTokenMs: 250, tokenGapMs: 30 });
    const model = track(await startOfflineModel({ rootDir: FIXTURES, timing: { tokenGapMs: 5 } }));
    await clientFor(model).chat.completions.create({ model: 'offline-demo', messages: [SYSTEM, { role: 'user', content: 'hello' }] });
    const record = model.requests[0]!;
    expect(record.firstTokenSentAt! - record.receivedAt).toBeGreaterThanOrEqual(245);
  });
});
