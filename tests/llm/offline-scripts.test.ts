import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOfflineScriptFiles, loadOfflineScripts, OfflineScriptError } from '../../dev/llm/index.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/use-cases', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'offline-scripts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a script file and returns the error loading it raises. */
async function loadError(name: string, content: unknown): Promise<OfflineScriptError> {
  const file = join(dir, name);
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  const error = await loadOfflineScripts([file]).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(OfflineScriptError);
  expect((error as OfflineScriptError).file).toBe(file);
  expect((error as Error).message.startsWith(`${file}: `)).toBe(true);
  return error as OfflineScriptError;
}

const base = { name: 'test', match: { systemPromptIncludes: 'x' } };

describe('offline script files', () => {
  it('finds offline-model.json only in 0*_use-case-* folders, in folder order', async () => {
    const files = await findOfflineScriptFiles(FIXTURES);
    expect(files).toEqual([
      join(FIXTURES, '05_use-case-default', 'offline-model.json'),
      join(FIXTURES, '06_use-case-apartment-search', 'offline-model.json'),
    ]);
  });

  it('loads the example scripts, compiling patterns and filling defaults', async () => {
    const [chooser, apartments] = await loadOfflineScripts(await findOfflineScriptFiles(FIXTURES));
    expect(chooser!.match.systemPromptIncludes).toEqual(['demo line', 'choose']);
    expect(chooser!.maxToolRoundsPerTurn).toBe(3);
    expect(apartments!.file).toBe(join(FIXTURES, '06_use-case-apartment-search', 'offline-model.json'));
    expect(apartments!.match.systemPromptIncludes).toEqual(['Parkview Apartments']);
    const greeting = apartments!.rules[0]!;
    expect(greeting.when.user).toBeInstanceOf(RegExp);
    expect(greeting.when.user!.test('HELLO there')).toBe(true);
    expect(greeting.once).toBe(true);
    expect(apartments!.rules[1]!.once).toBe(false);
  });
});

describe('offline script validation names the file and the field', () => {
  it('rejects a file that is not JSON', async () => {
    const error = await loadError('broken.json', '{"name": "x",');
    expect(error.problems[0]).toMatch(/^is not valid JSON/);
  });

  it('rejects an invalid regular expression', async () => {
    const error = await loadError('regex.json', { ...base, rules: [{ when: { user: '(unclosed' }, say: 'hi' }] });
    expect(error.problems).toEqual([expect.stringMatching(/^rules\[0\]\.when\.user: not a valid regular expression/)]);
  });

  it('rejects placeholders the rule cannot fill', async () => {
    const error = await loadError('placeholders.json', {
      ...base,
      rules: [
        { when: { user: 'price' }, say: 'It costs {{result.rent}}.' },
        { when: { user: '(?<layout>studio)' }, call: [{ tool: 'info', args: { layout: '{{match.size}}', nested: ['{{match.layout}}', { deep: '{{reslt.x}}' }] } }] },
        { when: { toolResult: 'info', has: 'results.info.ok' }, say: 'Done {{ result.x' },
      ],
      fallback: { say: 'Sorry, {{match.0}}' },
    });
    expect(error.problems).toEqual([
      expect.stringMatching(/^rules\[0\]\.say: \{\{result\.rent\}\} cannot be used here/),
      expect.stringMatching(/^rules\[1\]\.call\[0\]\.args\.layout: \{\{match\.size\}\}: when\.user has no named group "size"/),
      expect.stringMatching(/^rules\[1\]\.call\[0\]\.args\.nested\[1\]\.deep: \{\{reslt\.x\}\} cannot be used here/),
      expect.stringMatching(/^rules\[2\]\.say: malformed placeholder/),
      expect.stringMatching(/^fallback\.say: \{\{match\.0\}\} cannot be used here/),
    ]);
  });

  it('rejects rules without a condition or without anything to do, unknown fields and a missing match', async () => {
    const rules = await loadError('rules.json', {
      ...base,
      rules: [{ when: {}, say: 'x' }, { when: { user: 'x' } }, { when: { user: 'x' }, sya: 'typo' }, { when: { toolResult: 'bad name!' }, say: 'x' }],
    });
    expect(rules.problems).toEqual([
      'rules[0].when: a rule needs `when.user`, `when.toolResult` or both',
      'rules[1]: a rule needs `say`, `call` or both',
      expect.stringMatching(/^rules\[2\]: Unrecognized key: "sya"/),
      // The misspelt key also leaves the rule with nothing to do.
      'rules[2]: a rule needs `say`, `call` or both',
      'rules[3].when.toolResult: tool names are 1-64 letters, digits, _ or -',
    ]);

    const noMatch = await loadError('no-match.json', { name: 'x', rules: [] });
    expect(noMatch.problems).toEqual([expect.stringMatching(/^match: /)]);
  });

  it('names a file that does not exist', async () => {
    const missing = join(dir, 'missing.json');
    await expect(loadOfflineScripts([missing])).rejects.toThrow(`${missing}: cannot be read`);
  });
});
