import { PreemptionSchema } from '../layers/data/index.ts';
import { sentText } from './turn-sample.ts';
import type { ResultTable, Verdict } from './report.ts';
import { fmt } from './report.ts';
import type { ReplyPlan, Stand, StandCall, UtteranceWire } from './stand.ts';
import { median, percentile } from './stats.ts';

/**
 * Preemptive generation, side by side in one run: the same utterance said with a partial prompt `leadMs` before
 * the final one, on three calls of our handler: preemption off, on with the final equal to the partial (the
 * speculative reply is adopted), and on with a final that differs (the speculation is dropped and the final
 * prompt asks the LLM itself). Utterances rotate between the three calls, so drift lands on all alike; each
 * call's first utterance is a warm-up.
 */
export type PreemptScenario = 'off' | 'match' | 'mismatch';
export const SCENARIOS: PreemptScenario[] = ['off', 'match', 'mismatch'];

export interface PreemptBenchOptions {
  turns: number;
  firstTokenMs: number;
  tokenGapMs: number;
  leadMs: number;
  tokens: number;
  postLatencyMs: number;
}

/** The setting: TTFT 300 ms, the partial 300 ms before the final prompt. */
export const PREEMPT_SETTINGS: PreemptBenchOptions = { turns: 10, firstTokenMs: 300, tokenGapMs: 10, leadMs: 300, tokens: 20, postLatencyMs: 10 };

export interface PreemptSample {
  /** Final prompt sent to the first text token posted (reaching the @connections endpoint). */
  firstPostedMs: number;
  llmRequests: number;
  /** Text posts that carried words of a speculative reply that was not adopted. */
  leakedPosts: number;
  problems: string[];
}

export interface PreemptBenchResult {
  options: PreemptBenchOptions;
  samples: Record<PreemptScenario, PreemptSample[]>;
}

const PARTIAL = 'Tell me about the apartment.';
const DIFFERENT_FINAL = 'Tell me about the apartment on Elm Street.';
/** Tokens tagged with which words they answer, so a speculative word that reaches the caller is caught. */
const SPECULATIVE_TAG = 'spec';

export async function runPreemptBench(stand: Stand, options: PreemptBenchOptions, progress: (line: string) => void = () => undefined): Promise<PreemptBenchResult> {
  stand.gateway.setPostLatency(options.postLatencyMs);
  const preemption = PreemptionSchema.parse({ enabled: true });
  const calls: Record<PreemptScenario, StandCall> = {
    off: await stand.openCall('ours'),
    match: await stand.openCall('ours', { preemption }),
    mismatch: await stand.openCall('ours', { preemption }),
  };
  const samples: Record<PreemptScenario, PreemptSample[]> = { off: [], match: [], mismatch: [] };
  try {
    for (let i = -1; i < options.turns; i++) {
      const order = SCENARIOS.map((_, k) => SCENARIOS[(k + Math.max(0, i)) % SCENARIOS.length]!);
      for (const scenario of order) {
        const sample = await runOne(stand, calls[scenario], scenario, options);
        if (i >= 0) samples[scenario].push(sample);
      }
    }
  } finally {
    for (const call of Object.values(calls)) await call.close();
  }
  for (const scenario of SCENARIOS) {
    progress(`  preemption ${scenario}: final prompt -> first token posted p50 ${fmt(median(samples[scenario].map((s) => s.firstPostedMs)))} ms`);
  }
  return { options, samples };
}

