import type { SpeculationRecord, TurnRecord } from '../../../layers/data/index.ts';
import { metrics, MetricUnit } from '../../../layers/observability/metrics.ts';

/** EMF metrics of one turn, from its record: the numbers the latency dashboards plot. */
export function recordTurnMetrics(record: TurnRecord): void {
  const ms = MetricUnit.Milliseconds;
  if (record.firstTokenPostedAt !== undefined) metrics.addMetric('TimeToFirstTokenPosted', ms, record.firstTokenPostedAt - record.promptReceivedAt);
  if (record.llmFirstTokenAt !== undefined && record.llmRequestSentAt !== undefined) {
    metrics.addMetric('LlmTimeToFirstToken', ms, record.llmFirstTokenAt - record.llmRequestSentAt);
  }
  // Ours: from the prompt to the LLM request, plus from the LLM's first text to that text on the wire. Tool time
  // and LLM time are not ours; a turn whose first words were a keypad line or a filler has no posting phase.
  // A preempted turn asked the LLM before its prompt arrived: what it waited for is in TimeToFirstTokenPosted.
  if (!record.preempted && record.llmRequestSentAt !== undefined && record.llmFirstTextAt !== undefined && record.firstTokenPostedAt !== undefined) {
    const posting = record.firstTokenPostedAt - record.llmFirstTextAt;
    if (posting >= 0) metrics.addMetric('EngineOverhead', ms, record.llmRequestSentAt - record.promptReceivedAt + posting);
  }
  if (record.lastTokenPostedAt !== undefined && record.llmLastTokenAt !== undefined) {
    metrics.addMetric('LastTokenLag', ms, Math.max(0, record.lastTokenPostedAt - record.llmLastTokenAt));
  }
  for (const tool of record.tools ?? []) {
    metrics.addMetric('ToolDuration', ms, tool.durationMs);
    // Per tool as well, with a `tool` dimension: one custom metric per tool name, a small fixed set per use case
    // (never a per-call value). A dimension of its own needs its own EMF line (Powertools' single metric).
    const perTool = metrics.singleMetric();
    perTool.addDimension('tool', tool.name);
    perTool.addMetric('ToolDuration', ms, tool.durationMs);
  }
  if (record.posts !== undefined) metrics.addMetric('PostsPerTurn', MetricUnit.Count, record.posts);
  if (record.outcome === 'interrupted') metrics.addMetric('Interruptions', MetricUnit.Count, 1);
  if (record.outcome === 'superseded') metrics.addMetric('SupersededTurns', MetricUnit.Count, 1);
  if (record.outcome === 'failed') metrics.addMetric('TurnErrors', MetricUnit.Count, 1);
  if (record.usage) {
    metrics.addMetric('LlmInputTokens', MetricUnit.Count, record.usage.inputTokens);
    metrics.addMetric('LlmOutputTokens', MetricUnit.Count, record.usage.outputTokens);
  }
  if (record.preempted) {
    // The adopted speculation; a dropped one reports itself (recordSpeculationMetrics).
    metrics.addMetric('SpeculativeRequests', MetricUnit.Count, 1);
    metrics.addMetric('SpeculationsConfirmed', MetricUnit.Count, 1);
  }
}

/** A speculative turn that was never confirmed: its request and tokens are the cost of preemption. */
export function recordSpeculationMetrics(record: SpeculationRecord): void {
  metrics.addMetric('SpeculativeRequests', MetricUnit.Count, record.llmRequests);
  metrics.addMetric('SpeculationsWasted', MetricUnit.Count, 1);
  metrics.addMetric('SpeculativeWastedTokens', MetricUnit.Count, record.usage.inputTokens + record.usage.outputTokens);
}

export function countMetric(name: string): void {
  metrics.addMetric(name, MetricUnit.Count, 1);
}

/** At the end of every invocation; an invocation that measured nothing publishes nothing. */
export function flushMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
