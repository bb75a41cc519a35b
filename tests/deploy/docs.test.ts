import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ToolOutcomeSchema } from '../../02_cr-application/src/edges/lambda-tools.ts';
import { DtmfMapSchema, DtmfActionSchema, UseCaseConfigSchema } from '../../layers/data/use-case-config.ts';
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

/**
 * Every setting a use case can write is shown with an example: each key of the settings schema (nested ones
 * included) appears in a `// use-case/settings.json` example of docs/ADDING-A-USE-CASE.md, each key of a keypad
 * action in a `// use-case/dtmf.json` example, and the examples load. A setting added to the schema without an
 * example fails here.
 */
describe('docs/ADDING-A-USE-CASE.md and the README document every use-case setting', () => {
  const doc = readFileSync(join(ROOT, 'docs/ADDING-A-USE-CASE.md'), 'utf8');
  const examples = (file: string) =>
    [...doc.matchAll(/```jsonc?\n([\s\S]*?)```/g)]
      .map((m) => m[1]!)
      .filter((block) => block.startsWith(`// ${file}\n`))
      // Comments start a line or follow a space; a URL's "//" follows a colon.
      .map((block) => JSON.parse(block.replace(/(^|\s)\/\/.*$/gm, '$1')) as unknown);

  it('every settings.json key has an example, and the examples are valid settings', () => {
    const blocks = examples('use-case/settings.json');
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      const parsed = UseCaseConfigSchema.safeParse({ ...(block as object), promptTemplate: 'Hello {{callerName}}.' });
      expect(parsed.error?.issues ?? []).toEqual([]);
    }
    const shown = new Set(blocks.flatMap((b) => valuePaths(b)));
    // These come from the folder's other files: prompt.md, src/tools, dtmf.json.
    const fromOtherFiles = /^(promptTemplate|tools|dtmfMap)(\.|$)/;
    expect(schemaPaths(UseCaseConfigSchema).filter((path) => !fromOtherFiles.test(path) && !shown.has(path))).toEqual([]);
  });

  it('every keypad-action key has an example, and the examples are valid keypad maps', () => {
    const blocks = examples('use-case/dtmf.json');
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) expect(DtmfMapSchema.safeParse(block).error?.issues ?? []).toEqual([]);
    const shown = new Set(blocks.flatMap((b) => Object.values(b as Record<string, unknown>).flatMap((action) => valuePaths(action))));
    expect(schemaPaths(DtmfActionSchema).filter((path) => !shown.has(path))).toEqual([]);
  });

  it('every tool action a tool Lambda may answer with has an example naming each of its fields', () => {
    // The actions of a successful tool outcome, as the engine checks them at the boundary.
    const success = (ToolOutcomeSchema as unknown as ZodInternals)._zod.def.options![0]!;
    const actions = success._zod.def.shape!.actions!._zod.def.innerType!._zod.def.element!._zod.def.options!;
    const problems: string[] = [];
    for (const action of actions) {
      const { type, ...fields } = action._zod.def.shape!;
      const name = String(type!._zod.def.values![0]);
      const example = doc.split('\n').find((line) => line.includes(`{ type: '${name}'`));
      if (!example) problems.push(`${name}: no example`);
      else for (const field of Object.keys(fields)) if (!new RegExp(`\\b${field}\\??\\s*[:,}]`).test(example)) problems.push(`${name}: no ${field}`);
    }
    expect(actions.length).toBeGreaterThan(5);
    expect(problems).toEqual([]);
  });

  it("the README's use-case section names every top-level setting and links the guide", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Use cases and tools'), readme.indexOf('\n## ', readme.indexOf('## Use cases and tools') + 1));
    const topLevel = schemaPaths(UseCaseConfigSchema).filter((path) => !path.includes('.') && !['id', 'name', 'description', 'promptTemplate', 'tools', 'dtmfMap'].includes(path));
    expect(topLevel.filter((key) => !section.includes(`\`${key}`))).toEqual([]);
    expect(section).toContain('(docs/ADDING-A-USE-CASE.md)');
  });
});

/** The dotted key paths a zod schema accepts; a record (free keys) or a scalar ends a path, arrays are looked through. */
function schemaPaths(schema: unknown, prefix = ''): string[] {
  const def = (schema as { _zod: { def: Record<string, any> } })._zod.def;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
      return schemaPaths(def.innerType, prefix);
    case 'pipe':
      return schemaPaths(def.out._zod.def.type === 'transform' ? def.in : def.out, prefix);
    case 'array':
      return schemaPaths(def.element, prefix);
    case 'union':
      return [...new Set((def.options as unknown[]).flatMap((option) => schemaPaths(option, prefix)))];
    case 'object':
      return Object.entries(def.shape as Record<string, unknown>).flatMap(([key, value]) => {
        const path = prefix ? `${prefix}.${key}` : key;
        return [path, ...schemaPaths(value, path)];
      });
    default:
      return [];
  }
}

/** The dotted key paths of a JSON value, arrays looked through like schemaPaths does. */
function valuePaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => valuePaths(item, prefix));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [path, ...valuePaths(child, path)];
  });
}

/** The parts of zod's internal definition the action walk reads. */
interface ZodInternals {
  _zod: { def: { options?: ZodInternals[]; shape?: Record<string, ZodInternals>; innerType?: ZodInternals; element?: ZodInternals; values?: unknown[] } };
}
