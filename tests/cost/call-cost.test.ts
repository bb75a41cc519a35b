import { describe, expect, it } from 'vitest';
import { costOfCall, formatUsd } from '../../scripts/lib/call-cost.ts';
import { functionSizes } from '../../scripts/lib/function-sizes.ts';
import { loadPrices, parsePrices, PricesError } from '../../scripts/lib/prices.ts';
import { ROOT } from '../evals/support.ts';

/** Cost per call: each part priced from what the call used, at the committed, dated prices. */
const prices = loadPrices(ROOT);
const sizes = functionSizes(ROOT);

describe('cost of a call', () => {
  it('prices every part from its usage: cached input tokens at their own rate, Lambda by memory and rounded-up ms, started minutes', () => {
    const cost = costOfCall(
      {
        llm: [{ model: 'gpt-4o-mini', inputTokens: 10_000, outputTokens: 500, cachedTokens: 4_000 }],
        lambda: [
          { fn: 'default', durationMs: 1000 },
          { fn: 'tools-apartment-search', durationMs: 100.4 },
        ],
        dynamodb: { readUnits: 10, writeUnits: 20 },
        apiGateway: { messages: 30, connectionMs: [61_000] },
        relayMs: [61_000],
      },
      prices,
      sizes,
    );
    // 6,000 uncached x 0.15 + 4,000 cached x 0.075 + 500 out x 0.60, per million.
    expect(cost.llm.usd).toBeCloseTo(0.0015, 10);
    // 1 GB-s (1024 MB for 1 s) + 0.02525 GB-s (256 MB for 101 ms), arm64, plus two requests.
    expect(cost.lambda.usd).toBeCloseTo(1.02525 * 0.0000133334 + 2 * 0.0000002, 12);
    expect(cost.lambda.detail).toBe('1.025 GB-s: default 1x 1.000, tools-apartment-search 1x 0.025');
    expect(cost.dynamodb.usd).toBeCloseTo(10 * 0.125e-6 + 20 * 0.625e-6, 12);
    // 61 s is two started minutes, for API Gateway's connection and for ConversationRelay.
    expect(cost.apiGateway.usd).toBeCloseTo(30 * 1e-6 + 2 * 0.25e-6, 12);
    expect(cost.conversationRelay).toEqual({ usd: 0.14, detail: '2 min' });
    expect(cost.totalUsd).toBeCloseTo(cost.llm.usd + cost.lambda.usd + cost.dynamodb.usd + cost.apiGateway.usd + 0.14, 12);
    expect(cost.unpriced).toEqual([]);
    expect(cost.pricesAsOf).toBe(prices.asOf);
  });

  it('says what it could not price or measure instead of counting it as free', () => {
    const cost = costOfCall(
      { llm: [{ model: 'some-new-model', inputTokens: 100, outputTokens: 10, cachedTokens: 0 }], lambda: undefined, dynamodb: undefined, apiGateway: { messages: 2, connectionMs: [1000] }, relayMs: [1000] },
      prices,
      sizes,
    );
    expect(cost.unpriced).toEqual([
      'LLM model "some-new-model" has no price in config/prices.json',
      'Lambda time (not measured against a deployed stack)',
      'DynamoDB units (not measured against a deployed stack)',
    ]);
    expect(cost.llm.usd).toBe(0);
    expect(cost.llm.detail).toBe('some-new-model: 100 in (0 cached), 10 out');
  });

  it('function sizes come from the templates: memory and architecture per deployed function', () => {
    expect(sizes.get('default')).toEqual({ memoryMb: 1024, architecture: 'arm64' });
    expect(sizes.get('call-setup')).toEqual({ memoryMb: 512, architecture: 'arm64' });
    expect(sizes.get('tools-apartment-search')).toEqual({ memoryMb: 256, architecture: 'arm64' });
  });

  it('the prices file is dated and validated, and a bad value names the file and field', () => {
    expect(prices.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(() => parsePrices({ ...prices, lambda: { ...prices.lambda, perGbSecond: { arm64: -1, x86_64: 0 } } })).toThrow(
      new PricesError('config/prices.json: lambda.perGbSecond.arm64: Too small: expected number to be >=0'),
    );
    expect(() => parsePrices({ ...prices, asOf: 'last week' })).toThrow(/^config\/prices\.json: asOf: Invalid ISO date$/);
    expect(formatUsd(0)).toBe('$0');
    expect(formatUsd(0.0701)).toBe('$0.0701');
    expect(formatUsd(0.00004)).toBe('$0.00004');
  });
});
