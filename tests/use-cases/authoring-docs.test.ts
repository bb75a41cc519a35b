import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScript } from '../../dev/caller/script.ts';
import { OfflineScriptSchema } from '../../dev/llm/index.ts';

/** docs/ADDING-A-USE-CASE.md stays true: its examples load, its call-script steps parse, its commands exist. */
const ROOT = resolve(import.meta.dirname, '../..');
const doc = readFileSync(join(ROOT, 'docs/ADDING-A-USE-CASE.md'), 'utf8');
const blocks = (lang: string) => [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
const section = (heading: string) => doc.slice(doc.indexOf(heading), doc.indexOf('\n## ', doc.indexOf(heading) + 1));

describe('docs/ADDING-A-USE-CASE.md', () => {
  it('shows an offline script that loads', () => {
    const [example] = blocks('json');
    const parsed = OfflineScriptSchema.safeParse(JSON.parse(example!));
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it('lists exactly the call-script steps the caller understands, and its example parses', () => {
    const table = section('## Call scripts');
    const keywords = [...table.matchAll(/^\| `([a-z-]+)[^`]*` \|/gm)].map((m) => m[1]!);
    expect(keywords.sort()).toEqual(['bargein', 'dtmf', 'expect', 'expect-end', 'hangup', 'redial', 'say', 'wait']);
    const example = table.slice(table.indexOf('```\n') + 4, table.indexOf('```', table.indexOf('```\n') + 4));
    expect(parseScript(example, 'doc').map((s) => s.kind)).toEqual(['say', 'expect', 'dtmf', 'expect', 'hangup']);
  });

  it('tells the reader to run only npm scripts that exist', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const named = [...doc.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((name) => !scripts[name])).toEqual([]);
  });
});
