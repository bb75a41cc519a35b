import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { build, type BuildOptions, type Metafile, type OnResolveArgs, type OnResolveResult, type Plugin } from 'esbuild';
import { esbuildOptions, inSharedRuns, type FunctionBuildSpec } from './function-build.ts';

/**
 * Which AWS API calls a function's code can make, derived from what its bundle keeps: every
 * `@aws-sdk/client-<service>/dist-es/commands/<Name>Command.js` that survives tree-shaking is an API the code
 * reaches. The analysis build is the function's own build with two changes that only make tree-shaking exact:
 * the SDK's ES module files (mainFields module,main) and the `@aws-sdk/*` packages that do not say so themselves
 * marked side-effect free (lib-dynamodb's paginators would otherwise keep Query and Scan in every bundle that
 * touches the document client).
 */
export interface SdkCall {
  client: string;
  command: string;
  /** IAM actions the function's role needs for this call (all of them, or one of them when `anyOf`). */
  actions: string[];
  anyOf?: boolean;
}

/**
 * The `@aws-sdk/*` packages installed where a build resolves from (its working folder's node_modules and those
 * above it) whose package.json says nothing of side effects (or `true`): esbuild must then keep every file of
 * theirs that is imported. A package with a list (core names the one file that registers the partitions'
 * endpoint functions) keeps its own word: its other files are side-effect free already.
 */
function undeclaredSdkPackages(workingDir: string): string[] {
  const names = new Set<string>();
  for (let dir = workingDir; ; dir = dirname(dir)) {
    const scope = join(dir, 'node_modules', '@aws-sdk');
    if (existsSync(scope)) {
      for (const name of readdirSync(scope)) {
        const manifest = join(scope, name, 'package.json');
        if (!existsSync(manifest)) continue;
        const { sideEffects } = JSON.parse(readFileSync(manifest, 'utf8')) as { sideEffects?: unknown };
        if (sideEffects === undefined || sideEffects === true) names.add(name);
      }
    }
    if (dirname(dir) === dir) return [...names].sort();
  }
}

/** The namespace of the files of those packages. */
const MARKED = 'sdk-side-effect-free';

/**
 * The files of the `@aws-sdk/*` packages that say nothing of side effects (today lib-dynamodb alone) marked
 * side-effect free; the other SDK packages declare it themselves. Those packages' files are loaded into a
 * namespace of their own, so that only the imports made *from* their files reach JS (an onResolve filter can take
 * a namespace): a filter on every relative import would send each import of every package (zod, openai,
 * @smithy...) through a callback, a round trip between esbuild and node each, which cost more than the build.
 */
const sdkSideEffectFree: Plugin = {
  name: MARKED,
  setup(b) {
    const unmarked = undeclaredSdkPackages(b.initialOptions.absWorkingDir ?? process.cwd());
    if (!unmarked.length) return;
    const sdkPackageDir = (file: string) => /^(.*\/node_modules\/@aws-sdk\/[^/]+)\//.exec(file)?.[1];

    const resolveMarked = async (args: OnResolveArgs): Promise<OnResolveResult | undefined> => {
      const resolved = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: MARKED });
      if (resolved.errors.length) return { errors: resolved.errors };
      const dir = resolved.namespace === 'file' && !resolved.external ? sdkPackageDir(resolved.path) : undefined;
      if (!dir) return { path: resolved.path, external: resolved.external, namespace: resolved.namespace, sideEffects: resolved.sideEffects };
      return { path: resolved.path, namespace: MARKED, sideEffects: false };
    };
    const names = unmarked.map((name) => name.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|');
    b.onResolve({ filter: new RegExp(`^@aws-sdk\\/(${names})(\\/|$)`) }, (args) => (args.pluginData === MARKED ? undefined : resolveMarked(args)));
    // Relative imports inside the namespace's files (their own package's files); bare imports other than
    // `@aws-sdk/*` are resolved by esbuild from the resolveDir below, with their packages' own flags.
    b.onResolve({ filter: /^\./, namespace: MARKED }, resolveMarked);
    b.onLoad({ filter: /./, namespace: MARKED }, async (args) => ({
      contents: await readFile(args.path),
      resolveDir: dirname(args.path),
      loader: args.path.endsWith('.json') ? 'json' : 'js',
    }));
  },
};

// Source maps change no byte of the output's inputs: the analysis skips them.
const analysisOptions = (spec: FunctionBuildSpec, outdir: string): BuildOptions => ({
  ...esbuildOptions(spec, outdir),
  mainFields: ['module', 'main'],
  plugins: [sdkSideEffectFree],
  sourcemap: false,
  write: false,
});

export async function analysisMetafile(spec: FunctionBuildSpec, outdir: string): Promise<Metafile> {
  return (await build(analysisOptions(spec, outdir))).metafile!;
}

/**
 * Functions with the same key share one run in `analysisMetafiles` (`sharedRuns`): their build options but for the
 * entry points and externals (and what the analysis overrides: main fields, source maps).
 */
