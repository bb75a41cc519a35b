import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deployOrder } from '../../scripts/lib/deploy-order.ts';
import { webhookExport } from '../../scripts/lib/deploy-plan.ts';
import { describeMissing, loadStacks } from '../../scripts/lib/stacks.ts';
import { repoStacks } from './support.ts';

const { stacks, missing } = repoStacks();

describe('cross-stack wiring: every import has an earlier export, every export is used', () => {
  const { order, exports, imports, unresolved } = deployOrder(stacks);
  const position = new Map(order.map((s, i) => [s.folder, i]));
  for (const m of missing) it.skip(`${m.folder}: no template.yaml yet`, () => undefined);

  it('01_dynamodb comes first: everything stands on the table and the layer', () => {
    expect(order[0]?.folder).toBe('01_dynamodb');
  });

  for (const use of imports) {
    const source = exports.find((e) => e.name === use.name);
    const title = `${use.stack.folder} imports ${use.name} (${use.path})`;
    if (!source && missing.length) {
      it.skip(`${title}: exporter not checked, ${describeMissing(missing)}`, () => undefined);
      continue;
    }
    it(`${title} from a stack deployed before it`, () => {
      expect(source, `no stack exports ${use.name}; exports: ${exports.map((e) => e.name).join(', ')}`).toBeDefined();
      expect(position.get(source!.stack.folder)!).toBeLessThan(position.get(use.stack.folder)!);
    });
  }

  const title = 'no export is left unused (an ImportValue, or the deploy script reading the webhook URL)';
  if (missing.length) it.skip(`${title}: ${describeMissing(missing)}`, () => undefined);
  else {
    it(title, () => {
      const used = new Set(imports.map((i) => i.name));
      const hook = webhookExport(exports);
      if (hook) used.add(hook.name);
      expect(exports.filter((e) => !used.has(e.name)).map((e) => `${e.stack.folder}: ${e.name} (${e.outputKey})`)).toEqual([]);
    });
  }

  it('all imports resolve once every stack exists', () => {
    if (missing.length) expect(unresolved.every((u) => !exports.some((e) => e.name === u.name))).toBe(true);
    else expect(unresolved.map((u) => `${u.stack.folder}: ${u.name}`)).toEqual([]);
  });

  it('secrets reach the stacks as SSM parameter names, never as values', () => {
    const offenders = stacks.flatMap((s) =>
      Object.entries(s.template.Parameters ?? {})
        .filter(([name]) => /(token|secret|password|apikey|api-key)$/i.test(name))
        .map(([name]) => `${s.folder}: parameter ${name} looks like a secret value; take the SSM name as ${name}Param`),
    );
    expect(offenders).toEqual([]);
  });

  it('each stack deploys under the name its importers expect (samconfig.toml stack_name = their *StackName default)', () => {
    for (const s of stacks) expect(s.stackName).toMatch(/^cr-[a-z0-9-]+$/);
    expect(new Set(stacks.map((s) => s.stackName)).size).toBe(stacks.length);
  });
});

describe('deploy order is derived from the templates (fixture stacks)', () => {
  const root = mkdtempSync(join(tmpdir(), 'cr-order-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function stack(folder: string, name: string, body: string) {
    mkdirSync(join(root, folder), { recursive: true });
    writeFileSync(join(root, folder, 'template.yaml'), body);
    writeFileSync(join(root, folder, 'samconfig.toml'), `version = 0.1\n[default.deploy.parameters]\nstack_name = "${name}"\n`);
  }
  const exporting = (key: string) => `Outputs:\n  ${key}:\n    Value: x\n    Export:\n      Name: !Sub \${AWS::StackName}-${key}\n`;
  const importing = (param: string, fallback: string, key: string) =>
    `Parameters:\n  ${param}:\n    Type: String\n    Default: ${fallback}\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !ImportValue\n        Fn::Sub: \${${param}}-${key}\n`;

  it('puts an importer after its exporter even when folder order says otherwise, and keeps folder order for ties', () => {
    stack('01_base', 'base', `Resources:\n  T:\n    Type: AWS::SQS::Queue\n${exporting('Thing')}`);
    stack('02_late', 'late', importing('UpStack', 'up', 'Other'));
    stack('03_up', 'up', `${importing('BaseStack', 'base', 'Thing')}${exporting('Other')}`);
    stack('04_free', 'free', 'Resources:\n  T:\n    Type: AWS::SQS::Queue\n');
    const { order, dependsOn } = deployOrder(loadStacks(root).stacks);
    expect(order.map((s) => s.folder)).toEqual(['01_base', '03_up', '02_late', '04_free']);
    expect([...dependsOn.get('02_late')!]).toEqual(['03_up']);
  });

  it('refuses circular imports, naming the stacks', () => {
    stack('05_a', 'a', `${importing('B', 'b', 'FromB')}${exporting('FromA')}`);
    stack('06_b', 'b', `${importing('A', 'a', 'FromA')}${exporting('FromB')}`);
    expect(() => deployOrder(loadStacks(root).stacks)).toThrow(/circular imports between stacks: 05_a -> 06_b; 06_b -> 05_a/);
  });
});
