import { existsSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import type { FunctionResource } from './stacks.ts';

/**
 * Bundles a function's entry points the way `sam build` does for `Metadata: BuildMethod: esbuild`
 * (aws-lambda-builders passes BuildProperties straight to the esbuild CLI, with --bundle --platform=node and
 * its own defaults for Minify and Target), so what tests and the benchmark load is what Lambda runs.
 */
export interface BuildProperties {
  EntryPoints?: string[];
  Format?: 'esm' | 'cjs';
  Minify?: boolean;
  Target?: string;
  Sourcemap?: boolean;
  External?: string[];
  Loader?: string[];
  MainFields?: string;
  OutExtension?: string[];
  Banner?: string[];
  Footer?: string[];
  KeepNames?: boolean;
}

export interface FunctionBuildSpec {
  fn: FunctionResource;
  /** Absolute directory that CodeUri points at (what SAM copies and builds in). */
  codeDir: string;
  properties: BuildProperties;
  /** Absolute paths of the entry points. */
  entryPoints: string[];
  /** `Handler` split: module path (relative to the artifact root) and the exported name. */
  handlerModule: string;
  handlerExport: string;
}

export function buildSpec(fn: FunctionResource): FunctionBuildSpec {
  const where = `${fn.stack.folder}/${fn.functionId}`;
  if (fn.resource.Metadata?.BuildMethod !== 'esbuild') throw new Error(`${where}: Metadata.BuildMethod must be esbuild`);
  const codeUri = fn.properties.CodeUri;
  if (typeof codeUri !== 'string') throw new Error(`${where}: CodeUri must be a local path`);
  const properties = (fn.resource.Metadata.BuildProperties ?? {}) as BuildProperties;
  const codeDir = resolve(fn.stack.dir, codeUri);
  const entryPoints = (properties.EntryPoints ?? []).map((e) => resolve(codeDir, e));
  if (!entryPoints.length) throw new Error(`${where}: BuildProperties.EntryPoints is empty`);
  const handler = String(fn.properties.Handler ?? '');
  const dot = handler.lastIndexOf('.');
  if (dot <= 0) throw new Error(`${where}: Handler "${handler}" is not <module>.<export>`);
  return { fn, codeDir, properties, entryPoints, handlerModule: handler.slice(0, dot), handlerExport: handler.slice(dot + 1) };
}

function pairs(list: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const at = item.indexOf('=');
    if (at <= 0) throw new Error(`${what}: "${item}" is not key=value`);
    out[item.slice(0, at)] = item.slice(at + 1);
  }
  return out;
}

export function esbuildOptions(spec: FunctionBuildSpec, outdir: string): BuildOptions {
  const p = spec.properties;
  const options: BuildOptions = {
    absWorkingDir: spec.codeDir,
    entryPoints: spec.entryPoints.map((e) => relative(spec.codeDir, e)),
    bundle: true,
    platform: 'node',
    outdir,
    format: p.Format ?? 'cjs',
    // aws-lambda-builders' defaults when a property is absent.
    minify: p.Minify ?? true,
    target: p.Target ?? 'es2020',
    sourcemap: p.Sourcemap ?? false,
    external: p.External ?? [],
    loader: pairs(p.Loader, 'Loader') as BuildOptions['loader'],
    outExtension: pairs(p.OutExtension, 'OutExtension'),
    banner: pairs(p.Banner, 'Banner'),
    footer: pairs(p.Footer, 'Footer'),
    keepNames: p.KeepNames ?? false,
    metafile: true,
    logLevel: 'silent',
  };
  if (p.MainFields) options.mainFields = p.MainFields.split(',');
  return options;
}

export interface BuiltEntry {
  stack: string;
  functionId: string;
  /** Entry point, relative to the repository root. */
  entry: string;
  /** Absolute path of the bundle. */
  outfile: string;
  bytes: number;
}

