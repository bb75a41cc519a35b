import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { getUseCase, listUseCases } from '../../layers/data/use-cases.ts';
import { defineTool } from '../../layers/tools/define-tool.ts';
import type { UseCaseModule } from '../../layers/tools/use-case.ts';
import { loadUseCases } from '../../scripts/load-use-cases.ts';
import { discoverUseCases, readUseCaseConfig, USE_CASE_FOLDER, UseCaseConfigError } from '../../scripts/lib/use-case-folders.ts';
import { idFromFolder } from '../../scripts/lib/use-case-names.ts';
import { querySlots } from '../../06_use-case-apartment-search/src/inventory.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** The use cases this repository has, from the folder names alone (the loader reads their modules). */
const FOLDER_IDS = readdirSync(ROOT).filter((f) => USE_CASE_FOLDER.test(f)).sort().map((f) => idFromFolder(f)!);

describe('the shipped use-case folders', () => {
  it('are discovered and valid, with tool manifests pointing at their tool functions in AWS', async () => {
    const useCases = await discoverUseCases(ROOT);
    // One per folder, named for it, in folder order.
    expect(useCases.map((u) => u.id)).toEqual(FOLDER_IDS);
    const configs = await Promise.all(useCases.map((u) => readUseCaseConfig(u, { ENVIRONMENT_NAME: 'dev' })));
    for (const config of configs) expect(config.tools?.every((t) => t.functionName === `cr-dev-tools-${config.id}`), config.id).toBe(true);
    const chooser = configs.find((c) => c.id === 'default');
    const apartments = configs.find((c) => c.id === 'apartment-search');
    expect(chooser?.tools?.map((t) => [t.name, t.functionName])).toEqual([
      ['save_caller_name', 'cr-dev-tools-default'],
      ['list_demos', 'cr-dev-tools-default'],
      ['choose_demo', 'cr-dev-tools-default'],
    ]);
    expect(apartments?.tools?.map((t) => t.name)).toEqual([
      'check_availability',
      'schedule_tour',
      'list_available_apartments',
      'check_existing_appointments',
      'get_property_info',
      'send_appointment_confirmation',
      'live_agent_handoff',
    ]);
    expect(apartments?.dtmfMap).toMatchObject({ '1': { tool: 'list_available_apartments' }, '2': { tool: 'check_existing_appointments' } });
    expect(apartments?.timeZone).toBe('America/Denver');
    // Locally (no ENVIRONMENT_NAME) tools run in-process by name.
    const local = await readUseCaseConfig(useCases[0]!, {});
    expect(local.tools?.every((t) => t.functionName === undefined)).toBe(true);
  });

  it('every tool each prompt mentions exists, and every tool is mentioned', async () => {
    for (const useCase of await discoverUseCases(ROOT)) {
      const config = await readUseCaseConfig(useCase, {});
      const names = new Set(config.tools?.map((t) => t.name));
      const mentioned = new Set(config.promptTemplate.match(/\b[a-z]+(?:_[a-z]+)+\b/g) ?? []);
      expect([...mentioned].filter((n) => !names.has(n)), useCase.id).toEqual([]);
      expect([...names].filter((n) => !mentioned.has(n)), useCase.id).toEqual([]);
    }
  });
});

describe('npm run use-cases:load', () => {
  let table: TestTable;
  beforeEach(async () => {
    table = await createTestTable();
  });
  afterEach(async () => {
    await table.drop();
  });

  it('writes every use case and its data, and loading twice changes nothing but the timestamps', async () => {
    const lines: string[] = [];
    const now = new Date('2026-03-10T15:00:00Z');
    expect(await loadUseCases(table, { now, log: (l) => lines.push(l) }, ROOT)).toEqual(FOLDER_IDS);
    expect(lines.join('\n')).toMatch(/loaded  apartment-search: 7 tools[\s\S]*data    apartment-search: 4 layouts, 56 tour slots \(56 new, 0 kept\)/);
    const first = await listUseCases(table);
    const slots = await querySlots(table);

    lines.length = 0;
    await loadUseCases(table, { now, log: (l) => lines.push(l) }, ROOT);
    expect(lines.join('\n')).toMatch(/56 tour slots \(0 new, 56 kept\)/);
    expect((await listUseCases(table)).map((u) => u.id).sort()).toEqual(first.map((u) => u.id).sort());
    expect(await querySlots(table)).toEqual(slots);
    const chooser = await getUseCase(table, 'default');
    expect(chooser.promptTemplate).toContain('{{demos}}');
    expect(chooser.listed).toBe(false);
  });

  it('--only loads one use case; --check writes nothing', async () => {
    await loadUseCases(table, { only: 'default', log: () => undefined }, ROOT);
    expect((await listUseCases(table)).map((u) => u.id)).toEqual(['default']);
    await loadUseCases(table, { check: true, log: () => undefined }, ROOT);
    expect((await listUseCases(table)).map((u) => u.id)).toEqual(['default']);
    await expect(loadUseCases(table, { only: 'nope', log: () => undefined }, ROOT)).rejects.toThrow(`--only nope: no such use case (there are: ${FOLDER_IDS.join(', ')})`);
  });
});

