import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planFor, readProfile } from '../../scripts/lib/deploy-plan.ts';
import { repoStacks, ROOT } from './support.ts';

// Every command the deploy guide tells a reader to type is one that exists here.
describe('docs/DEPLOY.md', () => {
  const doc = readFileSync(join(ROOT, 'docs/DEPLOY.md'), 'utf8');
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const lines = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n').map((l) => l.trim()).filter(Boolean));

  it('has the sections a deployer needs', () => {
    for (const heading of ['## Prerequisites', '## Choose the AWS profile', '## Store the secrets', '## Deploy', '## Point the Twilio number at the webhook', '## Tear down']) {
      expect(doc).toContain(heading);
    }
  });

  it('uses only npm scripts, folders and programs that exist', () => {
    const problems: string[] = [];
    for (const line of lines) {
      for (const part of line.split(/&&|;/).map((p) => p.trim())) {
        const [program, ...args] = part.split(/\s+/);
        if (program === 'npm' && args[0] === 'run' && !scripts[args[1]!]) problems.push(`${line}: no npm script ${args[1]}`);
        if (program === 'npm' && args[0] === 'test' && !scripts.test) problems.push(`${line}: no npm test script`);
        if (program === 'cd' && !existsSync(join(ROOT, args[0]!))) problems.push(`${line}: no folder ${args[0]}`);
        const stack = args.indexOf('--stack');
        if (stack >= 0 && !existsSync(join(ROOT, args[stack + 1]!))) problems.push(`${line}: no stack ${args[stack + 1]}`);
        if (!['npm', 'cd', 'sam', 'aws', 'echo', 'export'].includes(program!)) problems.push(`${line}: unexpected program ${program}`);
      }
    }
    expect(lines.length).toBeGreaterThan(5);
    expect(problems).toEqual([]);
  });

  it('exports every variable the printed secret commands read', () => {
    const exported = new Set(lines.filter((l) => l.startsWith('export ')).flatMap((l) => [...l.matchAll(/([A-Z_]+)=/g)].map((m) => m[1]!)));
    const plan = planFor(repoStacks().stacks, { mode: 'deploy', profile: readProfile(ROOT) });
    expect(plan.secrets.length).toBeGreaterThan(0);
    expect(plan.secrets.map((s) => s.envVar).filter((v) => !exported.has(v))).toEqual([]);
    for (const s of plan.secrets) expect(s.command.argv).toContain(`"$${s.envVar}"`);
  });
});