export function analysisRunKey(spec: FunctionBuildSpec): string {
  const { entryPoints: _, outdir: __, plugins: ___, external: ____, ...shared } = analysisOptions(spec, '');
  return JSON.stringify(shared);
}

/**
 * The analysis of many functions, one esbuild run per set of functions that share their build options: every
 * entry point is still tree-shaken on its own (without code splitting each output holds only what its entry
 * reaches), but the SDK is parsed and resolved once instead of once per function, which is most of the work.
 * Each function's metafile holds its own outputs and the inputs they import, as its own build would. When a shared
 * run fails, or a function's part imports what only another function marks external, that function is analysed
 * alone, so a failure is reported against the function that has it.
 */
export async function analysisMetafiles(specs: FunctionBuildSpec[], outdir: string): Promise<(Metafile | Error)[]> {
  // Each function's outputs under a folder of its own: two functions may share an entry point's file name.
  const folder = (i: number) => `${relative(specs[i]!.codeDir, resolve(outdir, String(i)))}/`;
  return inSharedRuns(
    specs.map((spec) => analysisOptions(spec, outdir)),
    specs.map((_, i) => i),
    {
      entryPoints: (members) =>
        members.flatMap((i) => specs[i]!.entryPoints.map((entry) => ({ in: entry, out: `${i}/${relative(specs[i]!.codeDir, entry).replace(/\.[cm]?[jt]sx?$/, '')}` }))),
      ownOutput: (i) => (file) => file.startsWith(folder(i)),
      fromPart: (_, part) => part,
      alone: (i) => analysisMetafile(specs[i]!, resolve(outdir, String(i))),
    },
  );
}

/**
 * Commands the SDK keeps for its own use, never sent by our code: DynamoDBClient wires DescribeEndpoints into
 * endpoint discovery, which runs only when `endpointDiscoveryEnabled` is set (it is not, anywhere here).
 */
export const SDK_INTERNAL_COMMANDS = new Set(['client-dynamodb/DescribeEndpoints']);

const COMMAND_FILE = /@aws-sdk\/(client-[a-z0-9-]+)\/dist-es\/commands\/(\w+)Command\.js$/;

export function sdkCalls(metafile: Metafile): SdkCall[] {
  const seen = new Map<string, SdkCall>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [file, info] of Object.entries(output.inputs)) {
      const m = COMMAND_FILE.exec(file);
      if (!m || info.bytesInOutput === 0) continue;
      const [, client, command] = m as unknown as [string, string, string];
      const key = `${client}/${command}`;
      if (SDK_INTERNAL_COMMANDS.has(key) || seen.has(key)) continue;
      const actions = iamActions(client, command);
      seen.set(key, ANY_OF.has(key) ? { client, command, actions, anyOf: true } : { client, command, actions });
    }
  }
  return [...seen.values()].sort((a, b) => `${a.client}/${a.command}`.localeCompare(`${b.client}/${b.command}`));
}

/** Service prefix in IAM for each SDK client package we use. A new client fails loudly until it is added. */
const SERVICE_PREFIX: Record<string, string> = {
  'client-dynamodb': 'dynamodb',
  'client-ssm': 'ssm',
  'client-lambda': 'lambda',
  'client-apigatewaymanagementapi': 'execute-api',
  'client-secrets-manager': 'secretsmanager',
  'client-sqs': 'sqs',
  'client-sns': 'sns',
  'client-s3': 's3',
  'client-bedrock-runtime': 'bedrock',
  'client-cloudwatch': 'cloudwatch',
};

// A transaction is authorised per item operation inside it: at least one of these is needed.
const ANY_OF = new Set(['client-dynamodb/TransactWriteItems']);

/** Commands whose IAM action is not `<prefix>:<CommandName>`. */
const ACTION_OVERRIDES: Record<string, string[]> = {
  'client-lambda/Invoke': ['lambda:InvokeFunction'],
  'client-lambda/InvokeWithResponseStream': ['lambda:InvokeFunction'],
  'client-apigatewaymanagementapi/PostToConnection': ['execute-api:ManageConnections'],
  'client-apigatewaymanagementapi/GetConnection': ['execute-api:ManageConnections'],
  'client-apigatewaymanagementapi/DeleteConnection': ['execute-api:ManageConnections'],
  // Transactions are authorised per item operation inside them.
  'client-dynamodb/TransactGetItems': ['dynamodb:GetItem'],
  'client-dynamodb/TransactWriteItems': ['dynamodb:ConditionCheckItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  'client-bedrock-runtime/Converse': ['bedrock:InvokeModel'],
  'client-bedrock-runtime/ConverseStream': ['bedrock:InvokeModelWithResponseStream'],
  'client-s3/GetObject': ['s3:GetObject'],
};

export function iamActions(client: string, command: string): string[] {
  const override = ACTION_OVERRIDES[`${client}/${command}`];
  if (override) return override;
  const prefix = SERVICE_PREFIX[client];
  if (!prefix) throw new Error(`@aws-sdk/${client}: no IAM service prefix known; add it to scripts/lib/sdk-calls.ts`);
  return [`${prefix}:${command}`];
}
