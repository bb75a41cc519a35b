import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { buildAll, REPO_ROOT } from '../scripts/build.ts';
import { buildSpec, esbuildOptions } from '../scripts/lib/function-build.ts';
import { loadStacks, serverlessFunctions } from '../scripts/lib/stacks.ts';
import { median } from './stats.ts';

/**
 * Cold import of every Lambda bundle, built exactly as `sam build` builds it (scripts/build.ts buildAll): each
 * bundle imported in a fresh `node` process, N times, median of the import alone (node's own start excluded).
 * Then, for the $default bundle, where that time goes (a CPU profile of one import, mapped back through the
 * bundle's source map to packages) and what the esbuild property `MainFields: module,main` would change (the
 * bundle rebuilt with it and timed the same way); and, for the call-setup bundle, proof that it does not carry
 * the twilio SDK (its esbuild metafile inputs, and `require.cache` after the import).
 */
export interface BundleTiming {
  stack: string;
  functionId: string;
  bytes: number;
  importMs: number[];
  medianMs: number;
  /** Modules from node_modules/twilio in require.cache after the import (bundled code never shows here; external would). */
  twilioModulesLoaded: number;
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

export interface ColdImportResult {
  runs: number;
  bundles: BundleTiming[];
  defaultBundle?: { profile: Contributor[]; profiledMs: number; packageBytes: { what: string; bytes: number }[] };
  twilio?: TwilioCheck;
  mainFields: MainFieldsVariant[];
}

export interface ColdImportOptions {
  runs: number;
  /** Only these stack folders (tests); all by default. */
  stacks?: string[];
  /** Profile $default and rebuild the analysed bundles with MainFields (skipped in quick runs). */
  analyse?: boolean;
  progress?: (line: string) => void;
}

const run = promisify(execFile);
export const DEFAULT_FUNCTION = { stack: '02_cr-application', functionId: 'DefaultFunction' };
export const CALL_SETUP_FUNCTION = { stack: '03_twiml-api', functionId: 'CallSetupFunction' };

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
};

const IMPORT_SCRIPT = `
const { createRequire } = await import('node:module');
const started = performance.now();
await import(process.argv[1]);
const ms = performance.now() - started;
const cache = createRequire(process.cwd() + '/').cache;
const twilio = Object.keys(cache).filter((k) => /[\\\\/]node_modules[\\\\/]twilio[\\\\/]/.test(k)).length;
console.log(JSON.stringify({ ms, twilio }));
`;

/** Imports a bundle in a fresh node process; the import's own duration and the twilio modules it left loaded. */
export async function importOnce(file: string, extraArgs: string[] = []): Promise<{ ms: number; twilio: number }> {
  const { stdout } = await run(process.execPath, [...extraArgs, '--input-type=module', '-e', IMPORT_SCRIPT, pathToFileURL(file).href], {
    cwd: dirname(file),
    env: IMPORT_ENV,
    maxBuffer: 4 * 1024 * 1024,
  });
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as { ms: number; twilio: number };
}

async function timeImports(file: string, runs: number): Promise<{ times: number[]; twilio: number }> {
  const times: number[] = [];
  let twilio = 0;
  for (let i = 0; i < runs; i++) {
    const out = await importOnce(file);
    times.push(out.ms);
    twilio = Math.max(twilio, out.twilio);
  }
  return { times, twilio };
}

export async function measureColdImports(options: ColdImportOptions): Promise<ColdImportResult> {
  const progress = options.progress ?? (() => undefined);
  const outDir = await mkdtemp(join(tmpdir(), 'cr-bench-bundles-'));
  try {
    const built = await buildAll({ outDir, ...(options.stacks ? { stacks: options.stacks } : {}) });
    const bundles: BundleTiming[] = [];
    for (const entry of built) {
      const { times, twilio } = await timeImports(entry.outfile, options.runs);
      bundles.push({
        stack: entry.stack,
        functionId: entry.functionId,
        bytes: entry.bytes,
        importMs: times,
        medianMs: median(times) ?? Number.NaN,
        twilioModulesLoaded: twilio,
      });
      progress(`  ${entry.stack}/${entry.functionId}: ${(entry.bytes / 1024).toFixed(0)} KiB, import median ${(median(times) ?? Number.NaN).toFixed(1)} ms`);
    }
    const result: ColdImportResult = { runs: options.runs, bundles, mainFields: [] };
    const analysed = [DEFAULT_FUNCTION, CALL_SETUP_FUNCTION].filter((f) => built.some((b) => b.stack === f.stack && b.functionId === f.functionId));
    for (const target of analysed) {
      const asBuilt = bundles.find((b) => b.stack === target.stack && b.functionId === target.functionId)!;
      const rebuilt = await rebuild(target, join(outDir, 'analysis', target.functionId), {});
      if (target === CALL_SETUP_FUNCTION) result.twilio = twilioCheck(`${target.stack}/${target.functionId}`, rebuilt.metafile, asBuilt.twilioModulesLoaded);
      if (!options.analyse) continue;
      if (target === DEFAULT_FUNCTION) {
        result.defaultBundle = { ...(await profileImport(rebuilt.outfile)), packageBytes: packageBytes(rebuilt.metafile) };
      }
      // Nothing to compare once the template itself builds with the ES module builds first.
      if (rebuilt.mainFields === 'module,main') continue;
      const variant = await rebuild(target, join(outDir, 'analysis', `${target.functionId}-module-main`), { mainFields: ['module', 'main'] });
      const { times } = await timeImports(variant.outfile, options.runs);
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

/** The function's bundle built again with its template's BuildProperties, optionally overridden. */
async function rebuild(
  target: { stack: string; functionId: string },
  outdir: string,
  override: { mainFields?: string[] },
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
async function profileImport(file: string): Promise<{ profile: Contributor[]; profiledMs: number }> {
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
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const frame = nodes.get(cur)!.callFrame;
        if (frame.url === url) {
          const source = (map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string }).originalSource;
          if (source) return packageOf(source);
        }
        if (frame.functionName === '(garbage collector)') return '(garbage collection)';
        if (frame.functionName === 'evaluate' || frame.functionName === 'link' || frame.functionName === 'instantiate') inEvaluate = true;
      }
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
