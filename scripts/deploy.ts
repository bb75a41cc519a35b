import { execFile, spawn } from 'node:child_process';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { z } from 'zod';
import { afterDeploy, beforeDeploy, describeLoads, describePlan, planFor, readProfile, shellLine, type Command, type Plan } from './lib/deploy-plan.ts';
import { checkSamCliVersion } from './lib/sam-cli.ts';
import { describeMissing, loadStacks } from './lib/stacks.ts';
import { discoverUseCases } from './lib/use-case-folders.ts';

/**
 * `npm run deploy [-- --stack FOLDER|NAME] [--dry-run]` and `npm run destroy [-- ...]`: every stack, in the
 * order their exports and imports require, with `sam build` + `sam deploy` (non-interactive, a no-op when
 * nothing changed) or `sam delete` in reverse order, using the profile named in aws-profile.profile. A deploy
 * ends by loading the config of each deployed use-case stack into the deployed table (`use-cases:load --only`).
 */
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/**
 * Where a deploy finds the repository and its environment (PATH, AWS settings) and writes its lines: the
 * process's own from the command line; a test runs it in process with its own.
 */
export interface DeployIo {
  root: string;
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: DeployIo = { root: ROOT, env: process.env, out: (text) => console.log(text), err: (text) => console.error(text) };

interface Args {
  mode: 'deploy' | 'destroy';
  dryRun: boolean;
  only?: string;
  help?: boolean;
}

export const USAGE = `Usage: npm run deploy -- [options]      (npm run destroy -- [options] removes, in reverse order)
  --dry-run        print the prerequisites, the secret commands and every sam/aws command, in order; run nothing
  --stack NAME     one stack, by folder (06_use-case-apartment-search) or stack name
  -h, --help       show this help
The AWS profile is the one named in aws-profile.profile. See docs/DEPLOY.md.`;

export function parseArgs(argv: string[]): Args {
  const args: Args = { mode: 'deploy', dryRun: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') args.help = true;
    else if (a === '--dry-run') args.dryRun = true;
    else if (a === '--destroy') args.mode = 'destroy';
    else if (a === '--stack') {
      const value = argv[++i];
      if (!value) throw new Error('--stack needs a stack folder or name');
      args.only = value;
    } else if (a.startsWith('--stack=')) args.only = a.slice('--stack='.length);
    else throw new Error(`unknown argument ${a}\n\n${USAGE}`);
  }
  return args;
}

// What a stack output or parameter read back must look like: one word ("None" is the CLI's way of saying absent).
const StackValue = z
  .string()
  .trim()
  .regex(/^\S+$/, 'expected one value')
  .refine((v) => v !== 'None', 'not found in the deployed stack');

/** A command's trimmed stdout; the same command is read once per run. */
async function readValue(command: Command, cache: Map<string, Promise<string>>, io: DeployIo): Promise<string> {
  const line = shellLine(command);
  let value = cache.get(line);
  if (!value) {
    const [cmd, ...rest] = command.argv;
    value = promisify(execFile)(cmd!, rest, { cwd: join(io.root, command.cwd), env: io.env }).then(({ stdout }) => {
      const parsed = StackValue.safeParse(stdout);
      if (!parsed.success) throw new Error(`"${line}" printed "${stdout.trim()}": ${parsed.error.issues[0]?.message}`);
      return parsed.data;
    });
    cache.set(line, value);
  }
  return value;
}

async function runCommand(command: Command, io: DeployIo, cache = new Map<string, Promise<string>>()): Promise<void> {
  io.out(`\n$ ${shellLine(command)}`);
  const env: NodeJS.ProcessEnv = { ...io.env };
  for (const [name, value] of Object.entries(command.env ?? {})) {
    env[name] = typeof value === 'string' ? value : await readValue(value, cache, io);
    if (typeof value !== 'string') io.out(`# ${name}=${env[name]}`);
  }
  return new Promise((ok, fail) => {
    const child = spawn(command.argv[0]!, command.argv.slice(1), { cwd: join(io.root, command.cwd), stdio: 'inherit', env });
    child.on('error', (err) => fail(new Error(`${command.argv[0]}: ${err.message} (is it installed and on PATH?)`)));
    child.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`"${shellLine(command)}" exited with ${code}`))));
  });
}

async function readWebhookUrl(plan: Plan, io: DeployIo): Promise<string | undefined> {
  if (!plan.webhookUrl) return undefined;
  const [cmd, ...rest] = plan.webhookUrl.command.argv;
  try {
    const { stdout } = await promisify(execFile)(cmd!, rest, { cwd: io.root, env: io.env });
    const url = stdout.trim();
    return url && url !== 'None' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** The whole command: what it prints goes to `io`; the result is the process exit code. */
export async function deploy(argv: string[], io: DeployIo = processIo): Promise<number> {
  try {
    await run(parseArgs(argv), io);
    return 0;
  } catch (err) {
    io.err(`${argv.includes('--destroy') ? 'destroy' : 'deploy'}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

async function run(args: Args, io: DeployIo): Promise<void> {
  if (args.help) {
    io.out(USAGE);
    return;
  }
  const { stacks, missing } = loadStacks(io.root);
  if (missing.length) io.err(`# ${describeMissing(missing)}`);
  // The same discovery the loader runs: the folder tells which stack is a use case, the module tells its id.
  const useCases = args.mode === 'deploy' ? (await discoverUseCases(io.root)).map((u) => ({ folder: basename(u.dir), id: u.id })) : [];
  const plan = planFor(stacks, { mode: args.mode, profile: readProfile(io.root), useCases, ...(args.only ? { only: args.only } : {}) });
  if (args.dryRun) {
    io.out(describePlan(plan, missing.map((m) => m.folder)));
    return;
  }
  if (args.mode === 'deploy') {
    const version = await promisify(execFile)('sam', ['--version'], { env: io.env }).then(
      ({ stdout }) => stdout,
      (err: Error) => {
        throw new Error(`sam --version: ${err.message} (is the AWS SAM CLI installed and on PATH?)`);
      },
    );
    io.out(`# AWS SAM CLI ${checkSamCliVersion(version)}`);
    io.out(beforeDeploy(plan).join('\n'));
  }
  for (const step of plan.steps) {
    io.out(`\n== ${args.mode} ${step.stack.folder} (stack ${step.stack.stackName})`);
    for (const command of step.commands) await runCommand(command, io);
  }
  if (plan.useCaseLoads.length) {
    io.out(`\n== ${describeLoads(plan)}`);
    const cache = new Map<string, Promise<string>>();
    for (const load of plan.useCaseLoads) await runCommand(load.command, io, cache);
  }
  if (args.mode === 'destroy') {
    io.out('\nRemoved. The SSM parameters holding the secrets are kept; delete them with `aws ssm delete-parameter --name ...`.');
    return;
  }
  const url = await readWebhookUrl(plan, io);
  io.out(`\n${afterDeploy(plan, url ?? (plan.webhookUrl ? `(not deployed yet) ${shellLine(plan.webhookUrl.command)}` : undefined)).join('\n')}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await deploy(process.argv.slice(2));
}
