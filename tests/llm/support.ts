import OpenAI from 'openai';
import { afterEach } from 'vitest';
import { startLlmServer, type LlmServer, type LlmServerOptions, type RecordedRequest } from '../../dev/llm/index.ts';

/** Servers started by a test are stopped after it, pass or fail. */
const running: LlmServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

export async function serve(options: LlmServerOptions): Promise<LlmServer> {
  const server = await startLlmServer(options);
  running.push(server);
  return server;
}

export function track<T extends LlmServer>(server: T): T {
  running.push(server);
  return server;
}

/** The real SDK, as the engine builds it; no retries, so a 429 or 500 reaches the test as it came. */
export function clientFor(server: LlmServer): OpenAI {
  return new OpenAI({ baseURL: server.baseUrl, apiKey: 'offline', maxRetries: 0, timeout: 15_000 });
}

export async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function onlyRequest(server: LlmServer): RecordedRequest {
  if (server.requests.length !== 1) throw new Error(`expected one recorded request, got ${server.requests.length}`);
  return server.requests[0]!;
}

export const WEATHER_TOOLS: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
  {
    type: 'function',
    function: {
      name: 'get_time',
      description: 'Local time in a zone',
      parameters: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] },
    },
  },
];
