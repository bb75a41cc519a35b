import { describe, expect, it } from 'vitest';
import { buildSpec, esbuildOptions } from '../../scripts/lib/function-build.ts';
import { serverlessFunctions } from '../../scripts/lib/stacks.ts';
import { repoStacks } from './support.ts';

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
});
