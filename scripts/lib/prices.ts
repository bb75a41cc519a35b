import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * The prices a call is costed at: one committed, dated file (config/prices.json) that an operator edits for their
 * region, model and contract. A bad value fails when it loads, naming the file and field.
 */
export const PRICES_FILE = 'config/prices.json';

const rate = z.number().min(0);
const LlmPriceSchema = z.strictObject({ inputPerMillion: rate, cachedInputPerMillion: rate, outputPerMillion: rate });

export const PricesSchema = z.strictObject({
  $comment: z.string().optional(),
  asOf: z.iso.date(),
  currency: z.string().length(3),
  /** Per model name, as the session or OPENAI_MODEL names it. */
  llm: z.record(z.string().min(1), LlmPriceSchema),
  lambda: z.strictObject({ perGbSecond: z.strictObject({ arm64: rate, x86_64: rate }), perMillionRequests: rate }),
  dynamodb: z.strictObject({ perMillionReadUnits: rate, perMillionWriteUnits: rate }),
  apiGatewayWebSocket: z.strictObject({ perMillionMessages: rate, perMillionConnectionMinutes: rate }),
  twilio: z.strictObject({ conversationRelayPerMinute: rate }),
});
export type Prices = z.infer<typeof PricesSchema>;
export type LlmPrice = z.infer<typeof LlmPriceSchema>;

export class PricesError extends Error {}

export function parsePrices(json: unknown, file = PRICES_FILE): Prices {
  const parsed = PricesSchema.safeParse(json);
  if (!parsed.success) {
    throw new PricesError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export function loadPrices(rootDir: string, file = PRICES_FILE): Prices {
  const path = resolve(rootDir, file);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new PricesError(`${file}: ${(err as Error).message}`);
  }
  return parsePrices(json, file);
}