export interface FunctionBuild {
  spec: FunctionBuildSpec;
  entries: BuiltEntry[];
  metafile: Metafile;
  /** Absolute path of the file Lambda loads for `Handler`, if the build produced it. */
  handlerFile: string | undefined;
  /** Names the handler file exports (from esbuild's metafile). */
  handlerFileExports: string[];
}

export async function buildFunction(spec: FunctionBuildSpec, outdir: string, root: string): Promise<FunctionBuild> {
  const result = await build(esbuildOptions(spec, outdir));
  return collect(spec, result.metafile!, outdir, root);
}

/** What a build made of one function: its entry bundles and the file Lambda loads for its Handler. */
function collect(spec: FunctionBuildSpec, metafile: Metafile, outdir: string, root: string): FunctionBuild {
  const entries: BuiltEntry[] = [];
  let handlerFile: string | undefined;
  let handlerFileExports: string[] = [];
  for (const [out, info] of Object.entries(metafile.outputs)) {
    const outfile = resolve(spec.codeDir, out);
    if (info.entryPoint) {
      entries.push({
        stack: spec.fn.stack.folder,
        functionId: spec.fn.functionId,
        entry: relative(root, resolve(spec.codeDir, info.entryPoint)),
        outfile,
        bytes: info.bytes,
      });
    }
    // Lambda's Node.js runtime looks for <module>.js, .mjs then .cjs under the artifact root.
    const rel = relative(outdir, outfile);
    const withoutExt = join(dirname(rel), basename(rel).replace(/\.(mjs|cjs|js)$/, ''));
    if (withoutExt === spec.handlerModule && !handlerFile) {
      handlerFile = outfile;
      handlerFileExports = info.exports;
    }
  }
  return { spec, entries, metafile, handlerFile, handlerFileExports };
}

/**
 * Functions that can share one esbuild run: the same options but for their entry points (and outdir) and
 * their externals. The run marks every member's externals external; `foreignExternals` then says which member
 * would have bundled something the run left out, and that member is built alone.
 */
export interface SharedRun {
  members: number[];
  external: string[];
}

export function sharedRuns(options: BuildOptions[], members: number[] = options.map((_, i) => i)): SharedRun[] {
  const runs = new Map<string, SharedRun>();
  for (const i of members) {
    const { entryPoints: _, outdir: __, external = [], ...shared } = options[i]!;
    const key = JSON.stringify(shared);
    const run = runs.get(key) ?? { members: [], external: [] };
    run.members.push(i);
    run.external = [...new Set([...run.external, ...external])].sort();
    runs.set(key, run);
  }
  return [...runs.values()];
}

/** Whether esbuild's `external` pattern (a path, its subpaths, or one `*` wildcard) covers an import path. */
function externalCovers(pattern: string, path: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return path === pattern || path.startsWith(`${pattern}/`);
  const [before, after] = [pattern.slice(0, star), pattern.slice(star + 1)];
  return path.length >= before.length + after.length && path.startsWith(before) && path.endsWith(after);
}

/** True when a member's part of a shared run imports something left external only for another member. */
export function foreignExternals(part: Metafile, own: string[], run: SharedRun): boolean {
  const foreign = run.external.filter((e) => !own.includes(e));
  return (
    foreign.length > 0 &&
    Object.values(part.inputs).some((input) => input.imports.some((imp) => imp.external && foreign.some((e) => externalCovers(e, imp.path))))
  );
}

/** How `inSharedRuns` turns a set of functions' shared runs into one result per function. */
export interface SharedRunPlan<T> {
  /** The entry points of a run's members, each output placed so that `ownOutput` can tell whose it is. */
  entryPoints(members: number[]): { in: string; out: string }[];
  /** Which of a run's outputs (as its metafile names them) are member i's. */
  ownOutput(i: number): (out: string) => boolean;
  /** What member i's part of its run's metafile becomes. */
  fromPart(i: number, part: Metafile): T;
  /** Member i done on its own: when its run fails, or its part imports what only another member marks external. */
  alone(i: number): Promise<T>;
}

const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

