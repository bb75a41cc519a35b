import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployOrder, type ExportDecl } from './deploy-order.ts';
import { render } from './intrinsics.ts';
import { MIN_SAM_CLI_VERSION } from './sam-cli.ts';
import type { Stack } from './stacks.ts';

/**
 * What `npm run deploy` / `npm run destroy` run, as data: the commands per stack in dependency order (reverse
 * for destroy), each with the folder it runs in. `--dry-run` prints exactly these; the real run spawns them.
 */
export interface Command {
  /** Folder relative to the repository root where the command runs ('' for the root). */
  cwd: string;
  argv: string[];
  /**
   * Environment set for this command only. A Command value stands for its trimmed output, read just before
   * (the shell form is `NAME="$(command)"`), so the printed line and the real run are the same thing.
   */
  env?: Record<string, string | Command>;
}

export interface StackStep {
  stack: Stack;
  commands: Command[];
}

export interface Plan {
  mode: 'deploy' | 'destroy';
  profile: string;
  steps: StackStep[];
  /** Reads the call webhook URL from the deployed stack's outputs (deploy only; absent if no stack exports it). */
  webhookUrl?: { stack: Stack; outputKey: string; command: Command };
  /**
   * After the stacks (deploy only): one `npm run use-cases:load -- --only <id>` per deployed use-case stack, into
   * the table the table stack outputs, naming the tool Lambdas with the EnvironmentName that stack runs with.
   */
  useCaseLoads: UseCaseLoad[];
  /** One `aws ssm put-parameter` per secret parameter name the templates take. */
  secrets: { parameterName: string; envVar: string; description: string; command: Command }[];
}

export interface UseCaseLoad {
  stack: Stack;
  useCaseId: string;
  command: Command;
}

/** A use-case folder (`0*_use-case-*`) and the id its `src/index.ts` exports (what `--only` takes). */
export interface UseCaseFolder {
  folder: string;
  id: string;
}

export interface PlanOptions {
  mode: 'deploy' | 'destroy';
  profile: string;
  /** Only this stack: its folder (`06_use-case-apartment-search`) or its stack name. */
  only?: string;
  /** The use cases whose stacks get their config loaded after deploying (none: nothing is loaded). */
  useCases?: UseCaseFolder[];
}

/** The profile named in aws-profile.profile (first non-empty line). */
export function readProfile(root: string): string {
  const profile = readFileSync(join(root, 'aws-profile.profile'), 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith('#'));
  if (!profile) throw new Error('aws-profile.profile is empty: write the name of the AWS CLI profile to deploy with');
  return profile;
}

export const WEBHOOK_EXPORT_SUFFIX = '-CallSetupUrl';

export function webhookExport(exports: ExportDecl[]): ExportDecl | undefined {
  return exports.find((e) => e.name === `${e.stack.stackName}${WEBHOOK_EXPORT_SUFFIX}`);
}

/** The single table's name is exported as `<stack>-TableName` (01_dynamodb); every function imports it. */
export const TABLE_EXPORT_SUFFIX = '-TableName';

export function tableExport(exports: ExportDecl[]): ExportDecl | undefined {
  return exports.find((e) => e.name === `${e.stack.stackName}${TABLE_EXPORT_SUFFIX}`);
}

/** Tool Lambdas are named `cr-<EnvironmentName>-tools-<id>`; the loader writes that name into each manifest. */
export const ENVIRONMENT_PARAMETER = 'EnvironmentName';

/**
 * Environment variable holding each secret's value, where the name derived from the parameter (OpenAiApiKeyParam
 * -> OPEN_AI_API_KEY) is not the one .env.example, the README and docs/DEPLOY.md use.
 */
const SECRET_ENV_VARS: Record<string, string> = { OpenAiApiKeyParam: 'OPENAI_API_KEY' };

