import OpenAI, { APIError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { clientFor, onlyRequest, serve, WEATHER_TOOLS } from './support.ts';

const user = (content: string) => [{ role: 'user' as const, content }];

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('LLM server over the OpenAI SDK: streaming', () => {
  it('streams text as word-sized tokens, in order, role first and finish_reason stop last', async () => {
    const server = await serve({ responder: () => ({ text: 'Hello there, how can I help you today?' }) });
    const chunks = await collect(
      await clientFor(server).chat.completions.create({ model: 'gpt-test', messages: user('hi'), stream: true }),
    );

    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const tokens = chunks.map((c) => c.choices[0]?.delta.content).filter((t): t is string => !!t);
    expect(tokens).toEqual(['Hello', ' there,', ' how', ' can', ' I', ' help', ' you', ' today?']);
    const last = chunks[chunks.length - 1]!;
    expect(last.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'gpt-test')).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);

    const record = onlyRequest(server);
    expect(record.body.messages).toEqual(user('hi'));
    expect(record.tokensSent).toBe(8);
    expect(record.aborted).toBe(false);
    expect(record.status).toBe(200);
  });

  it('sends explicit tokens as given and a usage chunk when include_usage is set', async () => {
    const server = await serve({ responder: () => ({ tokens: ['Hel', 'lo', '!'] }) });
    const chunks = await collect(
      await clientFor(server).chat.completions.create({
        model: 'gpt-test',
        messages: user('hi'),
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    expect(chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('')).toBe('Hello!');
    expect(chunks.filter((c) => c.choices[0]?.delta.content).map((c) => c.choices[0]!.delta.content)).toEqual(['Hel', 'lo', '!']);
    const usage = chunks[chunks.length - 1]!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage?.completion_tokens).toBe(3);
    expect(usage.usage!.total_tokens).toBe(usage.usage!.prompt_tokens + 3);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('streams two interleaved tool calls with split arguments that SDK helpers and index assembly both rebuild', async () => {
    const server = await serve({
      responder: () => ({
        text: 'Checking both.',
        interleaveToolCalls: true,
        toolCalls: [
          { name: 'get_weather', arguments: { city: 'Missoula, Montana' } },
          { name: 'get_time', arguments: '{"zone":"America/Denver"}', id: 'call_fixed_2' },
        ],
      }),
    });
    const client = clientFor(server);
    const request = { model: 'gpt-test', messages: user('weather and time?'), tools: WEATHER_TOOLS, stream: true as const };

    // The SDK's own helper.
    const helper = client.chat.completions.stream(request);
    const argumentDeltas: { index: number; delta: string }[] = [];
    helper.on('tool_calls.function.arguments.delta', (e) => argumentDeltas.push({ index: e.index, delta: e.arguments_delta }));
    const final = await helper.finalChatCompletion();
    const message = final.choices[0]!.message;
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    expect(message.content).toBe('Checking both.');
    const calls = message.tool_calls!.map((c) => (c.type === 'function' ? [c.function.name, JSON.parse(c.function.arguments)] : []));
    expect(calls).toEqual([
      ['get_weather', { city: 'Missoula, Montana' }],
      ['get_time', { zone: 'America/Denver' }],
    ]);
    expect(message.tool_calls![1]!.id).toBe('call_fixed_2');
    expect(message.tool_calls![0]!.id).toMatch(/^call_/);
    // The deltas really did alternate between the calls, several fragments each.
    const order = argumentDeltas.filter((d) => d.delta !== '').map((d) => d.index);
    expect(order.slice(0, 4)).toEqual([0, 1, 0, 1]);
    expect(order.filter((i) => i === 0).length).toBeGreaterThan(2);

    // Assembling by index by hand, as the engine does.
    const chunks = await collect(await client.chat.completions.create(request));
    const byIndex = new Map<number, { id?: string; name?: string; type?: string; args: string }>();
    let firstDeltas = 0;
    for (const chunk of chunks) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        const entry = byIndex.get(delta.index) ?? { args: '' };
        if (delta.id) {
          firstDeltas++;
          expect(delta.type).toBe('function');
          expect(delta.function?.arguments).toBe('');
          Object.assign(entry, { id: delta.id, name: delta.function?.name, type: delta.type });
        } else {
          expect(delta.function?.name).toBeUndefined();
        }
        entry.args += delta.function?.arguments ?? '';
        byIndex.set(delta.index, entry);
      }
    }
    expect(firstDeltas).toBe(2);
    expect(JSON.parse(byIndex.get(0)!.args)).toEqual({ city: 'Missoula, Montana' });
    expect(JSON.parse(byIndex.get(1)!.args)).toEqual({ zone: 'America/Denver' });
    expect(byIndex.get(1)!.name).toBe('get_time');
    expect(chunks[chunks.length - 1]!.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('streams tool calls one after the other by default, as OpenAI does', async () => {
    const server = await serve({
      responder: () => ({
        toolCalls: [
          { name: 'get_weather', arguments: { city: 'Denver' } },
          { name: 'get_time', arguments: { zone: 'UTC' } },
        ],
      }),
    });
    const chunks = await collect(
      await clientFor(server).chat.completions.create({ model: 'm', messages: user('x'), tools: WEATHER_TOOLS, stream: true }),
    );
    const indexes = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls?.map((t) => t.index) ?? []);
    const firstOfSecond = indexes.indexOf(1);
    expect(firstOfSecond).toBeGreaterThan(1);
    expect(indexes.slice(firstOfSecond).every((i) => i === 1)).toBe(true);
  });
});

describe('LLM server over the OpenAI SDK: other endpoints and shapes', () => {
  it('answers non-streaming requests with a chat.completion object', async () => {
    const server = await serve({
      responder: (req) =>
        req.tools ? { toolCalls: [{ name: 'get_weather', arguments: { city: 'Boise' } }] } : { text: 'Plain answer.' },
    });
    const client = clientFor(server);
    const plain = await client.chat.completions.create({ model: 'm', messages: user('hello') });
    expect(plain.object).toBe('chat.completion');
    expect(plain.choices[0]!.message).toMatchObject({ role: 'assistant', content: 'Plain answer.' });
    expect(plain.choices[0]!.finish_reason).toBe('stop');
    expect(plain.usage?.completion_tokens).toBe(2);

    const withTool = await client.chat.completions.create({ model: 'm', messages: user('weather'), tools: WEATHER_TOOLS });
    const call = withTool.choices[0]!.message.tool_calls![0]!;
    expect(withTool.choices[0]!.finish_reason).toBe('tool_calls');
    expect(withTool.choices[0]!.message.content).toBeNull();
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'Boise' });
    expect(server.requests.map((r) => r.tokensSent)).toEqual([2, 1 + Math.ceil('{"city":"Boise"}'.length / 7)]);
  });

  it('lists its models', async () => {
    const server = await serve({ responder: () => ({ text: 'x' }), models: ['offline-demo', 'gpt-test'] });
    const models = [];
    for await (const model of clientFor(server).models.list()) models.push(model.id);
    expect(models).toEqual(['offline-demo', 'gpt-test']);
  });

  it('accepts a full tool round trip in the history (assistant tool_calls followed by tool results)', async () => {
    const server = await serve({ responder: (req) => ({ text: `seen ${req.messages.length}` }) });
    const result = await clientFor(server).chat.completions.create({
      model: 'm',
      tools: WEATHER_TOOLS,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Reno"}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: '{"tempF":71}' },
      ],
    });
    expect(result.choices[0]!.message.content).toBe('seen 4');
  });
});