/**
 * `members` of `options` in one esbuild run per set that `sharedRuns` groups, each member's result made from its
 * own part of the run's metafile (without code splitting every output holds only what its entry reaches, as a
 * build of that member alone would). A failed run is redone member by member, so a failure is reported against
 * the function that has it; the result at a member's index is then its error.
 */
export async function inSharedRuns<T>(options: BuildOptions[], members: number[], plan: SharedRunPlan<T>): Promise<(T | Error)[]> {
  const results: (T | Error)[] = [];
  const alone = (i: number) => plan.alone(i).then((r) => (results[i] = r), (err: unknown) => (results[i] = asError(err)));
  await Promise.all(
    sharedRuns(options, members).map(async (run) => {
      let metafile: Metafile;
      try {
        metafile = (await build({ ...options[run.members[0]!]!, external: run.external, entryPoints: plan.entryPoints(run.members) })).metafile!;
      } catch {
        await Promise.all(run.members.map(alone));
        return;
      }
      await Promise.all(
        run.members.map(async (i) => {
          const part = metafilePart(metafile, plan.ownOutput(i));
          if (foreignExternals(part, options[i]!.external ?? [], run)) return alone(i);
          results[i] = plan.fromPart(i, part);
        }),
      );
    }),
  );
  return results;
}

/**
 * Several functions, each into `join(outdir, names[i])`, with the same bundles `buildFunction` makes of each
 * alone, single-entry functions in shared runs (`inSharedRuns`): byte for byte what a build of each function alone
 * writes (tests/deploy/build-parity.test.ts compares one), with the shared code parsed once instead of once per
 * function. A function with several entry points (its output layout depends on them all) is built alone.
 */
export async function buildFunctions(specs: FunctionBuildSpec[], outdir: string, names: string[], root: string): Promise<(FunctionBuild | Error)[]> {
  const alone = (i: number) => buildFunction(specs[i]!, join(outdir, names[i]!), root);
  const single = specs.flatMap((spec, i) => (spec.entryPoints.length === 1 ? [i] : []));
  const several = specs.flatMap((spec, i) => (spec.entryPoints.length === 1 ? [] : [i]));
  const [results, built] = await Promise.all([
    inSharedRuns(
      specs.map((spec) => esbuildOptions(spec, outdir)),
      single,
      {
        // A one-entry build writes <entry name>.<ext> at the top of its outdir: the same file, under the function's folder.
        entryPoints: (members) =>
          members.map((i) => ({ in: specs[i]!.entryPoints[0]!, out: join(names[i]!, basename(specs[i]!.entryPoints[0]!).replace(/\.[cm]?[jt]sx?$/, '')) })),
        ownOutput: (i) => (out) => resolve(specs[i]!.codeDir, out).startsWith(`${join(outdir, names[i]!)}/`),
        fromPart: (i, part) => collect(specs[i]!, part, join(outdir, names[i]!), root),
        alone,
      },
    ),
    Promise.all(several.map((i) => alone(i).catch(asError))),
  ]);
  several.forEach((i, k) => (results[i] = built[k]!));
  return results;
}

/**
 * The part of a shared run's metafile that one function's build alone would write: the outputs `ownOutput`
 * accepts, and the inputs their entry points import, directly or not.
 */
export function metafilePart(metafile: Metafile, ownOutput: (out: string) => boolean): Metafile {
  const outputs = Object.fromEntries(Object.entries(metafile.outputs).filter(([out]) => ownOutput(out)));
  const seen = new Set<string>();
  const todo = Object.values(outputs).flatMap((o) => (o.entryPoint ? [o.entryPoint] : []));
  while (todo.length) {
    const path = todo.pop()!;
    if (seen.has(path) || !metafile.inputs[path]) continue;
    seen.add(path);
    for (const imp of metafile.inputs[path].imports) if (!imp.external) todo.push(imp.path);
  }
  return { inputs: Object.fromEntries([...seen].map((path) => [path, metafile.inputs[path]!])), outputs };
}

export function missingEntryPoints(spec: FunctionBuildSpec): string[] {
  return spec.entryPoints.filter((e) => !existsSync(e));
}
