import type { TurnCountsResult } from '../../bench/turn-counts.ts';

/**
 * The load model of docs/SCALING.md: what N simultaneous calls ask of the AWS account, from the per-call and
 * per-turn counts `npm run bench -- --counts` measured on the real handlers, and how close each ask is to the
 * quota that limits it. Pure arithmetic, so the document follows the code: change the engine, measure, regenerate.
 */
export interface Assumptions {
  /** How long a call lasts. */
  callSeconds: number;
  /** One caller turn every this many seconds (the caller speaks, the reply is spoken). */
  turnIntervalSeconds: number;
  /** The LLM in production: time to first token and tokens per second, and the reply length. */
  llmFirstTokenMs: number;
  llmTokensPerSecond: number;
  replyTokens: number;
  /** Call setup's table reads, from its code (profile and use case; the stand writes the session for it). */
  callSetupReads: number;
  /** How long a function keeps a secret before reading it again (SecretsTtlSeconds). */
  secretsTtlSeconds: number;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = {
  callSeconds: 180,
  turnIntervalSeconds: 10,
  llmFirstTokenMs: 700,
  llmTokensPerSecond: 30,
  replyTokens: 40,
  callSetupReads: 2,
  secretsTtlSeconds: 300,
};

/** Default quotas per account and region (Service Quotas names them), and what the stacks set themselves. */
export const QUOTAS = {
  webSocketNewConnectionsPerSecond: 500,
  apiGatewayRequestsPerSecond: 10_000,
  lambdaConcurrency: 1_000,
  /** How fast one function may add concurrency: 1,000 execution environments every 10 seconds. */
  lambdaScaleUpPerSecond: 100,
  dynamoOnDemandTableReadsPerSecond: 40_000,
  dynamoOnDemandTableWritesPerSecond: 40_000,
  /** What a new on-demand table serves at once before it adapts to a higher peak. */
  dynamoNewTableWritesPerSecond: 4_000,
  dynamoNewTableReadsPerSecond: 12_000,
  ssmGetParameterPerSecond: 40,
  ssmHigherThroughputPerSecond: 10_000,
  /** Set by 02_cr-application (WebSocket stage) and 03_twiml-api (HTTP API). */
  webSocketStageRatePerSecond: 1_000,
  httpApiRatePerSecond: 50,
} as const;

export interface LoadRow {
  what: string;
  perSecond: number;
  limit: number;
  limitName: string;
  /** perSecond / limit. */
  use: number;
  raise: string;
}

export interface LoadModel {
  calls: number;
  turnsPerSecond: number;
  callsStartingPerSecond: number;
  postsPerTurn: number;
  lambdaMsPerTurn: number;
  defaultConcurrency: number;
  rows: LoadRow[];
  /** The row with the highest use. */
  bindsFirst: LoadRow;
}

export function loadModel(counts: TurnCountsResult, calls: number, a: Assumptions = DEFAULT_ASSUMPTIONS): LoadModel {
  const turnsPerSecond = calls / a.turnIntervalSeconds;
  const starting = calls / a.callSeconds;
  // Posts follow the reply's streaming time (one post in flight, later tokens coalesced): scale the measured posts
  // by the production reply's streaming time, never above one post per token.
  const benchStreamMs = Math.max(1, counts.turn.replyMs - counts.settings.firstTokenMs);
  const streamMs = (a.replyTokens / a.llmTokensPerSecond) * 1000;
  const postsPerTurn = Math.min(a.replyTokens, Math.max(1, Math.round((counts.turn.posts * streamMs) / benchStreamMs)));
  // The $default invocation runs for the reply: our own time (measured minus the bench LLM's) plus the LLM's.
  const ownMs = Math.max(0, counts.turn.lambdaMs - counts.turn.replyMs);
  const lambdaMsPerTurn = ownMs + a.llmFirstTokenMs + streamMs;
  const defaultConcurrency = turnsPerSecond * (lambdaMsPerTurn / 1000);

  const reads = turnsPerSecond * counts.turn.reads + starting * (a.callSetupReads + counts.callStart.reads + counts.callEnd.reads);
  const writes = turnsPerSecond * counts.turn.writes + starting * (counts.callSetupWrites + counts.callStart.writes + counts.callEnd.writes);
  const inbound = turnsPerSecond * counts.turn.invocations + starting * (counts.callStart.invocations - 1);
  const posts = turnsPerSecond * postsPerTurn;
  // Each new execution environment of $default and $connect reads one secret; a scale-out adds at most 100 a second
  // per function. Warm ones read again once per TTL.
  const scaleOutReads = Math.min(QUOTAS.lambdaScaleUpPerSecond * 2, defaultConcurrency / 10 + starting);
  const ttlReads = (defaultConcurrency + starting) / a.secretsTtlSeconds;

  const row = (what: string, perSecond: number, limit: number, limitName: string, raise: string): LoadRow => ({ what, perSecond, limit, limitName, use: perSecond / limit, raise });
  const rows: LoadRow[] = [
    row('New WebSocket connections', starting, QUOTAS.webSocketNewConnectionsPerSecond, 'API Gateway: new WebSocket connections per second', 'Service Quotas: API Gateway "New connections per second"'),
    row('WebSocket frames in (prompts, setup)', inbound, QUOTAS.webSocketStageRatePerSecond, 'our WebSocket stage throttle (ThrottlingRateLimit 1000)', '02_cr-application Stage DefaultRouteSettings'),
    row('API Gateway requests (frames in + PostToConnection)', inbound + posts, QUOTAS.apiGatewayRequestsPerSecond, 'API Gateway: account throttle, requests per second', 'Service Quotas: API Gateway "Throttle rate"'),
    row('Lambda concurrency ($default)', defaultConcurrency, QUOTAS.lambdaConcurrency, 'Lambda: concurrent executions (account)', 'Service Quotas: Lambda "Concurrent executions"'),
    row('DynamoDB reads', reads, QUOTAS.dynamoNewTableReadsPerSecond, 'DynamoDB on demand: what a new table serves at once', 'warm throughput on the table (or let it adapt before launch)'),
    row('DynamoDB writes', writes, QUOTAS.dynamoNewTableWritesPerSecond, 'DynamoDB on demand: what a new table serves at once', 'warm throughput on the table (or let it adapt before launch)'),
    row('SSM GetParameter during a scale-out', scaleOutReads + ttlReads, QUOTAS.ssmGetParameterPerSecond, 'SSM Parameter Store: standard throughput', 'SSM "higher throughput" (10,000 per second, billed per call)'),
    row('Call setup webhooks', starting, QUOTAS.httpApiRatePerSecond, 'our HTTP API throttle (ThrottlingRateLimit 50)', '03_twiml-api ThrottlingRateLimit'),
  ];
  const bindsFirst = rows.reduce((max, r) => (r.use > max.use ? r : max));
  return { calls, turnsPerSecond, callsStartingPerSecond: starting, postsPerTurn, lambdaMsPerTurn, defaultConcurrency, rows, bindsFirst };
}

const n = (v: number) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));

