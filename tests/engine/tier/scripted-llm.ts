import { systemClock, type Clock, type Llm, type LlmChunk, type LlmRequest, type LlmStreamEvents } from '../../../02_cr-application/src/engine/ports.ts';

/**
 * An Llm whose replies the test writes step by step. Each request takes the next scripted reply from the queue,
 * or, when the queue is empty, from the responder function. Every request is recorded (a deep copy, so later
 * changes by the engine cannot rewrite what was sent), with when it went out, whether and when it was aborted,
 * and how its stream ended.
 *
 * The stream behaves like the real edge (edges/openai-llm.ts): chunks arrive asynchronously, aborting the signal
 * ends it at once (the pending read rejects with an AbortError, also while it waits at a gate or on the clock), a
 * failure rejects the read it happens at, and `onRequestSent` fires once, when the request "goes out".
 */
export type Step =
  | { kind: 'text'; text: string }
  | { kind: 'tool-call'; id: string; name: string; arguments: string; index: number | undefined; fragments: number }
  | { kind: 'finish'; reason: string }
  | { kind: 'fail'; error: unknown }
  | { kind: 'gate'; gate: Gate }
  | { kind: 'wait'; ms: number }
  | { kind: 'request-sent' };

export const text = (t: string): Step => ({ kind: 'text', text: t });

/**
 * A complete tool call. `arguments` is sent verbatim when a string (invalid JSON included), as JSON otherwise.
 * `index` defaults to the call's position among the reply's tool calls; `fragments` > 1 streams the arguments
 * in that many pieces, the first carrying id and name, as OpenAI does.
 */
export function toolCall(call: { id: string; name: string; arguments: string | Record<string, unknown> }, options: { index?: number; fragments?: number } = {}): Step {
  const args = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments);
  return { kind: 'tool-call', id: call.id, name: call.name, arguments: args, index: options.index, fragments: Math.max(1, options.fragments ?? 1) };
}

export const finish = (reason: 'stop' | 'tool_calls' | 'length' | (string & {}) = 'stop'): Step => ({ kind: 'finish', reason });
/** The stream fails here (e.g. `fail(new LlmError('rate limited', 429, true))`). */
export const fail = (error: unknown): Step => ({ kind: 'fail', error });
/** The stream waits `ms` on the LLM's clock (the manual clock in tier tests) before its next step. */
export const waitMs = (ms: number): Step => ({ kind: 'wait', ms });
/** Where `onRequestSent` fires; without this step it fires before the first step. */
export const requestSent = (): Step => ({ kind: 'request-sent' });
/** Text steps then `finish('stop')`: a plain spoken reply. */
export const says = (...pieces: string[]): Step[] => [...pieces.map(text), finish('stop')];

/**
 * A point where the stream waits until the test opens it: to hold a reply mid-stream (a stall, or to interleave
 * an interrupt or a newer prompt at an exact point). Usable as a step; opening it before the stream gets there
 * lets the stream pass straight through.
 */
export interface Gate {
  readonly kind: 'gate';
  readonly gate: Gate;
  open(): void;
  readonly opened: boolean;
  /** Resolves once a stream is waiting at the gate. */
  readonly reached: Promise<void>;
}

/** The stream's side of each gate: announce that it is waiting, then wait. */
const gateWaits = new WeakMap<Gate, () => Promise<void>>();

export function gate(): Gate {
  let open!: () => void;
  let reach!: () => void;
  const openPromise = new Promise<void>((resolve) => (open = resolve));
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const g = {
    kind: 'gate' as const,
    opened: false,
    reached,
    open() {
      g.opened = true;
      open();
    },
  } as { kind: 'gate'; opened: boolean; reached: Promise<void>; open(): void; gate: Gate };
  g.gate = g;
  gateWaits.set(g, () => {
    reach();
    return openPromise;
  });
  return g;
}

export type StreamOutcome = 'streaming' | 'completed' | 'failed' | 'aborted' | 'closed';

export interface RecordedRequest {
  /** Request number, from 0. */
  index: number;
  request: LlmRequest;
  /** Clock time `stream()` was called. */
  startedAt: number;
  /** Clock time `onRequestSent` was called, if it was. */
  sentAt: number | undefined;
  aborted: boolean;
  abortedAt: number | undefined;
  /** `closed`: the engine stopped reading without aborting. */
  outcome: StreamOutcome;
  endedAt: number | undefined;
  /** Chunks handed to the engine. */
  chunks: LlmChunk[];
}

export type Responder = (request: LlmRequest, index: number) => Step[] | undefined;

export interface ScriptedLlm extends Llm {
  /** Queues one scripted reply per argument, consumed by the next requests in order. */
  enqueue(...replies: Step[][]): void;
  /** Answers requests the queue has no reply for. */
  respond(responder: Responder): void;
  readonly requests: readonly RecordedRequest[];
  /** Resolves once `count` requests have been made. */
  requested(count: number): Promise<void>;
  /** Scripted replies not consumed yet. */
  queued(): number;
}

