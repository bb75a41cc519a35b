import type { FunctionSize } from './function-sizes.ts';
import type { Prices } from './prices.ts';

/**
 * What one call costs, part by part, from what it used: LLM tokens (as the provider reported them), Lambda
 * GB-seconds and requests per function, DynamoDB read and write units, API Gateway messages and connection
 * minutes, and ConversationRelay minutes. A part that was not measured, or a model with no price, is listed as
 * such instead of counting as free.
 */
export interface CallUsage {
  /** Per model. */
  llm: { model: string; inputTokens: number; outputTokens: number; cachedTokens: number }[];
  /** Every invocation, by function name without `cr-<env>-` (tool invocations as `tools-<use case>`). */
  lambda: { fn: string; durationMs: number }[] | undefined;
  dynamodb: { readUnits: number; writeUnits: number } | undefined;
  apiGateway: { messages: number; connectionMs: number[] };
  /** Each ConversationRelay session's length (one per call placed). */
  relayMs: number[];
}

export interface CostPart {
  usd: number;
  detail: string;
}

export interface CallCost {
  totalUsd: number;
  llm: CostPart;
  lambda: CostPart;
  dynamodb: CostPart;
  apiGateway: CostPart;
  conversationRelay: CostPart;
  /** What could not be priced or measured (the total leaves it out). */
  unpriced: string[];
  pricesAsOf: string;
}

const perMillion = (count: number, price: number) => (count * price) / 1_000_000;
const minutesUp = (ms: number) => Math.max(1, Math.ceil(ms / 60_000));

export function costOfCall(usage: CallUsage, prices: Prices, sizes: Map<string, FunctionSize>): CallCost {
  const unpriced: string[] = [];

  let llmUsd = 0;
  const llmDetail: string[] = [];
  for (const u of usage.llm) {
    const price = prices.llm[u.model];
    llmDetail.push(`${u.model}: ${u.inputTokens} in (${u.cachedTokens} cached), ${u.outputTokens} out`);
    if (!price) {
      unpriced.push(`LLM model "${u.model}" has no price in config/prices.json`);
      continue;
    }
    const uncached = Math.max(0, u.inputTokens - u.cachedTokens);
    llmUsd += perMillion(uncached, price.inputPerMillion) + perMillion(u.cachedTokens, price.cachedInputPerMillion) + perMillion(u.outputTokens, price.outputPerMillion);
  }

  let lambdaUsd = 0;
  let gbSeconds = 0;
  const byFn = new Map<string, { count: number; gbs: number }>();
  if (!usage.lambda) unpriced.push('Lambda time (not measured against a deployed stack)');
  for (const inv of usage.lambda ?? []) {
    const size = sizes.get(inv.fn);
    if (!size) {
      unpriced.push(`Lambda function "${inv.fn}" is not in any template`);
      continue;
    }
    // Lambda bills each invocation's duration rounded up to the millisecond.
    const gbs = (size.memoryMb / 1024) * (Math.ceil(inv.durationMs) / 1000);
    gbSeconds += gbs;
    lambdaUsd += gbs * prices.lambda.perGbSecond[size.architecture] + perMillion(1, prices.lambda.perMillionRequests);
    const f = byFn.get(inv.fn) ?? { count: 0, gbs: 0 };
    f.count++;
    f.gbs += gbs;
    byFn.set(inv.fn, f);
  }

  const db = usage.dynamodb;
  if (!db) unpriced.push('DynamoDB units (not measured against a deployed stack)');
  const dbUsd = db ? perMillion(db.readUnits, prices.dynamodb.perMillionReadUnits) + perMillion(db.writeUnits, prices.dynamodb.perMillionWriteUnits) : 0;

  // API Gateway bills connection minutes and messages (each up to 32 KB; ours are far smaller), both ways.
  const connectionMinutes = usage.apiGateway.connectionMs.reduce((sum, ms) => sum + minutesUp(ms), 0);
  const apiUsd =
    perMillion(usage.apiGateway.messages, prices.apiGatewayWebSocket.perMillionMessages) +
    perMillion(connectionMinutes, prices.apiGatewayWebSocket.perMillionConnectionMinutes);

  // Twilio bills per started minute of each session.
  const relayMinutes = usage.relayMs.reduce((sum, ms) => sum + minutesUp(ms), 0);
  const relayUsd = relayMinutes * prices.twilio.conversationRelayPerMinute;

  const parts = { llm: llmUsd, lambda: lambdaUsd, dynamodb: dbUsd, apiGateway: apiUsd, conversationRelay: relayUsd };
  return {
    totalUsd: Object.values(parts).reduce((a, b) => a + b, 0),
    llm: { usd: llmUsd, detail: llmDetail.join('; ') || 'no LLM request' },
    lambda: {
      usd: lambdaUsd,
      detail: usage.lambda
        ? `${gbSeconds.toFixed(3)} GB-s: ${[...byFn].map(([fn, f]) => `${fn} ${f.count}x ${f.gbs.toFixed(3)}`).join(', ')}`
        : 'not measured',
    },
    dynamodb: { usd: dbUsd, detail: db ? `${round(db.readUnits)} read, ${round(db.writeUnits)} write units` : 'not measured' },
    apiGateway: { usd: apiUsd, detail: `${usage.apiGateway.messages} messages, ${connectionMinutes} connection min` },
    conversationRelay: { usd: relayUsd, detail: `${relayMinutes} min` },
    unpriced,
    pricesAsOf: prices.asOf,
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Dollars for people: enough digits to tell a tenth of a cent apart. */
export function formatUsd(usd: number): string {
  return usd === 0 ? '$0' : usd < 0.01 ? `$${usd.toFixed(5)}` : `$${usd.toFixed(4)}`;
}
