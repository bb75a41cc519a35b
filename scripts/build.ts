import { rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFunctions, buildSpec, type BuiltEntry } from './lib/function-build.ts';
import { buildLayer, layersOf, type BuiltLayer } from './lib/layer-build.ts';
import { describeMissing, loadStacks, serverlessFunctions } from './lib/stacks.ts';

/**
 * `npm run build`: bundles every function of every `0*_/template.yaml` exactly as `sam build` would (same esbuild
 * BuildProperties) into dist/<stack>/<function>/, and, with --layers, builds each layer's content into
 * dist/<stack>/<layer>/ (what Lambda mounts under /opt). Prints the bundle sizes.
 */
export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

export interface BuildAllOptions {
  outDir: string;
  root?: string;
  /** Only these stack folders (e.g. ['02_cr-application']). */
  stacks?: string[];
}

export async function buildAll(options: BuildAllOptions): Promise<BuiltEntry[]> {
  const root = options.root ?? REPO_ROOT;
  const fns = loadStacks(root).stacks.filter((stack) => !options.stacks || options.stacks.includes(stack.folder)).flatMap(serverlessFunctions);
  // Side by side in shared esbuild runs: each bundle is still byte for byte its own build (tests/deploy/
  // build-parity.test.ts), and the packages every function uses are parsed once instead of once per function.
  const results = await buildFunctions(
    fns.map((fn) => buildSpec(fn)),
    options.outDir,
    fns.map((fn) => join(fn.stack.folder, fn.functionId)),
    root,
  );
  const failed = results.flatMap((r, i) => (r instanceof Error ? [`${fns[i]!.stack.folder}/${fns[i]!.functionId}: ${r.message}`] : []));
  if (failed.length) throw new Error(`build failed:\n${failed.join('\n')}`);
  return results.flatMap((r) => (r instanceof Error ? [] : r.entries));
}

export async function buildAllLayers(options: BuildAllOptions): Promise<BuiltLayer[]> {
  const root = options.root ?? REPO_ROOT;
  const out: BuiltLayer[] = [];
  for (const stack of loadStacks(root).stacks) {
    if (options.stacks && !options.stacks.includes(stack.folder)) continue;
    for (const layer of layersOf(stack)) out.push(await buildLayer(layer, join(options.outDir, stack.folder, layer.layerId)));
  }
  return out;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1).padStart(8)} KiB`;
}

const USAGE = `Usage: npm run build -- [--layers]
  Bundles every Lambda function of every stack into dist/ with esbuild, as sam build would.
  --layers      also build the shared-dependency layers
  -h, --help    show this help`;

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const unknown = argv.find((a) => a !== '--layers');
  if (unknown) throw new Error(`unknown argument ${unknown}\n\n${USAGE}`);
  const outDir = resolve(REPO_ROOT, 'dist');
  rmSync(outDir, { recursive: true, force: true });
  const { missing } = loadStacks(REPO_ROOT);
  if (missing.length) console.warn(`build: ${describeMissing(missing)}`);
  const built = await buildAll({ outDir });
  for (const b of built) console.log(`${kib(b.bytes)}  ${b.stack}/${b.functionId}  ${relative(REPO_ROOT, b.outfile)}`);
  console.log(`${built.length} bundle(s) in ${relative(REPO_ROOT, outDir)}/`);
  if (argv.includes('--layers')) {
    for (const layer of await buildAllLayers({ outDir })) {
      console.log(`${kib(layer.bytes)}  ${layer.stack}/${layer.layerId}  ${relative(REPO_ROOT, layer.outDir)} (${layer.packages.length} packages)`);
    }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
