import { updateProfile } from '../../layers/data/profiles.ts';
import type { Table } from '../../layers/data/table.ts';
import type { CallCost } from '../../scripts/lib/call-cost.ts';
import type { FunctionSize } from '../../scripts/lib/function-sizes.ts';
import type { Prices } from '../../scripts/lib/prices.ts';
import type { UsageMeter } from '../local/usage-meter.ts';
import { checkEval, type Check } from './assertions.ts';
import { CallDriver, freshNumber, type CallLog, type Dialer } from './call-driver.ts';
import type { EvalCase } from './eval-schema.ts';
import { gatherEvidence } from './evidence.ts';
import type { CallerSimulator, Judge } from './llm-roles.ts';

/**
 * Runs evals through a stand (the local runtime, or a deployed stack): each run places its calls over the real
 * wire, gathers the evidence and checks every expectation. Runs go in parallel up to a bound; each eval may be
 * repeated to measure a pass rate for models that do not answer the same way twice.
 */

/** Where calls go, and what of the app the runner can read. */
export interface Stand {
  dialer: Dialer;
  /** The app's table: seeds caller profiles, reads tool calls, turn records, table effects and the outbox. */
  table?: Table | undefined;
  meter?: UsageMeter | undefined;
  /** The model sessions use when they name none. */
  defaultModel: string;
  /**
   * Resolves once the app runs no handler (a local stand; a deployed one cannot say). What the app has not sent
   * by then, with the caller silent, is not coming: the runner need not wait out a timeout for it.
   */
  settled?: (() => Promise<void>) | undefined;
  /** Done with the stand: a pooled one is made ready for the next eval, any other one stops. */
  stop(): Promise<void>;
}

export interface RunOptions {
  cases: EvalCase[];
  /** A stand per run, to itself until it stops it (locally: a table as freshly loaded, nobody else's bookings). */
  openStand: () => Promise<Stand>;
  repeat?: number;
  concurrency?: number;
  prices: Prices;
  sizes: Map<string, FunctionSize>;
  judge?: Judge | undefined;
  simulator?: CallerSimulator | undefined;
  /** Said on each judge check and simulated eval that is skipped for want of a model. */
  offlineNote?: string;
  replyTimeoutMs?: number;
  onStart?: (evalCase: EvalCase, attempt: number) => void;
  onResult?: (run: EvalRun) => void;
}

export interface EvalRun {
  evalCase: EvalCase;
  attempt: number;
  status: 'pass' | 'fail' | 'skip';
  checks: Check[];
  log?: CallLog;
  cost?: CallCost | undefined;
  durationMs: number;
  note?: string;
}

export async function runEvals(options: RunOptions): Promise<EvalRun[]> {
  const repeat = options.repeat ?? 1;
  const jobs = options.cases.flatMap((evalCase) => Array.from({ length: repeat }, (_, attempt) => ({ evalCase, attempt: attempt + 1 })));
  const results: EvalRun[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      const job = jobs[index]!;
      options.onStart?.(job.evalCase, job.attempt);
      results[index] = await runOne(job.evalCase, job.attempt, options);
      options.onResult?.(results[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 2, jobs.length)) }, worker));
  return results;
}

async function runOne(evalCase: EvalCase, attempt: number, options: RunOptions): Promise<EvalRun> {
  const started = performance.now();
  const done = (run: Omit<EvalRun, 'evalCase' | 'attempt' | 'durationMs'>): EvalRun => ({ evalCase, attempt, durationMs: Math.round(performance.now() - started), ...run });
  if (evalCase.spec.simulated && !options.simulator) {
    return done({ status: 'skip', checks: [], note: `simulated caller skipped: ${options.offlineNote ?? 'no model for it'}` });
  }
  let stand: Stand | undefined;
  try {
    stand = await options.openStand();
    const numbers = new Map(evalCase.spec.callers.map((c) => [c.id, freshNumber()]));
    await seedProfiles(evalCase, numbers, stand.table);
    const driver = new CallDriver(stand.dialer, numbers, options.replyTimeoutMs, stand.settled);
    const log = evalCase.spec.simulated ? await simulate(driver, evalCase, options.simulator!) : await driver.run(evalCase);
    const evidence = await gatherEvidence(log, { table: stand.table, meter: stand.meter, prices: options.prices, sizes: options.sizes, defaultModel: stand.defaultModel });
    const checks = await checkEval({
      evalCase,
      evidence,
      numbers,
      table: stand.table,
      judge: options.judge,
      ...(options.offlineNote ? { judgeOff: options.offlineNote } : {}),
    });
    const failed = checks.some((c) => c.status === 'fail');
    const allSkipped = checks.length > 0 && checks.every((c) => c.status === 'skip');
    return done({ status: failed ? 'fail' : allSkipped ? 'skip' : 'pass', checks, log, cost: evidence.cost });
  } catch (err) {
    return done({ status: 'fail', checks: [{ scope: 'call', what: 'the eval ran', status: 'fail', detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }] });
  } finally {
    await stand?.stop();
  }
}

/** Callers who "called before": their profile names them and has chosen the use case under test. */
async function seedProfiles(evalCase: EvalCase, numbers: Map<string, string>, table: Table | undefined): Promise<void> {
  for (const caller of evalCase.spec.callers) {
    const useCase = caller.useCase ?? evalCase.useCaseId;
    const changes: Parameters<typeof updateProfile>[2] = {};
    if (useCase !== 'none') changes.useCaseId = useCase;
    if (caller.name) [changes.firstName, changes.lastName] = caller.name.split(' ') as [string, string];
    if (!Object.keys(changes).length) continue;
    if (!table) throw new Error(`caller "${caller.id}" needs a profile (use case ${useCase}): pass the table (--table) to seed it`);
    await updateProfile(table, numbers.get(caller.id)!, changes);
  }
}

/** A simulated caller: an LLM in a persona, pursuing a goal, for at most maxTurns utterances. */
async function simulate(driver: CallDriver, evalCase: EvalCase, simulator: CallerSimulator): Promise<CallLog> {
  const sim = evalCase.spec.simulated!;
  const callerId = evalCase.spec.callers[0]!.id;
  const leg = await driver.legFor(callerId);
  const heard: { who: 'caller' | 'app'; text: string }[] = [];
  const greeting = leg.call.relay.attributes.welcomeGreeting;
  if (greeting) heard.push({ who: 'app', text: greeting });
  for (let i = 0; i < sim.maxTurns && leg.call.isOpen; i++) {
    const turn = await simulator.next(sim.persona, sim.goal, heard);
    if (turn.say) {
      heard.push({ who: 'caller', text: turn.say });
      const reply = await driver.input(i, callerId, 'say', turn.say);
      if (reply.reply) heard.push({ who: 'app', text: reply.reply });
    }
    if (turn.hangUp) {
      driver.line({ who: 'system', callerId, text: 'caller hangs up' });
      break;
    }
  }
  await driver.finish(evalCase.spec.expect.ended?.expected === true);
  return driver.log;
}
