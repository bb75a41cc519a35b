import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile, type Plugin } from 'esbuild';
import { buildAll, REPO_ROOT } from '../scripts/build.ts';
import { buildSpec, esbuildOptions, type BuiltEntry } from '../scripts/lib/function-build.ts';
import { lambdaNodeOptions } from '../scripts/lib/function-env.ts';
import { loadStacks, serverlessFunctions } from '../scripts/lib/stacks.ts';
import { piecesIn, withoutPiece, type Piece } from './import-pieces.ts';
import { median } from './stats.ts';

/**
 * Cold import of every Lambda bundle, built exactly as `sam build` builds it (scripts/build.ts buildAll): each
 * bundle imported in a fresh `node` process, N times, median of the import alone (node's own start excluded),
 * with the NODE_OPTIONS its template gives the function (source maps cost time at import and at the first stack
 * trace); then the first `error.stack` of the process, taken inside the handler's own frames. The same bundles of
 * a baseline commit (bench/cold-start-baseline.json names it) are built from git and timed in the same run,
 * interleaved, so a regression shows side by side.
 * Each import is timed twice: wall clock (the target) and the process's CPU time (user + system), which another
 * process's load on the machine inflates far less, so a change shows even when the machine is busy.
 * Then, for each hot bundle ($connect, $default, $disconnect, call setup), where that time goes: a CPU profile of
 * one import mapped back through the bundle's source map to packages, and what each large piece costs (the
 * bundle rebuilt without it, bench/import-pieces.ts); what the esbuild property `MainFields: module,main` would
 * change where a template lacks it; and, for the call-setup bundle, proof that it does not carry the twilio SDK
 * (its esbuild metafile inputs, and `require.cache` after the import).
 */
export interface BundleTiming {
  stack: string;
  functionId: string;
  bytes: number;
  importMs: number[];
  medianMs: number;
  /** CPU time (user + system) of the same imports. */
  cpuMs: number[];
  cpuMedianMs: number;
  /** Modules from node_modules/twilio in require.cache after the import (bundled code never shows here; external would). */
  twilioModulesLoaded: number;
  /** NODE_OPTIONS the template gives the function (with its parameters' defaults), as Lambda starts node. */
  nodeOptions: string;
  /** The first `error.stack` read inside the handler's frames, per process; empty when the handler never got there. */
  firstStackMs: number[];
  firstStackMedianMs: number;
}

/** The same bundles of an earlier commit, built and timed in the same run. */
export interface BaselineRun {
  ref: string;
  bundles: BundleTiming[];
}

/** bench/cold-start-baseline.json: the figures of the baseline commit, as measured when it was recorded. */
export interface BaselineFile {
  commit: string;
  measuredAt: string;
  machine: string;
  command: string;
  runs: number;
  bundles: { bundle: string; bytes: number; importMedianMs: number; importCpuMedianMs?: number; firstStackMedianMs: number | null; nodeOptions: string }[];
}

export interface Contributor {
  what: string;
  ms: number;
}

export interface TwilioCheck {
  bundle: string;
  /** Inputs from node_modules/twilio in the bundle's esbuild metafile, and their bytes in the output. */
  twilioInputs: number;
  twilioBytes: number;
  /** Whether the SDK's REST client (twilio/lib/rest, what `import twilio from 'twilio'` pulls in) is among them. */
  fullSdk: boolean;
  twilioModulesLoaded: number;
}

export interface MainFieldsVariant {
  functionId: string;
  asBuilt: { bytes: number; medianMs: number };
  moduleMain: { bytes: number; medianMs: number };
}

/** One hot bundle's import, taken apart: a CPU profile by package, its biggest packages, and what each piece costs. */
export interface BundleAnalysis {
  bundle: string;
  profile: Contributor[];
  profiledMs: number;
  packageBytes: { what: string; bytes: number }[];
  pieces: PieceCost[];
}

/** The bundle without one piece, timed interleaved with the bundle as built (same runs, same moments). */
export interface PieceCost {
  piece: string;
  bytesWithout: number;
  /** Medians of the bundle as built and without the piece, wall and CPU. */
  asBuilt: { medianMs: number; cpuMedianMs: number };
  without: { medianMs: number; cpuMedianMs: number };
}

export interface ColdImportResult {
  runs: number;
  bundles: BundleTiming[];
  /** The hot bundles taken apart (with `analyse`). */
  analyses: BundleAnalysis[];
  twilio?: TwilioCheck;
  mainFields: MainFieldsVariant[];
  baseline?: BaselineRun;
  /** Why no baseline was built in this run (no git, commit not in this clone...). */
  baselineSkipped?: string;
}