export interface ScriptedLlmOptions {
  /** Times and `waitMs`; the manual clock in tier tests. */
  clock?: Clock;
  /** Like an edge that cannot tell when its request leaves: `onRequestSent` is never called. */
  reportsRequestSent?: boolean;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
}

/** Waits for `promise` unless the signal aborts first (then rejects with the abort reason). */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal, cleanup?: () => void): Promise<T> {
  if (signal.aborted) {
    cleanup?.();
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      cleanup?.();
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** Turns the steps into the chunks a real stream would carry, keeping the waits in place. */
function* expand(steps: Step[]): Generator<Step | { kind: 'chunk'; chunk: LlmChunk }> {
  let toolCalls = 0;
  for (const step of steps) {
    if (step.kind === 'text') yield { kind: 'chunk', chunk: { type: 'text', text: step.text } };
    else if (step.kind === 'finish') yield { kind: 'chunk', chunk: { type: 'finish', reason: step.reason } };
    else if (step.kind === 'tool-call') {
      const index = step.index ?? toolCalls;
      toolCalls++;
      const size = Math.ceil(step.arguments.length / step.fragments) || 1;
      for (let i = 0; i < step.fragments; i++) {
        const piece = step.arguments.slice(i * size, (i + 1) * size);
        const chunk: LlmChunk = i === 0 ? { type: 'tool-call', index, id: step.id, name: step.name } : { type: 'tool-call', index };
        if (piece.length > 0) chunk.arguments = piece;
        yield { kind: 'chunk', chunk };
      }
    } else yield step;
  }
}

export function createScriptedLlm(options: ScriptedLlmOptions = {}): ScriptedLlm {
  const clock = options.clock ?? systemClock;
  const reportsSent = options.reportsRequestSent ?? true;
  const queue: Step[][] = [];
  let responder: Responder | undefined;
  const requests: RecordedRequest[] = [];
  let waiters: { count: number; resolve: () => void }[] = [];

  function script(request: LlmRequest, index: number): Step[] {
    const steps = queue.shift() ?? responder?.(request, index);
    if (!steps) {
      throw new Error(`scripted LLM: nothing scripted for request #${index} (last message: ${JSON.stringify(request.messages.at(-1))})`);
    }
    return steps;
  }

  async function* run(steps: Step[], record: RecordedRequest, signal: AbortSignal, events: LlmStreamEvents | undefined): AsyncGenerator<LlmChunk> {
    const markSent = () => {
      if (!reportsSent || record.sentAt !== undefined) return;
      record.sentAt = clock.now();
      events?.onRequestSent?.();
    };
    // A real request never answers synchronously.
    await unlessAborted(Promise.resolve(), signal);
    if (!steps.some((s) => s.kind === 'request-sent')) markSent();
    for (const step of expand(steps)) {
      if (signal.aborted) throw abortError(signal);
      switch (step.kind) {
        case 'chunk':
          record.chunks.push(step.chunk);
          yield step.chunk;
          // The engine may have aborted while it held this chunk; the next read must not deliver more.
          await unlessAborted(Promise.resolve(), signal);
          break;
        case 'request-sent':
          markSent();
          break;
        case 'fail':
          throw step.error;
        case 'gate':
          await unlessAborted(gateWaits.get(step.gate)!(), signal);
          break;
        case 'wait': {
          let cancel: (() => void) | undefined;
          await unlessAborted(new Promise<void>((resolve) => (cancel = clock.setTimer(step.ms, resolve))), signal, () => cancel?.());
          break;
        }
        default:
          break;
      }
    }
  }

  const llm: ScriptedLlm = {
    // A generator, as the real edge: nothing is requested until the engine starts reading.
    async *stream(request, signal, events) {
      const index = requests.length;
      const record: RecordedRequest = {
        index,
        request: structuredClone(request),
        startedAt: clock.now(),
        sentAt: undefined,
        aborted: false,
        abortedAt: undefined,
        outcome: 'streaming',
        endedAt: undefined,
        chunks: [],
      };
      requests.push(record);
      const onAbort = () => {
        record.aborted = true;
        record.abortedAt = clock.now();
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      const ready = waiters.filter((w) => requests.length >= w.count);
      waiters = waiters.filter((w) => requests.length < w.count);
      for (const w of ready) w.resolve();

      const end = (outcome: StreamOutcome) => {
        if (record.outcome !== 'streaming') return;
        record.outcome = outcome;
        record.endedAt = clock.now();
        signal.removeEventListener('abort', onAbort);
      };
      try {
        yield* run(script(request, index), record, signal, events);
        end('completed');
      } catch (err) {
        end(signal.aborted ? 'aborted' : 'failed');
        throw err;
      } finally {
        // Left without finishing or failing: the engine stopped reading.
        end(signal.aborted ? 'aborted' : 'closed');
      }
    },

    enqueue(...replies) {
      queue.push(...replies);
    },
    respond(fn) {
      responder = fn;
    },
    requests,
    requested: (count) => (requests.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    queued: () => queue.length,
  };
  return llm;
}
