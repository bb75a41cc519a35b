import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadUseCases } from '../../scripts/load-use-cases.ts';
import { UseCaseConfigError } from '../../scripts/lib/use-case-folders.ts';
import { createUseCase, NewUseCaseError } from '../../scripts/new-use-case.ts';

/**
 * `npm run use-cases:check`: one broken fixture per rule. Each starts from a folder the generator wrote (which
 * passes), breaks one thing the way an author would, and expects the problem to name the file, the field or
 * line, and a fix.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

/** A repository root holding only a generated use case (the shared layers and packages linked in). */
async function generated(id = 'pizza', name = "Tony's Pizza") {
  const root = await mkdtemp(join(tmpdir(), 'use-case-check-'));
  roots.push(root);
  await symlink(join(ROOT, 'layers'), join(root, 'layers'));
  await symlink(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  const { folder } = await createUseCase(root, id, name);
  const edit = async (file: string, change: (text: string) => string) => {
    const path = join(root, folder, file);
    await writeFile(path, change(await readFile(path, 'utf8')));
  };
  const editJson = (file: string, change: (value: any) => void) =>
    edit(file, (text) => {
      const value = JSON.parse(text);
      change(value);
      return JSON.stringify(value);
    });
  return { root, folder, edit, editJson };
}

async function problems(root: string, options: { iam?: boolean } = {}): Promise<string[]> {
  const outcome = await loadUseCases(undefined, { check: true, log: () => undefined, ...options }, root).catch((err: unknown) => err);
  if (Array.isArray(outcome)) return [];
  expect(outcome).toBeInstanceOf(UseCaseConfigError);
  return (outcome as UseCaseConfigError).problems;
}

describe('a generated use case', () => {
  it('passes as written, its policy included', async () => {
    const { root } = await generated();
    expect(await problems(root, { iam: true })).toEqual([]);
  }, 60_000);
});

describe('use-cases:check catches', () => {
  it('an offline script that is not JSON', async () => {
    const { root, folder, edit } = await generated();
    await edit('offline-model.json', (t) => t.replace('"rules": [', '"rules": [,'));
    expect(await problems(root)).toEqual([expect.stringMatching(new RegExp(`^${folder}/offline-model.json: not valid JSON \\(`))]);
  });

  it('every schema problem of an offline script, not just the first', async () => {
    const { root, folder, editJson } = await generated();
    await editJson('offline-model.json', (s) => {
      s.rules[0].when.user = '(unclosed';
      s.rules[1].colour = 'red';
    });
    expect(await problems(root)).toEqual([
      expect.stringMatching(new RegExp(`^${folder}/offline-model.json: rules\\[0\\]\\.when\\.user: not a valid regular expression`)),
      `${folder}/offline-model.json: rules[1]: Unrecognized key: "colour"`,
    ]);
  });

  it('a rule that calls, answers or reads a tool the use case does not have', async () => {
    const { root, folder, editJson } = await generated();
    await editJson('offline-model.json', (s) => {
      s.rules[0].call[0].tool = 'get_openign_hours';
      s.rules[2].when.toolResult = 'opening_hours';
      s.rules[3].say = 'Earlier: {{results.get_hours.spoken}}';
    });
    const fix = 'use one of: get_opening_hours';
    expect(await problems(root)).toEqual([
      `${folder}/offline-model.json: rules[0].call[0].tool: "get_openign_hours" is not a tool of this use case - fix: ${fix}`,
      `${folder}/offline-model.json: rules[2].when.toolResult: "opening_hours" is not a tool of this use case - fix: ${fix}`,
      `${folder}/offline-model.json: rules[3]: "get_hours" is not a tool of this use case - fix: ${fix}`,
    ]);
  });

  it("arguments a tool's schema refuses: a wrong type, a capture that needs a typed placeholder, an unknown argument", async () => {
    const { root, folder, editJson } = await generated();
    await editJson('offline-model.json', (s) => {
      s.rules[0].call[0].args = { day: 2 };
      s.rules[1].call[0].args = { day: 'monday', week: true };
    });
    await editJson('offline-model.json', (s) => {
      s.rules.push({ when: { user: 'week (?<n>\\d+)' }, call: [{ tool: 'get_opening_hours', args: { day: ['{{match.n}}'] } }] });
    });
    expect(await problems(root)).toEqual([
      `${folder}/offline-model.json: rules[0].call[0].args: day: expected one of "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", got number 2`,
      `${folder}/offline-model.json: rules[1].call[0].args: unknown argument "week" - fix: get_opening_hours takes: day`,
      `${folder}/offline-model.json: rules[4].call[0].args: day: expected one of "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", got an array of 1`,
    ]);
  });

  it('a script whose match is not in the prompt (it would never answer)', async () => {
    const { root, folder, editJson } = await generated();
    await editJson('offline-model.json', (s) => {
      s.match.systemPromptIncludes = "assistant of Tony's Pizzeria";
    });
    expect(await problems(root)).toEqual([
      `${folder}/offline-model.json: match.systemPromptIncludes: "assistant of Tony's Pizzeria" is not in use-case/prompt.md, so this script never answers - fix: quote a phrase of the prompt exactly`,
    ]);
  });

  it('a missing offline script', async () => {
    const { root, folder } = await generated();
    await rm(join(root, folder, 'offline-model.json'));
    expect(await problems(root)).toEqual([expect.stringMatching(new RegExp(`^${folder}/offline-model.json: missing: .* - fix: npm run new-use-case writes one`))]);
  });

  it('a time zone that does not exist', async () => {
    const { root, folder, editJson } = await generated();
    await editJson('use-case/settings.json', (s) => {
      s.timeZone = 'America/NewYork';
    });
    expect(await problems(root)).toEqual([
      `${folder}/use-case/settings.json: timeZone: "America/NewYork" is not an IANA time zone; expected one like "America/New_York" or "Europe/London"`,
    ]);
  });

  it('a keypad map with a bad key and an unknown tool', async () => {
    const { root, folder, editJson } = await generated();
    await editJson('use-case/dtmf.json', (m) => {
      m['1'].tool = 'get_hours';
      m['10'] = { say: 'Ten.', description: 'Pressed 10.' };
    });
    expect(await problems(root)).toEqual([
      `${folder}/use-case/dtmf.json: key "10": keypad digits are 0-9, * and #`,
      `${folder}/use-case/dtmf.json: 1.tool: unknown tool "get_hours"`,
    ]);
  });

  it("a template function named for another id (every tool call would fail in AWS)", async () => {
    const { root, folder, edit } = await generated('pizza-order', 'Pizza orders');
    await edit('template.yaml', (t) => t.replace('FunctionName: !Sub cr-${EnvironmentName}-tools-pizza-order', 'FunctionName: !Sub cr-${EnvironmentName}-tools-pizza'));
    expect(await problems(root)).toEqual([
      `${folder}/template.yaml: Resources.ToolsFunction.Properties.FunctionName: is cr-\${EnvironmentName}-tools-pizza; the engine invokes cr-\${EnvironmentName}-tools-pizza-order for use case "pizza-order" - fix: FunctionName: !Sub cr-\${EnvironmentName}-tools-pizza-order`,
      `${folder}/template.yaml: names "tools-pizza", which belongs to another use case (copied from its folder?) - fix: use the names of "pizza-order": cr-\${EnvironmentName}-tools-pizza-order, tools-pizza-order`,
    ]);
  });

  it('an edit to a folder checked before, and its undoing: findings are kept by content, never by folder', async () => {
    const { root, folder, edit } = await generated('pizza-order', 'Pizza orders');
    expect(await problems(root)).toEqual([]);
    const rename = (from: string, to: string) => edit('template.yaml', (t) => t.replace(`FunctionName: !Sub cr-\${EnvironmentName}-tools-${from}\n`, `FunctionName: !Sub cr-\${EnvironmentName}-tools-${to}\n`));
    await rename('pizza-order', 'pizza');
    expect(await problems(root)).toContainEqual(expect.stringMatching(new RegExp(`^${folder}/template.yaml: Resources.ToolsFunction.Properties.FunctionName: is cr-`)));
    await rename('pizza', 'pizza-order');
    expect(await problems(root)).toEqual([]);
  });

  it("a template copied from another folder: its log group, service name and code", async () => {
    const { root, folder, edit } = await generated();
    await edit('template.yaml', (t) =>
      t
        .replace('/aws/lambda/cr-${EnvironmentName}-tools-pizza', '/aws/lambda/cr-${EnvironmentName}-tools-default')
        .replace('POWERTOOLS_SERVICE_NAME: tools-pizza', 'POWERTOOLS_SERVICE_NAME: tools-default')
        .replace(`- ${folder}/src/handler.ts`, '- 05_use-case-default/src/handler.ts'),
    );
    const found = await problems(root);
    expect(found).toEqual([
      `${folder}/template.yaml: Resources.ToolsFunction.Metadata.BuildProperties.EntryPoints: builds 05_use-case-default/src/handler.ts, another folder's code - fix: build ${folder}/src/handler.ts`,
      `${folder}/template.yaml: Resources: no AWS::Serverless::Function builds ${folder}/src/handler.ts - fix: give the tools function Metadata.BuildProperties.EntryPoints: [${folder}/src/handler.ts]`,
      expect.stringContaining(`${folder}/template.yaml: names "tools-default", which belongs to another use case`),
    ]);
    await edit('template.yaml', (t) => t.replace('- 05_use-case-default/src/handler.ts', `- ${folder}/src/handler.ts`));
    expect(await problems(root)).toEqual([
      `${folder}/template.yaml: Resources.ToolsLogGroup.Properties.LogGroupName: is /aws/lambda/cr-\${EnvironmentName}-tools-default; the function logs to /aws/lambda/cr-\${EnvironmentName}-tools-pizza - fix: LogGroupName: !Sub /aws/lambda/cr-\${EnvironmentName}-tools-pizza`,
      `${folder}/template.yaml: Resources.ToolsFunction.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME: is tools-default; logs and metrics of this use case are named tools-pizza - fix: POWERTOOLS_SERVICE_NAME: tools-pizza`,
      expect.stringContaining(`${folder}/template.yaml: names "tools-default", which belongs to another use case`),
    ]);
  });

  it("a policy that does not allow a call the tools make, and grants one they never make (05's, copied)", async () => {
    const { root, folder, edit } = await generated();
    await edit('template.yaml', (t) =>
      t.replace(
        'Action: lambda:InvokeFunction',
        'Action: dynamodb:UpdateItem',
      ),
    );
    expect(await problems(root, { iam: true })).toEqual([
      `${folder}/template.yaml: Resources.ToolsFunction.Properties.Policies: the tools call client-lambda Invoke, which needs lambda:InvokeFunction: not granted - fix: allow lambda:InvokeFunction on exactly the resources the tools use (for the table: dynamodb:LeadingKeys for their keys)`,
      `${folder}/template.yaml: Resources.ToolsFunction.Properties.Policies: grants dynamodb:UpdateItem, which the tools' code never calls (left from the folder it was copied from?) - fix: remove dynamodb:UpdateItem`,
    ]);
  }, 60_000);

  it('a samconfig whose SAM environment was find-and-replaced with the id', async () => {
    const { root, folder, edit } = await generated();
    await edit('samconfig.toml', (t) => t.replaceAll('[default.', '[pizza.'));
    const found = await problems(root);
    expect(found[0]).toBe(
      `${folder}/samconfig.toml: line 5: [pizza.global.parameters]: "pizza" is a SAM CLI environment name, and npm run deploy and sam deploy read "default" - fix: write [default.global.parameters] (the use-case id belongs in the values, not the table names)`,
    );
    expect(found.at(-1)).toBe(`${folder}/samconfig.toml: [default.deploy.parameters]: stack_name is not set - fix: stack_name = "cr-use-case-pizza"`);
  });

  it('a samconfig stack name that does not match the id', async () => {
    const { root, folder, edit } = await generated();
    await edit('samconfig.toml', (t) => t.replace('stack_name = "cr-use-case-pizza"\nresolve_s3', 'stack_name = "cr-use-case-pizzas"\nresolve_s3'));
    expect(await problems(root)).toEqual([
      `${folder}/samconfig.toml: line 12: [default.deploy.parameters] stack_name is "cr-use-case-pizzas"; the stack of use case "pizza" is cr-use-case-pizza - fix: stack_name = "cr-use-case-pizza"`,
    ]);
  });

  it('an id that does not match the folder, among problems of other files: all are reported', async () => {
    const { root, folder, edit, editJson } = await generated();
    await edit('src/index.ts', (t) => t.replace("id: 'pizza'", "id: 'pizza-order'"));
    await editJson('use-case/settings.json', (s) => {
      s.id = 'pizza-order';
      s.timeZone = 'Mars/Olympus';
    });
    const found = await problems(root);
    expect(found).toContain(`${folder}/use-case/settings.json: timeZone: "Mars/Olympus" is not an IANA time zone; expected one like "America/New_York" or "Europe/London"`);
    expect(found).toContain(`${folder}/src/index.ts: id: is "pizza-order" but the folder is named for "pizza" - fix: rename the folder to ${folder.replace('pizza', 'pizza-order')} or change the id`);
  });

  it('a tool that does not compile, reported with the file instead of stopping the check', async () => {
    const { root, folder, edit } = await generated();
    await edit('src/tools/get-opening-hours.ts', (t) => t.replace('export const getOpeningHours', 'export const getOpeningHours = ;\nexport const x'));
    expect(await problems(root)).toEqual([expect.stringMatching(new RegExp(`^${folder}/src/index.ts: cannot be imported: `))]);
  });
});

describe('npm run new-use-case refuses', () => {
  it.each([
    ['Pizza', /not kebab case/],
    ['pizza--order', /not kebab case/],
    ['pizza_order', /not kebab case/],
    ['a'.repeat(39), /at most 38/],
  ])('the id %j', async (id, message) => {
    const root = await mkdtemp(join(tmpdir(), 'use-case-new-'));
    roots.push(root);
    await expect(createUseCase(root, id, 'Name')).rejects.toThrow(message);
  });

  it('an id that is taken, and an id whose stack name another stack already has', async () => {
    const { root, folder } = await generated();
    await expect(createUseCase(root, 'pizza', 'Again')).rejects.toThrow(`id: "pizza" is already the use case in ${folder}`);
    await mkdir(join(root, '02_menu-board'));
    await writeFile(join(root, '02_menu-board', 'template.yaml'), 'Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n');
    await writeFile(join(root, '02_menu-board', 'samconfig.toml'), '[default.deploy.parameters]\nstack_name = "cr-use-case-menu"\n');
    const refused = await createUseCase(root, 'menu', 'Menu').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(NewUseCaseError);
    expect((refused as Error).message).toBe('id: the stack name cr-use-case-menu is already taken by 02_menu-board');
  });
});