describe('bad configuration names the file and field', () => {
  let root: string;
  let dir: string;
  const okTool = defineTool({ name: 'ok_tool', description: 'Fine.', parameters: z.object({ a: z.string() }), handler: async () => ({ result: {} }) });
  const folder = (tools: UseCaseModule['tools'] = [okTool]): UseCaseModule => ({ id: 'broken', dir, tools });
  const settings = { id: 'broken', name: 'Broken', description: 'For tests.', conversationRelay: { voice: 'en-US-Chirp3-HD-Aoede' } };
  const write = (file: string, content: unknown) =>
    writeFile(join(dir, 'use-case', file), typeof content === 'string' ? content : JSON.stringify(content));
  const problems = async (useCase = folder()) => {
    const err = await readUseCaseConfig(useCase, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UseCaseConfigError);
    return (err as UseCaseConfigError).problems;
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'use-cases-'));
    dir = join(root, '09_use-case-broken');
    await mkdir(join(dir, 'use-case'), { recursive: true });
    await write('prompt.md', 'Hello {{callerName}}, today is {{today}}.');
    await write('settings.json', settings);
    await write('dtmf.json', { '1': { tool: 'ok_tool', description: 'Pressed 1.' } });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('accepts the valid baseline', async () => {
    await expect(readUseCaseConfig(folder(), {})).resolves.toMatchObject({ id: 'broken', promptTemplate: 'Hello {{callerName}}, today is {{today}}.' });
  });

  it('a missing prompt', async () => {
    await rm(join(dir, 'use-case', 'prompt.md'));
    expect(await problems()).toEqual(['09_use-case-broken/use-case/prompt.md: missing: every use case needs a prompt']);
  });

  it('an empty prompt, and an unknown placeholder', async () => {
    await write('prompt.md', '');
    expect(await problems()).toEqual(['09_use-case-broken/use-case/prompt.md: the prompt is empty']);
    await write('prompt.md', 'Hi {{caller.name}} on {{todya}}');
    expect(await problems()).toEqual(['09_use-case-broken/use-case/prompt.md: unknown placeholder(s) {{caller.name}}, {{todya}}']);
  });

  it('a wrongly typed or unknown setting', async () => {
    await write('settings.json', { ...settings, conversationRelay: { voice: 42, colour: 'red' } });
    expect(await problems()).toEqual([
      '09_use-case-broken/use-case/settings.json: conversationRelay.voice: Invalid input: expected string, received number',
      '09_use-case-broken/use-case/settings.json: conversationRelay: Unrecognized key: "colour"',
    ]);
  });

  it('settings that are not JSON, or that belong in another file', async () => {
    await write('settings.json', '{ "id": "broken", ');
    expect((await problems())[0]).toMatch(/^09_use-case-broken\/use-case\/settings.json: not valid JSON/);
    await write('settings.json', { ...settings, id: 'other', promptTemplate: 'x' });
    expect(await problems()).toEqual(
      expect.arrayContaining([
        '09_use-case-broken/use-case/settings.json: promptTemplate: not allowed here: it comes from use-case/prompt.md',
        '09_use-case-broken/use-case/settings.json: id: must be "broken", the id src/index.ts exports',
      ]),
    );
  });

  it('an unknown keypad digit, and a key mapped to a tool that does not exist', async () => {
    await write('dtmf.json', { '5x': { say: 'hi', description: 'x' } });
    expect(await problems()).toEqual(['09_use-case-broken/use-case/dtmf.json: key "5x": keypad digits are 0-9, * and #']);
    await write('dtmf.json', { '2': { tool: 'no_such_tool', description: 'y' }, '#': { description: 'z' } });
    expect(await problems()).toEqual([
      '09_use-case-broken/use-case/dtmf.json: #: a keypad action needs `say`, `tool` or both',
      '09_use-case-broken/use-case/dtmf.json: 2.tool: unknown tool "no_such_tool"',
    ]);
    await write('dtmf.json', { '2': { tool: 'no_such_tool', description: 'y' } });
    expect(await problems()).toEqual(['09_use-case-broken/use-case/dtmf.json: 2.tool: unknown tool "no_such_tool"']);
  });

  it('keypad keys that are names of object members, or more than one key', async () => {
    // Written as text: JSON.parse makes "__proto__" an own key, as it would read a hand-edited file.
    await write('dtmf.json', '{"1": {"say": "hi", "description": "x"}, "__proto__": {"say": "hi", "description": "x"}}');
    expect(await problems()).toEqual(['09_use-case-broken/use-case/dtmf.json: key "__proto__": keypad digits are 0-9, * and #']);
    await write('dtmf.json', { constructor: { say: 'hi', description: 'y' }, '12': { say: 'hi', description: 'z' } });
    expect(await problems()).toEqual([
      '09_use-case-broken/use-case/dtmf.json: key "12": keypad digits are 0-9, * and #',
      '09_use-case-broken/use-case/dtmf.json: key "constructor": keypad digits are 0-9, * and #',
    ]);
  });

  it('an invalid tool schema or name', async () => {
    const dated = defineTool({ name: 'when', description: 'Dates.', parameters: z.object({ at: z.date() }), handler: async () => ({ result: {} }) });
    const badName = defineTool({ name: 'bad name!', description: 'x', parameters: z.object({}), handler: async () => ({ result: {} }) });
    const found = await problems(folder([okTool, dated, badName]));
    expect(found).toEqual([
      expect.stringMatching(/^09_use-case-broken\/src\/tools \(when\): parameters: cannot be expressed as JSON Schema/),
      '09_use-case-broken/src/tools (bad name!): name: tool names are 1-64 letters, digits, _ or - (the OpenAI limit)',
    ]);
  });

  it('a folder without src/index.ts is reported by discovery', async () => {
    await expect(discoverUseCases(root)).rejects.toThrow(/09_use-case-broken\/src\/index.ts: missing/);
  });
});
