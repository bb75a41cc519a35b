import { LlmError, type Clock, type Llm, type LlmChunk, type LlmRequest } from './ports.ts';

/**
 * One LLM request, as a stream of typed events. Two timeouts bound the caller's silence: no first chunk within
 * `firstTokenMs`, or no chunk for `idleMs` once the reply has started (a stalled stream). Either aborts the request
 * and ends the attempt as failed; whether to retry is the turn's decision (one retry, before the first chunk only).
 */
export type AttemptEvent =
  /** The request body is on the wire (`onWire`), or the edge could not tell and the stream has begun. */
  | { type: 'request-sent'; onWire: boolean }
  | { type: 'first-chunk' }
  | { type: 'text'; text: string }
  | Extract<LlmChunk, { type: 'tool-call' }>
  | { type: 'finish'; reason: string }
  /** What the request cost, when the provider reports it (after the finish). */
  | Extract<LlmChunk, { type: 'usage' }>;

export type AttemptEnd =
  | { type: 'done' }
  /** The turn's own signal aborted it (interrupt, newer prompt, hang-up). */
  | { type: 'aborted' }
  | { type: 'failed'; error: unknown; cause: 'first-token-timeout' | 'idle-timeout' | 'error'; retryable: boolean; gotFirst: boolean };

export interface AttemptOptions {
  clock: Clock;
  /** The turn's signal: aborting it ends the attempt promptly. */
  signal: AbortSignal;
  firstTokenMs: number;
  idleMs: number;
}

export async function* llmAttempt(llm: Llm, request: LlmRequest, options: AttemptOptions): AsyncGenerator<AttemptEvent, AttemptEnd> {
  const { clock, signal } = options;
  const abort = new AbortController();
  let timedOut: 'first-token-timeout' | 'idle-timeout' | undefined;
  const onTurnAbort = () => abort.abort(signal.reason);
  signal.addEventListener('abort', onTurnAbort, { once: true });
  let cancelTimer = clock.setTimer(options.firstTokenMs, () => {
    timedOut = 'first-token-timeout';
    abort.abort(new Error('no first token in time'));
  });
  const armIdle = () => {
    cancelTimer();
    cancelTimer = clock.setTimer(options.idleMs, () => {
      timedOut = 'idle-timeout';
      abort.abort(new Error(`no chunk for ${options.idleMs} ms`));
    });
  };
  let markSent!: () => void;
  const sent = new Promise<'sent'>((resolve) => (markSent = () => resolve('sent')));
  let announced = false;
  let gotFirst = false;
  let iterator: AsyncIterator<LlmChunk> | undefined;
  try {
    iterator = llm.stream(request, abort.signal, { onRequestSent: () => markSent() })[Symbol.asyncIterator]();
    let next = iterator.next();
    for (;;) {
      const step = announced ? await next : await Promise.race([next, sent]);
      if (!announced) {
        announced = true;
        yield { type: 'request-sent', onWire: step === 'sent' };
        if (step === 'sent') continue;
      }
      if (step === 'sent') continue;
      if (signal.aborted) return { type: 'aborted' };
      if (step.done) break;
      if (!gotFirst) {
        gotFirst = true;
        yield { type: 'first-chunk' };
      }
      armIdle();
      const chunk = step.value;
      yield chunk.type === 'text' ? { type: 'text', text: chunk.text } : chunk;
      next = iterator.next();
    }
    // An aborted stream may simply end (the openai SDK swallows its own abort): a timeout is still a failure.
    if (timedOut) return failed(new Error(timedOut), timedOut, gotFirst);
    return signal.aborted ? { type: 'aborted' } : { type: 'done' };
  } catch (err) {
    if (signal.aborted) return { type: 'aborted' };
    return failed(err, timedOut ?? 'error', gotFirst);
  } finally {
    cancelTimer();
    signal.removeEventListener('abort', onTurnAbort);
    void iterator?.return?.(undefined)?.catch(() => undefined);
  }
}

function failed(error: unknown, cause: 'first-token-timeout' | 'idle-timeout' | 'error', gotFirst: boolean): AttemptEnd {
  const retryable = cause !== 'error' || !(error instanceof LlmError) || error.retryable;
  return { type: 'failed', error, cause, retryable, gotFirst };
}
