import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChatCompletionRequestSchema,
  createScriptedResponder,
  OfflineScriptSchema,
  type ChatCompletionRequest,
  type OfflineScriptInput,
  type Reply,
} from '../../dev/llm/index.ts';
import { liveOfflineScripts } from '../../dev/llm/offline/script-files.ts';

type Message = ChatCompletionRequest['messages'][number];
const SYSTEM: Message = { role: 'system', content: "You take orders for Tony's Pizza." };
const tool = (name: string) => ({ type: 'function' as const, function: { name, parameters: { type: 'object', properties: {} } } });

/** A pizza order: capture, read back, confirm, then place; the order is remembered in slots between turns. */
const PIZZA: OfflineScriptInput = {
  name: 'Pizza',
  match: { systemPromptIncludes: "Tony's Pizza" },
  rules: [
    {
      id: 'order',
      when: { user: '\\b(?<qty>\\d+|one|two|three|a) (?<size>small|large)? ?(?<item>margherita|pepperoni)' },
      set: { quantity: '{{match.qty:number}}', item: '{{match.item}}', size: '{{match.size|medium}}' },
      say: 'That is {{slots.quantity}} {{slots.size}} {{slots.item}}. Shall I place the order?',
    },
    { id: 'toppings', when: { user: '\\bwith (?<toppings>.+)$' }, set: { toppings: '{{match.toppings:list}}' }, say: 'Adding {{slots.toppings}}.' },
    {
      id: 'confirm',
      when: { user: '\\b(yes|please do)\\b', has: ['slots.item', 'slots.quantity'] },
      call: [{ tool: 'place_order', args: { items: [{ name: '{{slots.item}}', quantity: '{{slots.quantity}}', toppings: '{{slots.toppings}}' }] } }],
    },
    { id: 'yes-without-order', when: { user: '\\byes\\b' }, say: 'What would you like to order?' },
    { id: 'placed', when: { toolResult: 'place_order', has: 'result.orderId' }, set: { item: null, quantity: null }, say: 'Order {{result.orderId}} is in: {{args.items.*.name}}.' },
  ],
};

const responder = () => createScriptedResponder([{ ...OfflineScriptSchema.parse(PIZZA), file: 'pizza.json' }]);

async function ask(messages: Message[]): Promise<Reply> {
  return responder()(ChatCompletionRequestSchema.parse({ model: 'offline-demo', messages: [SYSTEM, ...messages], tools: [tool('place_order')] }));
}

/** The conversation as the engine would send it next: the reply as the assistant's message. */
function answered(reply: Reply): Message[] {
  if (!reply.toolCalls?.length) return [{ role: 'assistant', content: reply.text ?? '' }];
  return [
    {
      role: 'assistant',
      content: reply.text ?? null,
      tool_calls: reply.toolCalls.map((c) => ({ id: c.id!, type: 'function' as const, function: { name: c.name, arguments: JSON.stringify(c.arguments) } })),
    },
  ];
}

const argsOf = (reply: Reply) => reply.toolCalls?.[0]?.arguments;

describe('offline model: typed captures and slots', () => {
  it('reads back what it understood, and calls the tool only once the caller confirms, with a number for "two"', async () => {
    const history: Message[] = [{ role: 'user', content: 'I want two large margherita' }];
    const readBack = await ask(history);
    expect(readBack.text).toBe('That is 2 large margherita. Shall I place the order?');
    expect(readBack.toolCalls).toBeUndefined();

    history.push(...answered(readBack), { role: 'user', content: 'yes please do' });
    const placing = await ask(history);
    expect(placing.toolCalls?.map((c) => c.name)).toEqual(['place_order']);
    expect(argsOf(placing)).toEqual({ items: [{ name: 'margherita', quantity: 2 }] });

    history.push(...answered(placing), { role: 'tool', tool_call_id: placing.toolCalls![0]!.id!, content: JSON.stringify({ orderId: 'A17' }) });
    const placed = await ask(history);
    expect(placed.text).toBe('Order A17 is in: margherita.');

    // Placing the order forgot it: another "yes" does not order twice.
    history.push(...answered(placed), { role: 'user', content: 'yes' });
    expect(await ask(history)).toEqual({ text: 'What would you like to order?' });
  });

  it('turns a captured "2" into the number 2 and a spoken list into a list', async () => {
    const history: Message[] = [{ role: 'user', content: '2 pepperoni' }];
    const first = await ask(history);
    history.push(...answered(first), { role: 'user', content: 'with olives, onions and basil' });
    const second = await ask(history);
    expect(second.text).toBe('Adding olives, onions and basil.');
    history.push(...answered(second), { role: 'user', content: 'yes' });
    expect(argsOf(await ask(history))).toEqual({ items: [{ name: 'pepperoni', quantity: 2, toppings: ['olives', 'onions', 'basil'] }] });
  });

  it('refuses an unknown placeholder type when the script loads', () => {
    const bad = { ...PIZZA, rules: [{ when: { user: '(?<n>\\d+)' }, say: '{{match.n:numbr}}' }] };
    const parsed = OfflineScriptSchema.safeParse(bad);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe('{{match.n:numbr}}: unknown type "numbr"; use one of number, integer, boolean, list, string, lowercase');
  });
});

describe('offline scripts follow edits while the app runs', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('uses an edited script on the next reply, and keeps the last good one when an edit does not validate', async () => {
    dir = await mkdtemp(join(tmpdir(), 'offline-reload-'));
    const file = join(dir, '07_use-case-pizza', 'offline-model.json');
    await mkdir(join(dir, '07_use-case-pizza'));
    const script = (say: string) => JSON.stringify({ name: 'Pizza', match: { systemPromptIncludes: 'pizza' }, rules: [{ when: { user: 'hours' }, say }] });
    await writeFile(file, script('We open at noon.'));
    const events: string[] = [];
    const live = await liveOfflineScripts(dir, (e) => events.push('error' in e ? `error: ${e.error.message}` : `reloaded ${e.reloaded.length}`));
    const reply = async () => createScriptedResponder(await live.current())(
      ChatCompletionRequestSchema.parse({ model: 'm', messages: [{ role: 'system', content: 'pizza' }, { role: 'user', content: 'hours?' }] }),
    );

    expect((await reply()).text).toBe('We open at noon.');
    await writeFile(file, script('We open at eleven.'));
    expect((await reply()).text).toBe('We open at eleven.');
    await writeFile(file, '{ "name": "Pizza", ');
    expect((await reply()).text).toBe('We open at eleven.');
    expect(events).toEqual(['reloaded 1', expect.stringMatching(/^error: .*offline-model\.json: is not valid JSON/)]);
  });
});