export interface ColdImportOptions {
  runs: number;
  /** Only these stack folders (tests); all by default. */
  stacks?: string[];
  /** Profile the hot bundles, time them without each large piece, and try MainFields (skipped in quick runs). */
  analyse?: boolean;
  /** A git ref whose bundles are built and timed alongside (bench/cold-start-baseline.json's commit by default). */
  baselineRef?: string;
  progress?: (line: string) => void;
}

const run = promisify(execFile);
export const DEFAULT_FUNCTION = { stack: '02_cr-application', functionId: 'DefaultFunction' };
export const CALL_SETUP_FUNCTION = { stack: '03_twiml-api', functionId: 'CallSetupFunction' };
/** The functions a caller waits on at a cold start: the targets of the cold-start budget. */
export const HOT_FUNCTIONS = [
  { stack: '02_cr-application', functionId: 'ConnectFunction' },
  DEFAULT_FUNCTION,
  { stack: '02_cr-application', functionId: 'DisconnectFunction' },
  CALL_SETUP_FUNCTION,
];

// The environment a function has in Lambda, as far as module scope might read it; no credentials needed to import.
const IMPORT_ENV = {
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'us-east-1',
  TABLE_NAME: 'bench-table',
  AWS_LAMBDA_FUNCTION_NAME: 'bench-function',
  LOG_LEVEL: 'ERROR',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
  NODE_NO_WARNINGS: '1',
  // The stack probe calls the handler: whatever AWS call it might start stays on this machine and fails at once.
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  AWS_EC2_METADATA_DISABLED: 'true',
  TWILIO_AUTH_TOKEN_PARAM: '/bench/twilio-auth-token',
  OPENAI_API_KEY_PARAM: '/bench/openai-api-key',
};

// The import alone is timed; then the handler is called with an event and a context whose every property read
// takes the process's first stack trace (inside the handler's frames, so a source-mapped bundle pays for its map
// there, as on the first logged error of a container) and then throws.
const IMPORT_SCRIPT = `
const { createRequire } = await import('node:module');
const cpuStart = process.cpuUsage();
const started = performance.now();
const mod = await import(process.argv[1]);
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpuStart);
const cpuMs = (cpu.user + cpu.system) / 1000;
const cache = createRequire(process.cwd() + '/').cache;
const twilio = Object.keys(cache).filter((k) => /[\\\\/]node_modules[\\\\/]twilio[\\\\/]/.test(k)).length;
let stackMs = null;
const handler = mod[process.argv[2]];
if (typeof handler === 'function') {
  const trap = () => {
    if (stackMs === null) {
      const probe = new Error('stack probe');
      const t = performance.now();
      void probe.stack;
      stackMs = performance.now() - t;
    }
    throw new Error('stack probe');
  };
  const event = new Proxy({}, { get: trap, has: trap, ownKeys: trap, getOwnPropertyDescriptor: trap });
  const done = Promise.resolve().then(() => handler(event, event)).catch(() => undefined);
  await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
}
process.stdout.write('\\n@@cold-import ' + JSON.stringify({ ms, cpuMs, twilio, stackMs }) + '\\n', () => process.exit(0));
`;

export interface ImportSample {
  ms: number;
  cpuMs: number;
  twilio: number;
  stackMs: number | null;
}