async function runOne(stand: Stand, call: StandCall, scenario: PreemptScenario, options: PreemptBenchOptions): Promise<PreemptSample> {
  const final = scenario === 'mismatch' ? DIFFERENT_FINAL : PARTIAL;
  // A speculation answers the partial's words; in the mismatch scenario its tokens carry a tag of their own.
  const reply = (userText: string): ReplyPlan => {
    const tag = scenario === 'mismatch' && userText === PARTIAL ? SPECULATIVE_TAG : 'w';
    return {
      tokens: Array.from({ length: options.tokens }, (_, k) => `${k === 0 ? '' : ' '}${tag}${k}${k === options.tokens - 1 ? '.' : ''}`),
      firstTokenMs: options.firstTokenMs,
      tokenGapMs: options.tokenGapMs,
    };
  };
  const wire = await stand.runUtterance(call, reply, { partial: PARTIAL, final, leadMs: options.leadMs });
  return measure(wire, scenario);
}

export function measure(wire: UtteranceWire, scenario: PreemptScenario): PreemptSample {
  const problems: string[] = [];
  const spoken = wire.posts.filter((p) => p.token.length > 0);
  const leakedPosts = spoken.filter((p) => p.token.includes(SPECULATIVE_TAG)).length;
  const answering = wire.requests.at(-1);
  const heard = wire.posts.map((p) => p.token).join('');
  if (!answering || answering.aborted) problems.push('the LLM request answering the final prompt was aborted or never made');
  else if (heard !== sentText(answering)) problems.push(`reply text differs from what the LLM sent: got ${JSON.stringify(heard.slice(0, 60))}`);
  if (leakedPosts > 0) problems.push(`${leakedPosts} post(s) carried a dropped speculation's words`);
  return { firstPostedMs: (spoken[0]?.receivedAt ?? Number.NaN) - wire.finalSentAt, llmRequests: wire.requests.length, leakedPosts, problems };
}

export function preemptTable(result: PreemptBenchResult): ResultTable {
  const row = (scenario: PreemptScenario, name: string) => {
    const s = result.samples[scenario];
    const first = s.map((x) => x.firstPostedMs);
    return [
      name,
      String(s.length),
      fmt(median(first)),
      fmt(percentile(first, 95)),
      fmt(median(s.map((x) => x.llmRequests)), 0),
      String(s.reduce((n, x) => n + x.leakedPosts, 0)),
    ];
  };
  const o = result.options;
  return {
    title: `Preemption: final prompt -> first token posted, ms (LLM time to first token ${o.firstTokenMs} ms, partial ${o.leadMs} ms before the final, ${o.tokens}-token replies, post latency ${o.postLatencyMs} ms)`,
    headers: ['turn', 'utterances', 'p50', 'p95', 'LLM requests p50', 'speculative posts heard'],
    rows: [
      row('off', 'without preemption'),
      row('match', 'with preemption, final = partial'),
      row('mismatch', 'with preemption, final differs'),
    ],
  };
}

export function preemptVerdicts(result: PreemptBenchResult): Verdict[] {
  const p50 = (scenario: PreemptScenario) => median(result.samples[scenario].map((s) => s.firstPostedMs)) ?? Number.NaN;
  const off = p50('off');
  const match = p50('match');
  const mismatch = p50('mismatch');
  const leaked = result.samples.mismatch.reduce((n, s) => n + s.leakedPosts, 0);
  const broken = SCENARIOS.flatMap((s) => result.samples[s]).filter((s) => s.problems.length > 0).length;
  return [
    {
      target: 'Preemption, final equal to the partial: final prompt -> first token posted p50 <= 30 ms, against TTFT + overhead without',
      met: match <= 30,
      detail: `p50 ${fmt(match)} ms with preemption against ${fmt(off)} ms without (TTFT ${result.options.firstTokenMs} ms)`,
    },
    {
      target: 'Preemption, final differing: no speculative token posted, first token no later than without preemption + 10 ms',
      met: leaked === 0 && mismatch <= off + 10,
      detail: `${leaked} speculative post(s) heard; p50 ${fmt(mismatch)} ms against ${fmt(off)} ms without (${fmt(mismatch - off)} ms)`,
    },
    {
      target: 'Every preemption utterance heard whole and in order, as the LLM sent it',
      met: broken === 0,
      detail: `${broken} utterance(s) with a problem`,
    },
  ];
}
