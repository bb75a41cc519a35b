import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getUseCase, listUseCases } from '../../layers/data/use-cases.ts';
import { deploy as deployInProcess } from '../../scripts/deploy.ts';
import { deployOrder } from '../../scripts/lib/deploy-order.ts';
import { readProfile } from '../../scripts/lib/deploy-plan.ts';
import { MIN_SAM_CLI_VERSION } from '../../scripts/lib/sam-cli.ts';
import { discoverUseCases } from '../../scripts/lib/use-case-folders.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import { repoStacks, ROOT } from './support.ts';

const run = promisify(execFile);
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const DEPLOY = join(ROOT, 'scripts/deploy.ts');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** The command as a process: `npm run deploy -- <args>` runs exactly this. */
async function deployProcess(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
  return run(TSX, [DEPLOY, ...args], { cwd: ROOT, env, timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

/**
 * The same command in this process (scripts/deploy.ts's `deploy`), its lines collected as the process prints them:
 * a process costs a TypeScript compile and a module graph per run. The commands it runs are still processes.
 */
async function deploy(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const code = await deployInProcess(args, { root: ROOT, env, out: (text) => (stdout += `${text}\n`), err: (text) => (stderr += `${text}\n`) });
  return { code, stdout, stderr };
}

const { stacks, missing } = repoStacks();
const order = deployOrder(stacks).order;
const profile = readProfile(ROOT);
// Use-case stacks in deploy order, with the id the loader's --only takes (from the folder's src/index.ts).
const useCaseIds = new Map((await discoverUseCases(ROOT)).map((u) => [basename(u.dir), u.id]));
const useCaseStacks = order.filter((s) => useCaseIds.has(s.folder)).map((stack) => ({ stack, id: useCaseIds.get(stack.folder)! }));
const tableStack = stacks.find((s) => s.template.Outputs?.TableName)!;

/** The exact line the dry run prints and the real run executes after the stacks, for one use-case stack. */
function loadLine(stackName: string, id: string): string {
  const describe = (name: string, query: string) => `"$(aws cloudformation describe-stacks --stack-name ${name} --query "${query}" --output text --profile ${profile})"`;
  return [
    `TABLE_NAME=${describe(tableStack.stackName, "Stacks[0].Outputs[?OutputKey=='TableName'].OutputValue")}`,
    `ENVIRONMENT_NAME=${describe(stackName, "Stacks[0].Parameters[?ParameterKey=='EnvironmentName'].ParameterValue")}`,
    `AWS_PROFILE=${profile} DYNAMODB_ENDPOINT='' npm run use-cases:load -- --only ${id}`,
  ].join(' ');
}
// A dry run only prints: each distinct one runs once and the tests that need it read their part of its output.
const dryRuns = new Map<string, ReturnType<typeof deploy>>();
function dryRun(...args: string[]): ReturnType<typeof deploy> {
  const key = args.join(' ');
  if (!dryRuns.has(key)) dryRuns.set(key, deploy(['--dry-run', ...args]));
  return dryRuns.get(key)!;
}
const loadLines = (stdout: string) => stdout.split('\n').filter((l) => l.includes('use-cases:load'));

describe('npm run deploy / destroy', () => {
  it('npm run deploy -- --dry-run, as a process, prints the plan the tests below check, and exits 0', async () => {
    const npm = await run('npm', ['run', '--silent', 'deploy', '--', '--dry-run'], { cwd: ROOT, timeout: 60_000 });
    expect(npm.stdout).toBe((await dryRun()).stdout);
  });

  it('--dry-run prints sam build + sam deploy per stack, in the derived order, non-interactive and idempotent', async () => {
    const { code, stdout } = await dryRun();
    expect(code).toBe(0);
    const commands = stdout.split('\n').filter((l) => l.startsWith('(cd '));
    expect(commands).toEqual(
      order.flatMap((s) => [
        `(cd ${s.folder} && sam build --config-file samconfig.toml)`,
        `(cd ${s.folder} && sam deploy --config-file samconfig.toml --profile ${profile} --no-confirm-changeset --no-fail-on-empty-changeset)`,
      ]),
    );
    expect(stdout).toContain(`# 2. Deploy the stacks in dependency order (profile "${profile}"): ${order.map((s) => s.folder).join(' -> ')}`);
    if (missing.length) expect(stdout).toContain(`# skipped, no template.yaml yet: ${missing.map((m) => m.folder).join(', ')}`);
  });

  it('--dry-run names the minimum SAM CLI and shows every stack parameter with the value it deploys with', async () => {
    const { stdout } = await dryRun();
    expect(stdout).toMatch(new RegExp(`^# .*the AWS SAM CLI ${MIN_SAM_CLI_VERSION.replaceAll('.', '\\.')} or later`, 'm'));
    const params = (folder: string) => stdout.split('\n').find((l, i, all) => /^#\s+parameters /.test(l) && all[i - 1]!.includes(` ${folder} `)) ?? '';
    for (const s of order) for (const name of Object.keys(s.template.Parameters ?? {})) expect(params(s.folder)).toContain(` ${name}=`);
    expect(params('02_cr-application')).toContain("AlarmEmail='' ");
    expect(params('02_cr-application')).toContain('SecretsTtlSeconds=300 ');
    expect(params('02_cr-application')).toContain("SecretsKmsKeyArn='' ");
    expect(params('02_cr-application')).toContain('SourceMaps=Disabled');
    expect(params('03_twiml-api')).toContain('ThrottlingRateLimit=50 ');
  });

  it('--dry-run then loads every deployed use case into the table the table stack outputs, after the last stack', async () => {
    expect(tableStack).toBeDefined();
    expect(useCaseStacks.length).toBeGreaterThan(0);
    const { stdout } = await dryRun();
    expect(loadLines(stdout)).toEqual(useCaseStacks.map(({ stack, id }) => loadLine(stack.stackName, id)));
    const lines = stdout.split('\n');
    const lastSam = lines.findLastIndex((l) => l.startsWith('(cd '));
    expect(lines.findIndex((l) => l.includes('use-cases:load'))).toBeGreaterThan(lastSam);
  });

  it('--dry-run starts with the prerequisites and the secret commands, before any stack, in its own words', async () => {
    const { stdout } = await dryRun();
    const lines = stdout.split('\n');
    expect(lines[0]).toBe('# Before you deploy');
    expect(stdout).toContain('the AWS SAM CLI and the AWS CLI');
    const firstSecret = lines.findIndex((l) => l.startsWith('aws ssm put-parameter'));
    const firstSam = lines.findIndex((l) => l.startsWith('(cd '));
    expect(firstSecret).toBeGreaterThan(0);
    expect(firstSecret).toBeLessThan(firstSam);
    // Each variable is explained before its command; no template description trails a command as a comment.
    expect(stdout).toMatch(/^#\s+OPENAI_API_KEY: your OpenAI API key/m);
    for (const line of lines.filter((l) => l.startsWith('aws ssm put-parameter'))) expect(line).not.toContain('#');
    expect(stdout).not.toContain('Name (not value)');
  });

  it('--dry-run names how to read the webhook URL and stores every secret parameter the templates name', async () => {
    const { stdout } = await dryRun();
    const secretParams = new Set(
      stacks.flatMap((s) => Object.entries(s.template.Parameters ?? {}).filter(([n]) => n.endsWith('Param')).map(([n]) => s.parameters[n] ?? '')).filter(Boolean),
    );
    for (const name of secretParams) {
      expect(stdout).toMatch(new RegExp(`^aws ssm put-parameter --name ${name} --type SecureString --value "\\$[A-Z_]+" --overwrite --profile ${profile}$`, "m"));
    }
    // The names docs/DEPLOY.md and .env.example use; a derived OPEN_AI_API_KEY would store an empty value.
    const printed = [...stdout.matchAll(/--value "\$([A-Z_]+)"/g)].map((m) => m[1]);
    expect(printed).toContain('OPENAI_API_KEY');
    expect(printed).not.toContain('OPEN_AI_API_KEY');
    const hook = stacks.find((s) => s.template.Outputs?.CallSetupUrl);
    if (hook) {
      expect(stdout).toContain(
        `aws cloudformation describe-stacks --stack-name ${hook.stackName} --query "Stacks[0].Outputs[?OutputKey=='CallSetupUrl'].OutputValue" --output text --profile ${profile}`,
      );
    }
  });

  it('--stack deploys one stack, by folder or by stack name; an unknown one is refused', async () => {
    const last = order[order.length - 1]!;
    for (const ref of [last.folder, last.stackName]) {
      const { stdout } = await dryRun('--stack', ref);
      expect(stdout.split('\n').filter((l) => l.startsWith('(cd '))).toEqual([
        `(cd ${last.folder} && sam build --config-file samconfig.toml)`,
        `(cd ${last.folder} && sam deploy --config-file samconfig.toml --profile ${profile} --no-confirm-changeset --no-fail-on-empty-changeset)`,
      ]);
    }
    const unknown = await dryRun('--stack', '99_nope');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('--stack 99_nope: no such stack');
  });

  it('--stack of a use-case stack loads only that use case; of any other stack, nothing', async () => {
    const { stack, id } = useCaseStacks[useCaseStacks.length - 1]!;
    for (const ref of [stack.folder, stack.stackName]) {
      const { stdout } = await dryRun('--stack', ref);
      expect(loadLines(stdout)).toEqual([loadLine(stack.stackName, id)]);
    }
    for (const other of order.filter((s) => !useCaseIds.has(s.folder))) {
      const { code, stdout } = await dryRun('--stack', other.folder);
      expect(code).toBe(0);
      expect(loadLines(stdout), other.folder).toEqual([]);
    }
  });

  it('destroy --dry-run deletes in reverse order without prompts, and loads nothing', async () => {
    const { stdout } = await dryRun('--destroy');
    expect(stdout.split('\n').filter((l) => l.startsWith('(cd '))).toEqual(
      [...order].reverse().map((s) => `(cd ${s.folder} && sam delete --config-file samconfig.toml --stack-name ${s.stackName} --profile ${profile} --no-prompts)`),
    );
    expect(loadLines(stdout)).toEqual([]);
  });

  describe('a real run, with stand-in sam and aws executables on PATH', () => {
    const bin = mkdtempSync(join(tmpdir(), 'cr-deploy-bin-'));
    const log = join(bin, 'calls.log');
    const ENVIRONMENT = 'standin';
    let table: TestTable;
    let env: NodeJS.ProcessEnv;
    // Answers `sam --version` like the real CLI (SAM_STANDIN_VERSION overrides), logs every other call.
    const samVersion = `if [ "$1" = "--version" ]; then echo "SAM CLI, version \${SAM_STANDIN_VERSION:-${MIN_SAM_CLI_VERSION}}"; exit 0; fi\n`;
    writeFileSync(join(bin, 'sam'), `#!/bin/sh\n${samVersion}echo "$(basename "$(pwd)")|sam $*" >> "${log}"\n`);
    // Answers the three reads the deploy makes: the table name, a use-case stack's EnvironmentName, the webhook URL.
    writeFileSync(
      join(bin, 'aws'),
      `#!/bin/sh\necho "$(basename "$(pwd)")|aws $*" >> "${log}"\ncase "$*" in\n` +
        `  *OutputKey==\\'TableName\\'*) echo "$STANDIN_TABLE_NAME";;\n` +
        `  *ParameterKey==\\'EnvironmentName\\'*) echo "${ENVIRONMENT}";;\n` +
        `  *describe-stacks*) echo "https://abc123.execute-api.eu-west-1.amazonaws.com/call-setup";;\n` +
        `esac\n`,
    );
    chmodSync(join(bin, 'sam'), 0o755);
    chmodSync(join(bin, 'aws'), 0o755);

    beforeAll(async () => {
      table = await createTestTable();
      // The loader talks to "AWS" with the deploy's profile; the SDK's endpoint variable points that at the local
      // table, and a profile of its own keeps this machine's credentials out of it.
      const section = profile === 'default' ? 'default' : `profile ${profile}`;
      writeFileSync(join(bin, 'credentials'), `[${profile}]\naws_access_key_id = local\naws_secret_access_key = local\n`);
      writeFileSync(join(bin, 'config'), `[${section}]\nregion = local\n`);
      env = {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        STANDIN_TABLE_NAME: table.name,
        AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
        AWS_SHARED_CREDENTIALS_FILE: join(bin, 'credentials'),
        AWS_CONFIG_FILE: join(bin, 'config'),
        AWS_REGION: 'local',
        AWS_EC2_METADATA_DISABLED: 'true',
        // A local setting left in the shell must not divert the deploy's load away from the deployed table.
        DYNAMODB_ENDPOINT: 'http://127.0.0.1:9',
      };
      delete env.AWS_ACCESS_KEY_ID;
      delete env.AWS_SECRET_ACCESS_KEY;
      delete env.AWS_SESSION_TOKEN;
    });
    afterAll(async () => {
      await table?.drop();
      rmSync(bin, { recursive: true, force: true });
    });

    it('runs each command in its stack folder, in order, loads the use cases into the deployed table, then prints the webhook URL', { timeout: 180_000 }, async () => {
      writeFileSync(log, '');
      // The one real run as a process, as `npm run deploy` starts it.
      const { code, stdout, stderr } = await deployProcess([], env);
      expect(code, stderr).toBe(0);
      const calls = readFileSync(log, 'utf8').trim().split('\n');
      const samCalls = calls.filter((c) => c.includes('|sam '));
      expect(samCalls).toEqual(
        order.flatMap((s) => [
          `${s.folder}|sam build --config-file samconfig.toml`,
          `${s.folder}|sam deploy --config-file samconfig.toml --profile ${profile} --no-confirm-changeset --no-fail-on-empty-changeset`,
        ]),
      );
      // The table name is read once; each use-case stack's EnvironmentName is read from that stack.
      const awsCalls = calls.filter((c) => c.includes('|aws '));
      expect(awsCalls.filter((c) => c.includes(`--stack-name ${tableStack.stackName} `) && c.includes("'TableName'"))).toHaveLength(1);
      for (const { stack } of useCaseStacks) {
        expect(awsCalls.filter((c) => c.includes(`--stack-name ${stack.stackName} `) && c.includes("'EnvironmentName'")), stack.folder).toHaveLength(1);
      }
      // What ran is what the dry run prints.
      for (const { stack, id } of useCaseStacks) expect(stdout).toContain(`$ ${loadLine(stack.stackName, id)}`);

      const loaded = await listUseCases(table);
      expect(loaded.map((u) => u.id).sort()).toEqual(useCaseStacks.map((u) => u.id).sort());
      for (const { id } of useCaseStacks) {
        const config = await getUseCase(table, id);
        expect(config.tools?.length, id).toBeGreaterThan(0);
        for (const tool of config.tools ?? []) expect(tool.functionName, `${id} ${tool.name}`).toBe(`cr-${ENVIRONMENT}-tools-${id}`);
      }
      if (stacks.some((s) => s.template.Outputs?.CallSetupUrl)) {
        expect(stdout).toContain('\nhttps://abc123.execute-api.eu-west-1.amazonaws.com/call-setup\n');
      }
    });

    it('deploying one stack that is not a use case loads nothing', { timeout: 60_000 }, async () => {
      const other = order.find((s) => !useCaseIds.has(s.folder))!;
      writeFileSync(log, '');
      const { code, stdout, stderr } = await deploy(['--stack', other.folder], env);
      expect(code, stderr).toBe(0);
      expect(readFileSync(log, 'utf8')).not.toMatch(/'(TableName|EnvironmentName)'/);
      expect(stdout).not.toContain('use-cases:load');
    });

    it(`refuses an AWS SAM CLI older than ${MIN_SAM_CLI_VERSION} before building anything`, async () => {
      writeFileSync(log, '');
      const { code, stderr } = await deploy([], { ...env, SAM_STANDIN_VERSION: '1.120.0' });
      expect(code).not.toBe(0);
      expect(stderr).toContain(`AWS SAM CLI 1.120.0 is too old: the stacks need ${MIN_SAM_CLI_VERSION} or later`);
      expect(readFileSync(log, 'utf8')).toBe('');
    });

    it('stops at the first failing command', async () => {
      writeFileSync(log, '');
      writeFileSync(join(bin, 'sam'), `#!/bin/sh\n${samVersion}echo "$(basename "$(pwd)")|sam $*" >> "${log}"\nexit 3\n`);
      const { code, stderr } = await deploy([], env);
      expect(code).not.toBe(0);
      expect(stderr).toContain('exited with 3');
      expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([`${order[0]!.folder}|sam build --config-file samconfig.toml`]);
    });
  });
});
