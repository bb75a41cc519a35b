import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { preciseNow } from '../../dev/llm/index.ts';
import { clientFor, onlyRequest, serve, waitFor } from './support.ts';

// Timing assertions have wide margins on purpose: two shared cores, other suites running alongside.
const messages = [{ role: 'user' as const, content: 'go' }];
const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');

describe('LLM server timing knobs', () => {
  it('waits firstTokenMs before the first token and spaces tokens by tokenGapMs, and records when', async () => {
    const server = await serve({ responder: () => ({ text: words(6) }), timing: { firstTokenMs: 200, tokenGapMs: 40 } });
    const sentAt = preciseNow();
    const seenAt: number[] = [];
    const stream = await clientFor(server).chat.completions.create({ model: 'm', messages, stream: true });
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) seenAt.push(preciseNow());

    const record = onlyRequest(server);
    expect(record.tokensSent).toBe(6);
    expect(record.receivedAt).toBeGreaterThanOrEqual(sentAt - 1);
    const firstTokenDelay = record.firstTokenSentAt! - record.receivedAt;
    expect(firstTokenDelay).toBeGreaterThanOrEqual(195);
    expect(firstTokenDelay).toBeLessThan(200 + 1_500);
    const meanGap = (record.lastTokenSentAt! - record.firstTokenSentAt!) / 5;
    expect(meanGap).toBeGreaterThanOrEqual(35);
    expect(meanGap).toBeLessThan(40 + 300);
    // The client's clock agrees: nothing arrived before the server says it was sent.
    expect(seenAt[0]!).toBeGreaterThanOrEqual(record.firstTokenSentAt! - 1);
    expect(seenAt[0]! - sentAt).toBeGreaterThanOrEqual(195);
    // Sub-millisecond precision on the epoch clock.
    expect(Number.isInteger(record.firstTokenSentAt)).toBe(false);
    expect(Math.abs(record.receivedAt - Date.now())).toBeLessThan(60_000);
  });

  it('lets a reply override the timing and setTiming change the default', async () => {
    const server = await serve({ responder: () => ({ text: words(3), firstTokenMs: 150, tokenGapMs: 0 }) });
    const client = clientFor(server);
    for await (const _ of await client.chat.completions.create({ model: 'm', messages, stream: true })) void _;
    const overridden = server.requests[0]!;
    expect(overridden.firstTokenSentAt! - overridden.receivedAt).toBeGreaterThanOrEqual(145);

    server.setResponder(() => ({ text: words(4) }));
    server.setTiming({ tokenGapMs: 60 });
    const started = performance.now();
    await client.chat.completions.create({ model: 'm', messages });
    // Non-streaming: the whole reply comes after first token plus the gaps (3 x 60 ms).
    expect(performance.now() - started).toBeGreaterThanOrEqual(175);
    const defaults = server.requests[1]!;
    expect(defaults.firstTokenSentAt! - defaults.receivedAt).toBeGreaterThanOrEqual(175);
    expect(defaults.tokensSent).toBe(4);
  });

  it('paces tool-call deltas like tokens', async () => {
    const server = await serve({
      responder: () => ({ toolCalls: [{ name: 'lookup', arguments: { q: 'abcdefghijklmnopqrstu' } }] }),
      timing: { tokenGapMs: 30 },
    });
    const stream = await clientFor(server).chat.completions.create({
      model: 'm',
      messages,
      stream: true,
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }],
    });
    for await (const _ of stream) void _;
    const record = onlyRequest(server);
    expect(record.tokensSent).toBeGreaterThan(3);
    expect(record.lastTokenSentAt! - record.firstTokenSentAt!).toBeGreaterThanOrEqual((record.tokensSent - 1) * 30 - 5);
  });
});

describe('LLM server when the client goes away', () => {
  it('stops streaming at once when the client aborts mid-stream, and records it', async () => {
    const server = await serve({ responder: () => ({ text: words(60) }), timing: { tokenGapMs: 40 } });
    const stream = await clientFor(server).chat.completions.create({ model: 'm', messages, stream: true });
    let tokens = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content && ++tokens === 3) stream.controller.abort();
    }
    const record = onlyRequest(server);
    await waitFor(() => record.aborted);
    const sentWhenAborted = record.tokensSent;
    expect(sentWhenAborted).toBeGreaterThanOrEqual(3);
    expect(sentWhenAborted).toBeLessThan(60);
    await new Promise((r) => setTimeout(r, 250));
    expect(record.tokensSent).toBe(sentWhenAborted);
    expect(record.endedAt).toBeGreaterThan(record.firstTokenSentAt!);
  });

  it('records an abort that happens while waiting for the first token', async () => {
    const server = await serve({ responder: () => ({ text: 'late' }), timing: { firstTokenMs: 5_000 } });
    const controller = new AbortController();
    const pending = clientFor(server)
      .chat.completions.create({ model: 'm', messages, stream: true }, { signal: controller.signal })
      .then(async (stream) => {
        for await (const _ of stream) void _;
      })
      .catch((e: unknown) => e);
    await waitFor(() => server.requests.length === 1);
    controller.abort();
    await pending;
    const record = onlyRequest(server);
    await waitFor(() => record.aborted, 2_000);
    expect(record.tokensSent).toBe(0);
    expect(record.firstTokenSentAt).toBeUndefined();
  });
});