describe('LLM server over the OpenAI SDK: failures', () => {
  it('surfaces a 429 as RateLimitError with retry-after, before any token', async () => {
    const server = await serve({
      responder: () => ({ error: { status: 429, message: 'Rate limit reached for requests', retryAfterSeconds: 7 } }),
    });
    const error = await clientFor(server)
      .chat.completions.create({ model: 'm', messages: user('hi'), stream: true })
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const apiError = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(apiError.status).toBe(429);
    expect(apiError.headers.get('retry-after')).toBe('7');
    expect(apiError.message).toContain('Rate limit reached for requests');
    expect(apiError.code).toBe('rate_limit_exceeded');
    expect(apiError.type).toBe('requests');
    expect(onlyRequest(server)).toMatchObject({ status: 429, tokensSent: 0 });
  });

  it('surfaces a 500 as InternalServerError, and a throwing responder becomes a 500 too', async () => {
    const server = await serve({ responder: () => ({ error: { status: 500, message: 'The server had an error' } }) });
    const client = clientFor(server);
    const failed = await client.chat.completions.create({ model: 'm', messages: user('hi') }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.InternalServerError);
    expect((failed as APIError).status).toBe(500);
    expect((failed as APIError).type).toBe('server_error');

    server.setResponder(() => {
      throw new Error('responder bug');
    });
    const thrown = await client.chat.completions.create({ model: 'm', messages: user('hi'), stream: true }).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(APIError);
    expect((thrown as APIError).status).toBe(500);
  });

  it('answers a malformed body with 400 in OpenAI format, naming the parameter', async () => {
    const server = await serve({ responder: () => ({ text: 'never' }) });
    const client = clientFor(server);

    const noMessages = await client.chat.completions
      .create({ model: 'm', messages: [] })
      .catch((e: unknown) => e);
    expect(noMessages).toBeInstanceOf(OpenAI.BadRequestError);
    expect((noMessages as APIError).param).toBe('messages');

    const badRole = await client.chat.completions
      .create({ model: 'm', messages: [{ role: 'narrator', content: 'x' } as never] })
      .catch((e: unknown) => e);
    expect((badRole as APIError).status).toBe(400);
    expect((badRole as APIError).param).toBe('messages[0].role');

    const orphanTool = await client.chat.completions
      .create({ model: 'm', messages: [...user('x'), { role: 'tool', tool_call_id: 'nope', content: '{}' }] })
      .catch((e: unknown) => e);
    expect((orphanTool as APIError).status).toBe(400);
    expect((orphanTool as APIError).param).toBe('messages[1].tool_call_id');

    const unanswered = await client.chat.completions
      .create({
        model: 'm',
        tools: WEATHER_TOOLS,
        messages: [
          ...user('x'),
          { role: 'assistant', tool_calls: [{ id: 'c9', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
          ...user('hello?'),
        ],
      })
      .catch((e: unknown) => e);
    expect((unanswered as APIError).status).toBe(400);
    expect((unanswered as APIError).message).toContain('c9');

    const unknownForcedTool = await client.chat.completions
      .create({ model: 'm', messages: user('x'), tools: WEATHER_TOOLS, tool_choice: { type: 'function', function: { name: 'nope' } } })
      .catch((e: unknown) => e);
    expect((unknownForcedTool as APIError).param).toBe('tool_choice');

    const raw = await fetch(`${server.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model": "m", "messages": [',
    });
    expect(raw.status).toBe(400);
    const body = (await raw.json()) as { error: { message: string; type: string; param: null; code: null } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toContain('could not parse the JSON body');
    expect(body).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: null } });

    expect(server.requests).toHaveLength(0);
  });

  it('answers an unknown route with an OpenAI-style 404', async () => {
    const server = await serve({ responder: () => ({ text: 'x' }) });
    const res = await fetch(`${server.baseUrl}/embeddings`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe('Invalid URL (POST /v1/embeddings)');
  });

  it('cuts the connection after failAfterTokens text tokens: the client sees the tokens, then an error', async () => {
    const server = await serve({ responder: () => ({ text: 'one two three four five six', failAfterTokens: 2 }) });
    const stream = await clientFor(server).chat.completions.create({ model: 'm', messages: user('x'), stream: true });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
    })().catch((e: unknown) => e);
    expect(seen.join('')).toBe('one two');
    expect(error).toBeInstanceOf(Error);
    const record = onlyRequest(server);
    expect(record.tokensSent).toBe(2);
    expect(record.aborted).toBe(false);
  });
});
