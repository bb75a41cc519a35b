import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { deployOrder } from '../../scripts/lib/deploy-order.ts';
import { readProfile } from '../../scripts/lib/deploy-plan.ts';
import { repoStacks, ROOT } from './support.ts';

const run = promisify(execFile);
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const DEPLOY = join(ROOT, 'scripts/deploy.ts');

async function deploy(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return run(TSX, [DEPLOY, ...args], { cwd: ROOT, env, timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

const { stacks, missing } = repoStacks();
const order = deployOrder(stacks).order;
const profile = readProfile(ROOT);

describe('npm run deploy / destroy', () => {
  it('--dry-run prints sam build + sam deploy per stack, in the derived order, non-interactive and idempotent', async () => {
    const { code, stdout } = await deploy(['--dry-run']);
    expect(code).toBe(0);
    const commands = stdout.split('\n').filter((l) => l.startsWith('(cd '));
    expect(commands).toEqual(
      order.flatMap((s) => [
        `(cd ${s.folder} && sam build --config-file samconfig.toml)`,
        `(cd ${s.folder} && sam deploy --config-file samconfig.toml --profile ${profile} --no-confirm-changeset --no-fail-on-empty-changeset)`,
      ]),
    );
    expect(stdout).toContain(`# Deploy plan (profile "${profile}"): ${order.map((s) => s.folder).join(' -> ')}`);
    if (missing.length) expect(stdout).toContain(`# skipped, no template.yaml yet: ${missing.map((m) => m.folder).join(', ')}`);
  });

  it('--dry-run ends with how to read the webhook URL and store every secret parameter the templates name', async () => {
    const { stdout } = await deploy(['--dry-run']);
    const secretParams = new Set(
      stacks.flatMap((s) => Object.entries(s.template.Parameters ?? {}).filter(([n]) => n.endsWith('Param')).map(([n]) => s.parameters[n] ?? '')).filter(Boolean),
    );
    for (const name of secretParams) {
      expect(stdout).toMatch(new RegExp(`^aws ssm put-parameter --name ${name} --type SecureString --value "\\$[A-Z_]+" --overwrite --profile ${profile} `, 'm'));
    }
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
      const { stdout } = await deploy(['--dry-run', '--stack', ref]);
      expect(stdout.split('\n').filter((l) => l.startsWith('(cd '))).toEqual([
        `(cd ${last.folder} && sam build --config-file samconfig.toml)`,
        `(cd ${last.folder} && sam deploy --config-file samconfig.toml --profile ${profile} --no-confirm-changeset --no-fail-on-empty-changeset)`,
      ]);
    }
    const unknown = await deploy(['--dry-run', '--stack', '99_nope']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('--stack 99_nope: no such stack');
  });

  it('destroy --dry-run deletes in reverse order without prompts', async () => {
    const { stdout } = await deploy(['--destroy', '--dry-run']);
    expect(stdout.split('\n').filter((l) => l.startsWith('(cd '))).toEqual(
      [...order].reverse().map((s) => `(cd ${s.folder} && sam delete --config-file samconfig.toml --stack-name ${s.stackName} --profile ${profile} --no-prompts)`),
    );
  });

  describe('a real run, with stand-in sam and aws executables on PATH', () => {
    const bin = mkdtempSync(join(tmpdir(), 'cr-deploy-bin-'));
    const log = join(bin, 'calls.log');
    afterAll(() => rmSync(bin, { recursive: true, force: true }));
    writeFileSync(join(bin, 'sam'), `#!/bin/sh\necho "$(basename "$(pwd)")|sam $*" >> "${log}"\n`);
    writeFileSync(
      join(bin, 'aws'),
      `#!/bin/sh\necho "$(basename "$(pwd)")|aws $*" >> "${log}"\ncase "$*" in *describe-stacks*) echo "https://abc123.execute-api.eu-west-1.amazonaws.com/call-setup";; esac\n`,
    );
    chmodSync(join(bin, 'sam'), 0o755);
    chmodSync(join(bin, 'aws'), 0o755);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };

    it('runs each command in its stack folder, in order, then prints the webhook URL read from the outputs', async () => {
      writeFileSync(log, '');
      const { code, stdout, stderr } = await deploy([], env);
      expect(code, stderr).toBe(0);
      const calls = readFileSync(log, 'utf8').trim().split('\n');
      const samCalls = calls.filter((c) => c.includes('|sam '));
      expect(samCalls).toEqual(
        order.flatMap((s) => [
          `${s.folder}|sam build --config-file samconfig.toml`,
          `${s.folder}|sam deploy --config-file samconfig.toml --profile ${profile} --no-confirm-changeset --no-fail-on-empty-changeset`,
        ]),
      );
      if (stacks.some((s) => s.template.Outputs?.CallSetupUrl)) {
        expect(calls.some((c) => c.includes('|aws cloudformation describe-stacks'))).toBe(true);
        expect(stdout).toContain('\nhttps://abc123.execute-api.eu-west-1.amazonaws.com/call-setup\n');
      }
    });

    it('stops at the first failing command', async () => {
      writeFileSync(log, '');
      writeFileSync(join(bin, 'sam'), `#!/bin/sh\necho "$(basename "$(pwd)")|sam $*" >> "${log}"\nexit 3\n`);
      const { code, stderr } = await deploy([], env);
      expect(code).not.toBe(0);
      expect(stderr).toContain('exited with 3');
      expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([`${order[0]!.folder}|sam build --config-file samconfig.toml`]);
    });
  });
});