/** Imports a bundle in a fresh node process: the import's own duration, the twilio modules it left loaded, the first stack. */
export async function importOnce(file: string, extraArgs: string[] = [], target: { nodeOptions?: string; handlerExport?: string } = {}): Promise<ImportSample> {
  const env: NodeJS.ProcessEnv = { ...IMPORT_ENV };
  if (target.nodeOptions) env.NODE_OPTIONS = target.nodeOptions;
  // Where Lambda finds the layer's packages (/opt/nodejs/node_modules); here, the repository's.
  env.NODE_PATH = resolve(REPO_ROOT, 'node_modules');
  const { stdout } = await run(process.execPath, [...extraArgs, '--input-type=module', '-e', IMPORT_SCRIPT, pathToFileURL(file).href, target.handlerExport ?? ''], {
    cwd: dirname(file),
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('@@cold-import '));
  if (!line) throw new Error(`${file}: the import probe printed no result`);
  return JSON.parse(line.slice('@@cold-import '.length)) as ImportSample;
}

/** A bundle as built, with how Lambda would start it. */
interface Target {
  entry: BuiltEntry;
  nodeOptions: string;
  handlerExport: string;
}

function emptyTiming(t: Target): BundleTiming {
  return {
    stack: t.entry.stack,
    functionId: t.entry.functionId,
    bytes: t.entry.bytes,
    importMs: [],
    medianMs: Number.NaN,
    cpuMs: [],
    cpuMedianMs: Number.NaN,
    twilioModulesLoaded: 0,
    nodeOptions: t.nodeOptions,
    firstStackMs: [],
    firstStackMedianMs: Number.NaN,
  };
}

async function sample(t: Target, into: BundleTiming): Promise<void> {
  const out = await importOnce(t.entry.outfile, [], t);
  into.importMs.push(out.ms);
  into.cpuMs.push(out.cpuMs);
  into.cpuMedianMs = median(into.cpuMs) ?? Number.NaN;
  if (out.stackMs !== null) into.firstStackMs.push(out.stackMs);
  into.twilioModulesLoaded = Math.max(into.twilioModulesLoaded, out.twilio);
  into.medianMs = median(into.importMs) ?? Number.NaN;
  into.firstStackMedianMs = median(into.firstStackMs) ?? Number.NaN;
}

async function targetsFor(root: string, outDir: string, stacks: string[] | undefined): Promise<Target[]> {
  const built = await buildAll({ outDir, root, ...(stacks ? { stacks } : {}) });
  const fns = loadStacks(root).stacks.flatMap(serverlessFunctions);
  return built.map((entry) => {
    const fn = fns.find((f) => f.stack.folder === entry.stack && f.functionId === entry.functionId)!;
    return { entry, nodeOptions: lambdaNodeOptions(fn), handlerExport: buildSpec(fn).handlerExport };
  });
}

export const BASELINE_FILE = resolve(REPO_ROOT, 'bench/cold-start-baseline.json');

export async function readBaselineFile(path = BASELINE_FILE): Promise<BaselineFile | undefined> {
  if (!existsSync(path)) return undefined;
  return JSON.parse(await readFile(path, 'utf8')) as BaselineFile;
}

export async function writeBaselineFile(result: ColdImportResult, commit: string, machine: string, command: string, path = BASELINE_FILE): Promise<void> {
  const file: BaselineFile = {
    commit,
    measuredAt: new Date().toISOString(),
    machine,
    command,
    runs: result.runs,
    bundles: result.bundles.map((b) => ({
      bundle: `${b.stack}/${b.functionId}`,
      bytes: b.bytes,
      importMedianMs: Number(b.medianMs.toFixed(1)),
      importCpuMedianMs: Number(b.cpuMedianMs.toFixed(1)),
      firstStackMedianMs: Number.isFinite(b.firstStackMedianMs) ? Number(b.firstStackMedianMs.toFixed(1)) : null,
      nodeOptions: b.nodeOptions,
    })),
  };
  await writeFile(path, `${JSON.stringify(file, null, 2)}\n`);
}

/** The tree of `ref`, exported from git into `dir` (with this checkout's node_modules), to build its bundles. */
async function checkoutRef(ref: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await run('bash', ['-c', 'git -C "$1" archive --format=tar "$2" | tar -x -C "$3"', 'checkout', REPO_ROOT, ref, dir]);
  await symlink(resolve(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
}

export async function headCommit(): Promise<string> {
  return (await run('git', ['-C', REPO_ROOT, 'rev-parse', 'HEAD'])).stdout.trim();
}

export async function measureColdImports(options: ColdImportOptions): Promise<ColdImportResult> {
  const progress = options.progress ?? (() => undefined);
  const outDir = await mkdtemp(join(tmpdir(), 'cr-bench-bundles-'));
  try {
    const current = await targetsFor(REPO_ROOT, join(outDir, 'current'), options.stacks);
    let baseline: Target[] = [];
    let baselineSkipped: string | undefined;
    if (options.baselineRef) {
      try {
        await checkoutRef(options.baselineRef, join(outDir, 'baseline-src'));
        baseline = await targetsFor(join(outDir, 'baseline-src'), join(outDir, 'baseline'), options.stacks);
      } catch (err) {
        baselineSkipped = `baseline ${options.baselineRef} not built: ${(err as Error).message.split('\n')[0]}`;
        progress(`  ${baselineSkipped}`);
      }
    }
    const bundles = current.map(emptyTiming);
    const before = baseline.map(emptyTiming);
    // Interleaved (current, baseline, current...): a busy moment of the machine falls on both alike.
    for (let i = 0; i < options.runs; i++) {
      for (const [k, t] of current.entries()) {
        await sample(t, bundles[k]!);
        const j = baseline.findIndex((b) => b.entry.stack === t.entry.stack && b.entry.functionId === t.entry.functionId);
        if (j >= 0) await sample(baseline[j]!, before[j]!);
      }
    }
    for (const b of bundles) {
      const old = before.find((o) => o.stack === b.stack && o.functionId === b.functionId);
      progress(
        `  ${b.stack}/${b.functionId}: ${(b.bytes / 1024).toFixed(0)} KiB, import median ${b.medianMs.toFixed(1)} ms` +
          (old ? ` (baseline ${(old.bytes / 1024).toFixed(0)} KiB, ${old.medianMs.toFixed(1)} ms)` : ''),
      );
    }
    const built = current.map((t) => t.entry);
    const result: ColdImportResult = { runs: options.runs, bundles, analyses: [], mainFields: [] };
    if (options.baselineRef && !baselineSkipped) result.baseline = { ref: options.baselineRef, bundles: before };
    if (baselineSkipped) result.baselineSkipped = baselineSkipped;
    const analysed = HOT_FUNCTIONS.filter((f) => built.some((b) => b.stack === f.stack && b.functionId === f.functionId));
    for (const target of analysed) {
      const asBuilt = bundles.find((b) => b.stack === target.stack && b.functionId === target.functionId)!;
      const rebuilt = await rebuild(target, join(outDir, 'analysis', target.functionId), {});
      if (target === CALL_SETUP_FUNCTION) result.twilio = twilioCheck(`${target.stack}/${target.functionId}`, rebuilt.metafile, asBuilt.twilioModulesLoaded);
      if (!options.analyse) continue;
      const name = `${target.stack}/${target.functionId}`;
      const pieces = await measurePieces(target, rebuilt, join(outDir, 'analysis', `${target.functionId}-pieces`), options.runs);
      result.analyses.push({ bundle: name, ...(await profileImport(rebuilt.outfile)), packageBytes: packageBytes(rebuilt.metafile), pieces });
      for (const p of pieces) {
        progress(
          `  ${name} without ${p.piece}: ${(p.bytesWithout / 1024).toFixed(0)} KiB, import median ${p.without.medianMs.toFixed(1)} ms ` +
            `(CPU ${p.without.cpuMedianMs.toFixed(1)}) against ${p.asBuilt.medianMs.toFixed(1)} (CPU ${p.asBuilt.cpuMedianMs.toFixed(1)}) as built`,
        );
      }
      // Nothing to compare once the template itself builds with the ES module builds first.
      if (rebuilt.mainFields === 'module,main') continue;
      const variant = await rebuild(target, join(outDir, 'analysis', `${target.functionId}-module-main`), { mainFields: ['module', 'main'] });
      const times: number[] = [];
      for (let i = 0; i < options.runs; i++) times.push((await importOnce(variant.outfile)).ms);
      result.mainFields.push({
        functionId: `${target.stack}/${target.functionId}`,
        asBuilt: { bytes: asBuilt.bytes, medianMs: asBuilt.medianMs },
        moduleMain: { bytes: variant.bytes, medianMs: median(times) ?? Number.NaN },
      });
      progress(`  ${target.functionId} with MainFields module,main: ${(variant.bytes / 1024).toFixed(0)} KiB, import median ${(median(times) ?? Number.NaN).toFixed(1)} ms`);
    }
    return result;
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

/**
 * The bundle as built and, for each large piece in it, the bundle without that piece: all imported in turn in
 * fresh processes, `runs` rounds, so the differences are taken at the same moments of the machine.
 */
async function measurePieces(target: { stack: string; functionId: string }, asBuilt: { outfile: string; metafile: Metafile }, outdir: string, runs: number): Promise<PieceCost[]> {
  const variants: { piece: Piece; outfile: string; bytes: number }[] = [];
  for (const piece of piecesIn(asBuilt.metafile)) {
    const built = await rebuild(target, join(outdir, String(variants.length)), { plugins: [withoutPiece(piece)], sourcemap: false });
    variants.push({ piece, outfile: built.outfile, bytes: built.bytes });
  }
  const base: ImportSample[] = [];
  const without: ImportSample[][] = variants.map(() => []);
  for (let i = 0; i < runs; i++) {
    base.push(await importOnce(asBuilt.outfile));
    for (const [k, v] of variants.entries()) without[k]!.push(await importOnce(v.outfile));
  }
  const medians = (samples: ImportSample[]) => ({
    medianMs: median(samples.map((s) => s.ms)) ?? Number.NaN,
    cpuMedianMs: median(samples.map((s) => s.cpuMs)) ?? Number.NaN,
  });
  return variants.map((v, k) => ({ piece: v.piece.name, bytesWithout: v.bytes, asBuilt: medians(base), without: medians(without[k]!) }));
}

/** The function's bundle built again with its template's BuildProperties, optionally overridden. */
async function rebuild(
  target: { stack: string; functionId: string },
  outdir: string,
  override: { mainFields?: string[]; plugins?: Plugin[]; sourcemap?: boolean },
): Promise<{ outfile: string; bytes: number; metafile: Metafile; mainFields: string | undefined }> {
  const stack = loadStacks(REPO_ROOT).stacks.find((s) => s.folder === target.stack);
  const fn = stack && serverlessFunctions(stack).find((f) => f.functionId === target.functionId);
  if (!fn) throw new Error(`${target.stack}/${target.functionId} not found in its template`);
  const spec = buildSpec(fn);
  await mkdir(outdir, { recursive: true });
  const options = { ...esbuildOptions(spec, outdir), ...override };
  const result = await build(options);
  const metafile = result.metafile!;
  const [out, info] = Object.entries(metafile.outputs).find(([, o]) => o.entryPoint)!;
  return { outfile: resolve(spec.codeDir, out), bytes: info.bytes, metafile, mainFields: spec.properties.MainFields };
}

const packageOf = (path: string): string => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (m) return m[1]!;
  const own = /(0\d_[^/]+|layers)\/(?:src\/)?([^/]+)/.exec(path);
  return own ? `${own[1]}/${own[2]}` : path;
};

function entryOutput(metafile: Metafile) {
  return Object.values(metafile.outputs).find((o) => o.entryPoint)!;
}

function packageBytes(metafile: Metafile): { what: string; bytes: number }[] {
  const sums = new Map<string, number>();
  for (const [input, info] of Object.entries(entryOutput(metafile).inputs)) sums.set(packageOf(input), (sums.get(packageOf(input)) ?? 0) + info.bytesInOutput);
  return [...sums].map(([what, bytes]) => ({ what, bytes })).sort((a, b) => b.bytes - a.bytes);
}

export function twilioCheck(bundle: string, metafile: Metafile, twilioModulesLoaded: number): TwilioCheck {
  const inputs = Object.entries(entryOutput(metafile).inputs).filter(([path]) => /node_modules\/twilio\//.test(path));
  return {
    bundle,
    twilioInputs: inputs.length,
    twilioBytes: inputs.reduce((sum, [, info]) => sum + info.bytesInOutput, 0),
    fullSdk: inputs.some(([path]) => /node_modules\/twilio\/lib\/(rest\/|index\.js)/.test(path)),
    twilioModulesLoaded,
  };
}

// node's own functions that load a built-in module (node v20-v22).
const BUILTIN_LOADERS = new Set(['compileForPublicLoader', 'compileForInternalLoader', 'requireBuiltin']);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

/**
 * One import under `--cpu-prof`. Each sample is charged to the package of the innermost bundle frame on its stack
 * (mapped through the source map); samples inside the module's evaluation with no bundle frame are V8 parsing,
 * compiling and linking the bundle; node's own start-up is left out.
 */
export async function profileImport(file: string): Promise<{ profile: Contributor[]; profiledMs: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'cr-bench-prof-'));
  try {
    await importOnce(file, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100']);
    const name = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'));
    if (!name) return { profile: [], profiledMs: 0 };
    const prof = JSON.parse(await readFile(join(dir, name), 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
    const map = new SourceMap(JSON.parse(await readFile(`${file}.map`, 'utf8')) as never);
    const url = pathToFileURL(file).href;
    const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const charge = new Map<string, number>();
    const chargeFor = (id: number): string | undefined => {
      let inEvaluate = false;
      let builtin = false;
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const frame = nodes.get(cur)!.callFrame;
        if (frame.url === url) {
          const source = (map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string }).originalSource;
          if (source) return packageOf(source);
        }
        if (frame.functionName === '(garbage collector)') return '(garbage collection)';
        // An ES module bundle imports every node built-in it names before its own code runs (esbuild hoists them).
        if (BUILTIN_LOADERS.has(frame.functionName)) builtin = true;
        if (frame.functionName === 'evaluate' || frame.functionName === 'link' || frame.functionName === 'instantiate') inEvaluate = true;
      }
      if (builtin) return '(node built-in modules the bundle imports)';
      return inEvaluate ? '(V8 parse, compile and link of the bundle)' : undefined;
    };
    prof.samples.forEach((id, i) => {
      const ms = (prof.timeDeltas[i + 1] ?? 0) / 1000;
      const what = chargeFor(id);
      if (what) charge.set(what, (charge.get(what) ?? 0) + ms);
    });
    const profile = [...charge].map(([what, ms]) => ({ what, ms })).sort((a, b) => b.ms - a.ms);
    return { profile, profiledMs: profile.reduce((sum, c) => sum + c.ms, 0) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
