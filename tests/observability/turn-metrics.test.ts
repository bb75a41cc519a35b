import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SpeculationRecord, TurnRecord } from '../../layers/data/turns.ts';

/**
 * The EMF lines a turn publishes: CloudWatch builds the latency metrics from exactly these. The suite turns metrics
 * off globally; this file turns them back on before the metrics module is loaded.
 */
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

async function publish(record: TurnRecord | SpeculationRecord): Promise<Record<string, unknown>[]> {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'ConversationRelayTest');
  vi.resetModules();
  const { recordTurnMetrics, recordSpeculationMetrics, flushMetrics } = await import('../../02_cr-application/src/handlers/turn-metrics.ts');
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  if ('speculationId' in record) recordSpeculationMetrics(record);
  else recordTurnMetrics(record);
  flushMetrics();
  vi.restoreAllMocks();
  // Per-tool lines (their own `tool` dimension) are published as they are recorded; the turn's line comes last.
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>).sort((a, b) => Number(a.tool !== undefined) - Number(b.tool !== undefined));
}

const base: TurnRecord = { sessionId: 's', turn: 1, useCaseId: 'default', callSid: 'CA1', kind: 'prompt', promptReceivedAt: 1_000, outcome: 'completed' };

describe('preemption metrics (CloudWatch EMF)', () => {
  it('a preempted turn counts its adopted speculation and tokens, and no engine overhead (its LLM request came first)', async () => {
    const [emf] = await publish({
      ...base,
      preempted: true,
      llmRequestSentAt: 700,
      llmFirstTokenAt: 1_000,
      llmFirstTextAt: 1_000,
      firstTokenPostedAt: 1_012,
      usage: { inputTokens: 900, outputTokens: 40, cachedTokens: 0 },
    });
    expect(emf).toMatchObject({ TimeToFirstTokenPosted: 12, SpeculativeRequests: 1, SpeculationsConfirmed: 1, LlmInputTokens: 900, LlmOutputTokens: 40 });
    expect(emf!.EngineOverhead).toBeUndefined();
  });

  it('a dropped speculation counts as waste, with its tokens', async () => {
    const [emf] = await publish({
      sessionId: 's',
      speculationId: 'x',
      useCaseId: 'default',
      callSid: 'CA1',
      startedAt: 1,
      endedAt: 2,
      reason: 'dropped',
      llmRequests: 1,
      usage: { inputTokens: 900, outputTokens: 25, cachedTokens: 0 },
    });
    expect(emf).toMatchObject({ SpeculativeRequests: 1, SpeculationsWasted: 1, SpeculativeWastedTokens: 925 });
  });
});

describe('turn metrics (CloudWatch EMF)', () => {
  it('publishes time to first word, LLM time to first token, our overhead, tail lag, tools and posts', async () => {
    const [emf] = await publish({
      ...base,
      llmRequestSentAt: 1_004,
      llmFirstTokenAt: 1_204,
      llmFirstTextAt: 1_204,
      firstTokenPostedAt: 1_207,
      llmLastTokenAt: 1_900,
      lastTokenPostedAt: 1_910,
      posts: 12,
      tools: [{ name: 'check_availability', startedAt: 1_300, durationMs: 80, ok: true }],
    });
    expect(emf).toMatchObject({
      TimeToFirstTokenPosted: 207,
      LlmTimeToFirstToken: 200,
      EngineOverhead: 7,
      LastTokenLag: 10,
      ToolDuration: 80,
      PostsPerTurn: 12,
    });
    const directives = (emf!._aws as { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string; Unit: string }[] }[] }).CloudWatchMetrics[0]!;
    expect(directives.Namespace).toBe('ConversationRelayTest');
    expect(directives.Metrics).toContainEqual({ Name: 'EngineOverhead', Unit: 'Milliseconds' });
  });

  it('does not count tool time as our overhead when the first words came after a tool round', async () => {
    const [emf] = await publish({
      ...base,
      llmRequestSentAt: 1_003,
      llmFirstTokenAt: 1_200, // a tool-call chunk
      llmFirstTextAt: 1_900, // the answer after the tool round
      firstTokenPostedAt: 1_902,
      outcome: 'interrupted',
    });
    expect(emf).toMatchObject({ EngineOverhead: 5, Interruptions: 1 });
  });

  it('publishes nothing for an invocation that measured nothing', async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.resetModules();
    const { flushMetrics } = await import('../../02_cr-application/src/handlers/turn-metrics.ts');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    flushMetrics();
    expect(write).not.toHaveBeenCalled();
  });
});
