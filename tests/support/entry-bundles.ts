import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';

/**
 * The npm scripts that run one of our TypeScript entry points through tsx, each as one esbuild bundle that plain
 * `node` runs. Starting tsx costs about as much CPU as what most of these commands do (a second node process for
 * the wrapper, then the loader transforming the module graph on every start), and the tests start them dozens
 * of times; a bundle built once per run starts in a fraction of it.
 *
 * A bundle behaves as its sources do under tsx: every module's `import.meta.url`/`dirname`/`filename` is its own
 * source file's (paths next to the code, `createRequire`, the "am I the entry point" check), and `process.argv[1]`
 * is the entry's source path, as tsx sets it. Packages stay external and load from node_modules as they do under
 * tsx. A dynamic `import()` stays one: what it loads goes into a chunk of its own, loaded when the source would
 * load it (esbuild's code splitting). In a single file esbuild hoists every package import to the top, so `--help`
 * would load the whole graph (AWS SDK, openai...) that the entry point defers until its arguments are read.
 * What a bundle cannot do is import TypeScript at run time (use-case discovery does), so a command that reaches it
 * still needs tsx; it would fail loudly here, never pass by accident.
 */
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface NpmEntryCommand {
  /** The npm script, e.g. `start`. */
  name: string;
  /** Its entry point, relative to the repository root, e.g. `dev/local/main.ts`. */
  entry: string;
  /** Arguments the script passes before the caller's own (`destroy` passes `--destroy`). */
  args: string[];
}

/** The commands of package.json that run an entry point (not the test and typecheck wrappers). */
export function npmEntryCommands(root = ROOT): NpmEntryCommand[] {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  return Object.entries(scripts)
    .filter(([, line]) => line.startsWith('tsx '))
    .map(([name, line]) => {
      const [entry, ...args] = line.split(' ').slice(1);
      return { name, entry: entry!, args };
    });
}

/** The name of an entry's launcher in the output folder: its own path without `.ts` (`dev/local/main`). */
function launcherName(entry: string): string {
  return entry.replace(/\.ts$/, '');
}

/**
 * Each entry point is reached through a launcher of its own: it sets `process.argv[1]` to the entry's source path
 * (as tsx does) before the entry's first module runs, then imports the entry, whose modules land in chunks shared
 * with the other entries. One build for all entries parses the common modules once.
 */
function launchers(root: string): Plugin {
  return {
    name: 'entry-launchers',
    setup(b) {
      b.onResolve({ filter: /^entry-launcher:/ }, (args) => ({ path: args.path.slice('entry-launcher:'.length), namespace: 'entry-launcher' }));
      b.onLoad({ filter: /.*/, namespace: 'entry-launcher' }, (args) => ({
        contents: `process.argv[1] = ${JSON.stringify(join(root, args.path))};\nawait import(${JSON.stringify(join(root, args.path))});\n`,
        loader: 'js',
        resolveDir: root,
      }));
    },
  };
}

/** Each module keeps its own source location, whichever file it ends up bundled in. */
function sourceLocations(): Plugin {
  return {
    name: 'source-locations',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        const code = await readFile(args.path, 'utf8');
        // Module-level constants the `define`s below point at; esbuild renames them apart per module.
        const prelude =
          `const __source_url = ${JSON.stringify(pathToFileURL(args.path).href)}, ` +
          `__source_dirname = ${JSON.stringify(dirname(args.path))}, __source_filename = ${JSON.stringify(args.path)};`;
        return { contents: prelude + code, loader: 'ts' };
      });
    },
  };
}

/** What every build of the entries shares. */
function buildOptions(entries: string[], outDir: string, root: string): BuildOptions {
  return {
    entryPoints: Object.fromEntries(entries.map((entry) => [launcherName(entry), `entry-launcher:${entry}`])),
    outdir: outDir,
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
    plugins: [launchers(root), sourceLocations()],
    define: { 'import.meta.url': '__source_url', 'import.meta.dirname': '__source_dirname', 'import.meta.filename': '__source_filename' },
  };
}

/**
 * Bundles the entries into `outDir`, which must lie inside the repository so the external packages resolve from
 * its node_modules. Returns, per entry, its launcher's path or the build error (the test that runs the entry
 * reports it as its own failure): when the build of all fails, each entry is built alone to tell which.
 */
export async function buildEntryBundles(entries: string[], outDir: string, root = ROOT): Promise<Record<string, { path: string } | { error: string }>> {
  if (relative(root, outDir).startsWith('..')) throw new Error(`${outDir}: entry bundles must be written inside ${root}`);
  const unique = [...new Set(entries)];
  const path = (dir: string, entry: string) => ({ path: join(dir, `${launcherName(entry)}.mjs`) });
  try {
    await build(buildOptions(unique, outDir, root));
    return Object.fromEntries(unique.map((entry) => [entry, path(outDir, entry)]));
  } catch {
    const built: Record<string, { path: string } | { error: string }> = {};
    await Promise.all(
      unique.map(async (entry, i) => {
        const dir = join(outDir, `alone-${i}`);
        try {
          await build(buildOptions([entry], dir, root));
          built[entry] = path(dir, entry);
        } catch (err) {
          built[entry] = { error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    return built;
  }
}