export function renderLoadModel(counts: TurnCountsResult, models: LoadModel[], a: Assumptions = DEFAULT_ASSUMPTIONS): string {
  const c = counts;
  const lines = [
    '## The model, computed',
    '',
    'Generated by `npm run scaling` from `bench/turn-counts.json` (written by `npm run bench -- --counts`, ' +
      `measured ${c.measuredAt}); change the code, measure again, regenerate.`,
    '',
    '**Measured on the real handlers** (local API Gateway and table, ' +
      `${c.settings.turns} turns of ${c.settings.tokens} tokens, PostToConnection at ${c.settings.postLatencyMs} ms; medians):`,
    '',
    '| per | Lambda invocations | DynamoDB reads | DynamoDB writes | PostToConnection |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| call start ($connect, setup frame) | ${c.callStart.invocations} | ${c.callStart.reads} | ${c.callStart.writes} | ${c.callStart.posts} |`,
    `| call setup (session write; ${a.callSetupReads} reads from its code) | 1 | ${a.callSetupReads} | ${c.callSetupWrites} | 0 |`,
    `| turn ($default, ${n(c.turn.lambdaMs)} ms with the bench LLM's ${c.turn.replyMs} ms) | ${c.turn.invocations} | ${c.turn.reads} | ${c.turn.writes} | ${c.turn.posts} |`,
    `| call end ($disconnect) | ${c.callEnd.invocations} | ${c.callEnd.reads} | ${c.callEnd.writes} | ${c.callEnd.posts} |`,
    '',
    `**Assumed for production:** calls of ${a.callSeconds} s, a turn every ${a.turnIntervalSeconds} s per call, ` +
      `replies of ${a.replyTokens} tokens at ${a.llmTokensPerSecond} tokens/s after ${a.llmFirstTokenMs} ms to the first token ` +
      `(so a $default turn runs about ${n(models[0]?.lambdaMsPerTurn ?? 0)} ms and makes about ${models[0]?.postsPerTurn ?? 0} posts), ` +
      `secrets re-read every ${a.secretsTtlSeconds} s. Flags of \`npm run scaling\` change them.`,
    '',
  ];
  for (const m of models) {
    lines.push(
      `### ${m.calls.toLocaleString('en-US')} simultaneous calls`,
      '',
      `${n(m.turnsPerSecond)} turns/s, ${n(m.callsStartingPerSecond)} calls starting/s. Binds first: **${m.bindsFirst.what}** ` +
        `(${Math.round(m.bindsFirst.use * 100)}% of ${m.bindsFirst.limitName}).`,
      '',
      '| demand | per second (concurrency: executions) | limit | use | to raise |',
      '| --- | ---: | ---: | ---: | --- |',
      ...[...m.rows]
        .sort((x, y) => y.use - x.use)
        .map((r) => `| ${r.what} | ${n(r.perSecond)} | ${n(r.limit)} (${r.limitName}) | ${Math.round(r.use * 100)}% | ${r.raise} |`),
      '',
    );
  }
  return lines.join('\n');
}
