import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Metafile } from 'esbuild';
import { buildFunction, buildSpec, esbuildOptions, foreignExternals, sharedRuns } from '../../scripts/lib/function-build.ts';
import { serverlessFunctions } from '../../scripts/lib/stacks.ts';
import { builtFunction, repoStacks, ROOT } from './support.ts';

// aws-lambda-builders passes MainFields to esbuild as --main-fields=<value>: a comma-separated list, in order.
describe('build parity: the templates\' BuildProperties reach esbuild as SAM passes them', () => {
  const fns = repoStacks().stacks.flatMap((s) => serverlessFunctions(s));

  it('MainFields becomes esbuild mainFields, order kept (ES module builds of the AWS SDK before CommonJS)', () => {
    expect(fns.length).toBeGreaterThan(0);
    for (const fn of fns) {
      const spec = buildSpec(fn);
      expect(esbuildOptions(spec, '/tmp/out').mainFields, `${fn.stack.folder}/${fn.functionId}`).toEqual(['module', 'main']);
    }
  });

  it('without MainFields esbuild keeps its own default for platform node (main before module)', () => {
    const spec = buildSpec(fns[0]!);
    const { MainFields: _, ...rest } = spec.properties;
    expect(esbuildOptions({ ...spec, properties: rest }, '/tmp/out').mainFields).toBeUndefined();
  });

  // The project's global setup bundles the functions side by side in one esbuild run (scripts/lib/function-build.ts
  // buildFunctions); what it hands the checks must be what `sam build` makes of each function alone.
  it('a bundle from the shared build is byte for byte the function built alone (its map naming the same sources), with the same inputs and exports', async () => {
    const work = mkdtempSync(join(tmpdir(), 'cr-parity-'));
    afterAll(() => rmSync(work, { recursive: true, force: true }));
    const fn = fns.find((f) => f.functionId === 'DisconnectFunction')!;
    const [shared, alone] = await Promise.all([builtFunction(fn), buildFunction(buildSpec(fn), work, ROOT)]);
    // A source map names its sources relative to where it is written: compared as the files they point at.
    const files = (dir: string) =>
      Object.fromEntries(
        readdirSync(dir)
          .sort()
          .map((f) => {
            const text = readFileSync(join(dir, f), 'utf8');
            if (!f.endsWith('.map')) return [f, text];
            const map = JSON.parse(text) as { sources: string[] };
            return [f, { ...map, sources: map.sources.map((source) => resolve(dir, source)) }];
          }),
      );
    expect(shared.handlerFile).toBeDefined();
    const sharedFiles = files(dirname(shared.handlerFile!));
    expect(Object.keys(sharedFiles)).toEqual(expect.arrayContaining(['disconnect.mjs', 'disconnect.mjs.map']));
    expect(sharedFiles).toEqual(files(work));
    expect(shared.handlerFileExports).toEqual(alone.handlerFileExports);
    expect(shared.entries.map((e) => [e.entry, e.bytes])).toEqual(alone.entries.map((e) => [e.entry, e.bytes]));
    expect(Object.keys(shared.metafile.inputs).sort()).toEqual(Object.keys(alone.metafile.inputs).sort());
  }, 120_000);

  // Functions that differ only in their externals share a run that marks them all external (SendMessage keeps
  // twilio out of its bundle; the others never import it): a function whose part of the run imports one that only
  // another function marks external would have bundled it alone, so it is built alone.
  it('functions that differ only in their externals share a run; one that imports another\'s external is built alone', () => {
    const base = esbuildOptions(buildSpec(fns[0]!), '/tmp/out');
    const runs = sharedRuns([base, { ...base, external: ['twilio'] }, { ...base, target: 'es2020' }]);
    expect(runs).toEqual([
      { members: [0, 1], external: ['twilio'] },
      { members: [2], external: [] },
    ]);
    const importing = (...paths: string[]): Metafile => ({
      inputs: { 'src/a.ts': { bytes: 1, imports: paths.map((path) => ({ path, kind: 'import-statement' as const, external: true })) } },
      outputs: {},
    });
    const run = runs[0]!;
    expect(foreignExternals(importing('twilio/lib/webhooks/webhooks.js'), [], run)).toBe(true);
    expect(foreignExternals(importing('twilio'), ['twilio'], run)).toBe(false);
    expect(foreignExternals(importing('node:fs', 'twilio-like'), [], run)).toBe(false);
    expect(foreignExternals(importing('@scope/pkg/sub'), [], { members: [0, 1], external: ['@scope/*'] })).toBe(true);
  });
});
