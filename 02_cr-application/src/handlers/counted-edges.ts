import { ConditionFailedError } from '../../../layers/data/errors.ts';
import type { Sink } from '../engine/ports.ts';
import { countMetric } from './turn-metrics.ts';

/**
 * Error metrics for the edges a handler hands the engine. The engine logs and survives these failures (a caller
 * hears a fallback, a turn goes on uncoordinated); these counts make them visible on the dashboard too.
 */

/** Counts every failed table call as `TableErrors`. A lost conditional race (ConditionFailedError) is not one. */
export function countTableErrors<T extends object>(store: T): T {
  return new Proxy(store, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.catch((err: unknown) => {
          if (!(err instanceof ConditionFailedError)) countMetric('TableErrors');
          throw err;
        });
      };
    },
  });
}

/** Counts every post that failed or was refused as invalid as `PostErrors`; a hung-up caller (410) is not one. */
export function countPostErrors(sink: Sink): Sink {
  return {
    post: async (connectionId, message) => {
      const result = await sink.post(connectionId, message);
      if (result.status === 'failed' || result.status === 'invalid') countMetric('PostErrors');
      return result;
    },
  };
}
