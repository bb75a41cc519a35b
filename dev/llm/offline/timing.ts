import type { Timing } from '../reply.ts';

/** A realistic pace, so interruption and latency behave locally roughly as they do against a hosted model. */
export const OFFLINE_MODEL_TIMING = { firstTokenMs: 250, tokenGapMs: 30 } as const satisfies Required<Timing>;