export function secretEnvVar(parameter: string): string {
  return SECRET_ENV_VARS[parameter] ?? parameter.replace(/Param$/, '').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function describeStacks(stackName: string, query: string, profile: string): Command {
  return {
    cwd: '',
    argv: ['aws', 'cloudformation', 'describe-stacks', '--stack-name', stackName, '--query', query, '--output', 'text', '--profile', profile],
  };
}

const outputQuery = (outputKey: string) => `Stacks[0].Outputs[?OutputKey=='${outputKey}'].OutputValue`;
const parameterQuery = (parameterKey: string) => `Stacks[0].Parameters[?ParameterKey=='${parameterKey}'].ParameterValue`;

export function planFor(stacks: Stack[], options: PlanOptions): Plan {
  const { order, exports } = deployOrder(stacks);
  let selected = order;
  if (options.only) {
    selected = order.filter((s) => s.folder === options.only || s.stackName === options.only || s.folder === options.only?.replace(/\/$/, ''));
    if (!selected.length) {
      throw new Error(`--stack ${options.only}: no such stack (have: ${order.map((s) => `${s.folder} (${s.stackName})`).join(', ')})`);
    }
  }
  const profile = options.profile;
  const steps: StackStep[] =
    options.mode === 'deploy'
      ? selected.map((stack) => ({
          stack,
          commands: [
            { cwd: stack.folder, argv: ['sam', 'build', '--config-file', 'samconfig.toml'] },
            {
              cwd: stack.folder,
              argv: ['sam', 'deploy', '--config-file', 'samconfig.toml', '--profile', profile, '--no-confirm-changeset', '--no-fail-on-empty-changeset'],
            },
          ],
        }))
      : [...selected].reverse().map((stack) => ({
          stack,
          commands: [
            {
              cwd: stack.folder,
              argv: ['sam', 'delete', '--config-file', 'samconfig.toml', '--stack-name', stack.stackName, '--profile', profile, '--no-prompts'],
            },
          ],
        }));
  const plan: Plan = { mode: options.mode, profile, steps, useCaseLoads: [], secrets: [] };
  if (options.mode === 'destroy') return plan;

  plan.useCaseLoads = useCaseLoads(selected, exports, options.useCases ?? [], profile);
  const hook = webhookExport(exports);
  if (hook) {
    plan.webhookUrl = { stack: hook.stack, outputKey: hook.outputKey, command: describeStacks(hook.stack.stackName, outputQuery(hook.outputKey), profile) };
  }
  const seen = new Set<string>();
  for (const stack of order) {
    for (const [name, p] of Object.entries(stack.template.Parameters ?? {})) {
      // Convention: secrets reach a stack as the *name* of an SSM SecureString, in a parameter called ...Param.
      if (!name.endsWith('Param') || p.Type !== 'String') continue;
      const parameterName = stack.parameters[name] ?? (p.Default === undefined ? undefined : render(p.Default, stack));
      if (!parameterName || seen.has(parameterName)) continue;
      seen.add(parameterName);
      const envVar = secretEnvVar(name);
      plan.secrets.push({
        parameterName,
        envVar,
        description: p.Description ?? name,
        command: {
          cwd: '',
          argv: ['aws', 'ssm', 'put-parameter', '--name', parameterName, '--type', 'SecureString', '--value', `"$${envVar}"`, '--overwrite', '--profile', profile],
        },
      });
    }
  }
  return plan;
}

/**
 * Both values are read from the deployed stacks rather than from the templates: `sam deploy` keeps a parameter's
 * previous value when samconfig.toml does not override it, so the stack is the only place that knows for sure.
 */
function useCaseLoads(selected: Stack[], exports: ExportDecl[], useCases: UseCaseFolder[], profile: string): UseCaseLoad[] {
  const loads = selected.flatMap((stack) => {
    const useCase = useCases.find((u) => u.folder === stack.folder);
    return useCase ? [{ stack, useCaseId: useCase.id }] : [];
  });
  if (!loads.length) return [];
  const table = tableExport(exports);
  if (!table) {
    throw new Error(`no stack exports <stack>${TABLE_EXPORT_SUFFIX}: the use cases of ${loads.map((l) => l.stack.folder).join(', ')} have no table to load into`);
  }
  return loads.map(({ stack, useCaseId }) => {
    if (!stack.template.Parameters?.[ENVIRONMENT_PARAMETER]) {
      throw new Error(`${stack.folder}: template.yaml has no ${ENVIRONMENT_PARAMETER} parameter, so its tool Lambda names cannot be known`);
    }
    return {
      stack,
      useCaseId,
      command: {
        cwd: '',
        argv: ['npm', 'run', 'use-cases:load', '--', '--only', useCaseId],
        env: {
          TABLE_NAME: describeStacks(table.stack.stackName, outputQuery(table.outputKey), profile),
          ENVIRONMENT_NAME: describeStacks(stack.stackName, parameterQuery(ENVIRONMENT_PARAMETER), profile),
          AWS_PROFILE: profile,
          // Always the deployed table, even in a shell where local development set DYNAMODB_ENDPOINT.
          DYNAMODB_ENDPOINT: '',
        },
      },
    };
  });
}

function quote(arg: string): string {
  if (arg === '') return "''";
  if (/^"\$[A-Z_]+"$/.test(arg) || /^[A-Za-z0-9_./:=@%+-]+$/.test(arg)) return arg;
  // JMESPath queries hold single quotes: double quotes read better and nothing in them expands.
  if (!/["$`\\!]/.test(arg)) return `"${arg}"`;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A shell-ready rendering; `"$VAR"` arguments are kept as written so the shell expands them. */
export function shellLine(command: Command): string {
  const env = Object.entries(command.env ?? {}).map(([name, value]) =>
    typeof value === 'string' ? `${name}=${quote(value)}` : `${name}="$(${shellLine(value)})"`,
  );
  const line = [...env, ...command.argv.map(quote)].join(' ');
  return command.cwd ? `(cd ${command.cwd} && ${line})` : line;
}

export function describePlan(plan: Plan, missing: string[] = []): string {
  const lines: string[] = [];
  const verb = plan.mode === 'deploy' ? 'Deploy' : 'Destroy';
  lines.push(`# ${verb} plan (profile "${plan.profile}"): ${plan.steps.map((s) => s.stack.folder).join(' -> ') || 'nothing'}`);
  if (plan.mode === 'deploy') lines.push(`# needs the AWS SAM CLI ${MIN_SAM_CLI_VERSION} or later (checked with sam --version before the first build)`);
  if (missing.length) lines.push(`# skipped, no template.yaml yet: ${missing.join(', ')}`);
  plan.steps.forEach((step, i) => {
    lines.push(`# ${i + 1}/${plan.steps.length} ${step.stack.folder} (stack ${step.stack.stackName})`);
    if (plan.mode === 'deploy') lines.push(`#   parameters (template defaults, then samconfig.toml overrides): ${parameterLine(step.stack)}`);
    for (const c of step.commands) lines.push(shellLine(c));
  });
  if (plan.useCaseLoads.length) {
    lines.push(`# then ${describeLoads(plan)}`);
    for (const load of plan.useCaseLoads) lines.push(shellLine(load.command));
  }
  if (plan.mode === 'deploy') lines.push(...afterDeploy(plan));
  return lines.join('\n');
}

/** Every parameter of the stack with the value it deploys with; empty ones shown as ''. */
export function parameterLine(stack: Stack): string {
  return Object.keys(stack.template.Parameters ?? {})
    .map((name) => `${name}=${stack.parameters[name] === undefined ? '(no default)' : stack.parameters[name] === '' ? "''" : stack.parameters[name]}`)
    .join(' ');
}

export function describeLoads(plan: Plan): string {
  return `load the use case config (${plan.useCaseLoads.map((l) => l.useCaseId).join(', ')}) into the deployed table (each item is replaced: safe to repeat)`;
}

export function afterDeploy(plan: Plan, webhookUrl?: string): string[] {
  const lines: string[] = [];
  if (plan.webhookUrl) {
    lines.push('# Webhook URL for the Twilio number (Voice configuration, "A call comes in", HTTP POST):');
    lines.push(webhookUrl ?? shellLine(plan.webhookUrl.command));
  }
  if (plan.secrets.length) {
    lines.push('# Store the secrets once per account and region (SecureString; the stacks only know the names):');
    for (const s of plan.secrets) lines.push(`${shellLine(s.command)}   # ${s.description}`);
  }
  return lines;
}
