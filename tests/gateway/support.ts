import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import WebSocket from 'ws';
import type { ConnectResult, WebSocketEvent, WebSocketRoutes } from '../../dev/gateway/index.ts';

/** Test helpers for the local API Gateway: recording routes, a real ws client, and the real management API client. */

export interface RecordedRoutes {
  routes: WebSocketRoutes;
  connects: WebSocketEvent[];
  messages: WebSocketEvent[];
  disconnects: WebSocketEvent[];
}

export function recordingRoutes(behaviour: {
  connect?: (event: WebSocketEvent) => Promise<ConnectResult | void>;
  message?: (event: WebSocketEvent) => Promise<unknown>;
} = {}): RecordedRoutes {
  const recorded: RecordedRoutes = {
    connects: [],
    messages: [],
    disconnects: [],
    routes: {
      connect: async (event) => {
        recorded.connects.push(event);
        return behaviour.connect ? behaviour.connect(event) : { statusCode: 200 };
      },
      message: (event) => {
        recorded.messages.push(event);
        return behaviour.message ? behaviour.message(event) : Promise.resolve({ statusCode: 200 });
      },
      disconnect: async (event) => {
        recorded.disconnects.push(event);
        return { statusCode: 200 };
      },
    },
  };
  return recorded;
}

export interface TestClient {
  ws: WebSocket;
  frames: string[];
  /** Arrival time (performance.now()) of each frame. */
  frameTimes: number[];
  /** How many frames arrived as binary (Twilio rejects those; the gateway must send text). */
  binaryFrames: number;
  nextFrame(timeoutMs?: number): Promise<string>;
  closed: Promise<{ code: number; reason: string }>;
  close(code?: number, reason?: string): Promise<{ code: number; reason: string }>;
}

export function connectClient(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
  const ws = new WebSocket(url, { headers });
  const frames: string[] = [];
  const frameTimes: number[] = [];
  const waiting: Array<(frame: string) => void> = [];
  let read = 0;
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) client.binaryFrames++;
    frames.push(data.toString('utf8'));
    frameTimes.push(performance.now());
    waiting.shift()?.(frames[read++]!);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const client: TestClient = {
    ws,
    frames,
    frameTimes,
    binaryFrames: 0,
    nextFrame(timeoutMs = 15_000) {
      if (read < frames.length) return Promise.resolve(frames[read++]!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no frame within ${timeoutMs} ms`)), timeoutMs);
        waiting.push((frame) => {
          clearTimeout(timer);
          resolve(frame);
        });
      });
    },
    closed,
    close(code = 1000, reason = '') {
      if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
      return closed;
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('error', reject);
  });
}

export function managementClient(endpoint: string): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
}

/** Polls until the condition holds; timing margins are generous because the machine is shared. */
export async function waitFor(condition: () => boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
