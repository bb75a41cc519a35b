import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSpec, missingEntryPoints, type FunctionBuild } from '../../scripts/lib/function-build.ts';
import { render } from '../../scripts/lib/intrinsics.ts';
import { layerProviders, runtimeLoads } from '../../scripts/lib/runtime-requires.ts';
import { serverlessFunctions, type FunctionResource } from '../../scripts/lib/stacks.ts';
import { lambdaNodeOptions } from '../../scripts/lib/function-env.ts';
import { BANNER, builtFunction, repoStacks, ROOT } from './support.ts';

const { stacks, missing } = repoStacks();

const builds = new Map<string, Promise<FunctionBuild>>();
function built(fn: FunctionResource): Promise<FunctionBuild> {
  const key = `${fn.stack.folder}/${fn.functionId}`;
  if (!builds.has(key)) builds.set(key, builtFunction(fn));
  return builds.get(key)!;
}

function logRetention(fn: FunctionResource): number | string | undefined {
  const resources = fn.stack.template.Resources;
  const logGroupRef = (fn.properties.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup?.Ref;
  const functionName = fn.properties.FunctionName ? render(fn.properties.FunctionName, fn.stack) : `\${${fn.functionId}}`;
  const group = Object.entries(resources).find(([id, r]) => {
    if (r.Type !== 'AWS::Logs::LogGroup') return false;
    if (id === logGroupRef) return true;
    const name = r.Properties?.LogGroupName;
    return name !== undefined && render(name, fn.stack) === `/aws/lambda/${functionName}`;
  });
  const days = group?.[1].Properties?.RetentionInDays;
  return days === undefined ? undefined : render(days, fn.stack);
}

describe('functions: conventions, entry points, bundles, run-time dependencies', () => {
  for (const m of missing) it.skip(`${m.folder}: no template.yaml yet`, () => undefined);
  const providers = layerProviders(stacks);

  for (const stack of stacks) {
    for (const fn of serverlessFunctions(stack)) {
      const name = `${stack.folder}/${fn.functionId}`;
      const meta = fn.resource.Metadata as { BuildMethod?: string; BuildProperties?: Record<string, unknown> } | undefined;

      it(`${name}: nodejs22.x on arm64, built by SAM with esbuild as minified ESM (ES module builds of dependencies) with the createRequire banner`, () => {
        expect(fn.properties.Runtime).toBe('nodejs22.x');
        expect(fn.properties.Architectures).toEqual(['arm64']);
        expect(fn.properties.CodeUri).toBe('../');
        expect(meta?.BuildMethod).toBe('esbuild');
        expect(meta?.BuildProperties).toMatchObject({ Format: 'esm', Minify: true, Target: 'es2022', MainFields: 'module,main', OutExtension: ['.js=.mjs'], Banner: [BANNER] });
        const entries = (meta?.BuildProperties?.EntryPoints ?? []) as string[];
        expect(entries.length).toBeGreaterThan(0);
        for (const e of entries) expect(e.startsWith(`${stack.folder}/`), `${e} is under ${stack.folder}/`).toBe(true);
      });

      it(`${name}: memory, timeout and log retention are set for its job`, () => {
        expect(typeof fn.properties.MemorySize === 'number' || typeof fn.properties.MemorySize === 'object', 'MemorySize').toBe(true);
        expect(typeof fn.properties.Timeout === 'number' || typeof fn.properties.Timeout === 'object', 'Timeout').toBe(true);
        expect(logRetention(fn), 'a log group with RetentionInDays for this function').toBeDefined();
      });

      it(`${name}: its entry points exist, bundle, and the bundle exports the Handler`, async () => {
        const spec = buildSpec(fn);
        expect(missingEntryPoints(spec).map((e) => relative(ROOT, e))).toEqual([]);
        const result = await built(fn);
        expect(result.handlerFile, `Handler ${String(fn.properties.Handler)} names a built file`).toBeDefined();
        expect(result.handlerFileExports).toContain(spec.handlerExport);
        for (const entry of result.entries) expect(entry.bytes).toBeGreaterThan(0);
      }, 120_000);

      it(`${name}: whatever it loads at run time comes from a layer it references, through require`, async () => {
        const result = await built(fn);
        const layers = ((fn.properties.Layers ?? []) as unknown[]).map((l) => render(l, stack));
        const problems: string[] = [];
        for (const load of runtimeLoads(result.metafile, result.spec.codeDir)) {
          if (load.kind === 'external-import') {
            problems.push(`${load.specifier}: ESM import of an external package; Lambda never resolves it from /opt (load it with createRequire)`);
            continue;
          }
          const provider = providers.find((p) => p.packages.includes(load.packageName));
          if (!provider) problems.push(`${load.specifier} (${load.from}): no layer provides ${load.packageName}`);
          else if (!provider.reference || !layers.some((l) => l === provider.reference || l === `\${${provider.layerId}}`)) {
            problems.push(`${load.specifier} (${load.from}): needs Layers: !ImportValue ${provider.reference ?? provider.layerId}, has [${layers.join(', ')}]`);
          }
        }
        expect(problems).toEqual([]);
      }, 120_000);

      it(`${name}: references a layer only if its bundle loads something from it (Lambda mounts every layer on each cold start)`, async () => {
        const result = await built(fn);
        const layers = ((fn.properties.Layers ?? []) as unknown[]).map((l) => render(l, stack));
        const loaded = new Set(runtimeLoads(result.metafile, result.spec.codeDir).map((l) => l.packageName));
        const unused = layers.filter((layer) => {
          const provider = providers.find((p) => layer === p.reference || layer === `\${${p.layerId}}`);
          return !provider || !provider.packages.some((p) => loaded.has(p));
        });
        expect(unused).toEqual([]);
      }, 120_000);

      it(`${name}: starts node without --enable-source-maps unless the SourceMaps parameter says Enabled`, () => {
        expect(lambdaNodeOptions(fn)).not.toContain('--enable-source-maps');
        expect(stack.template.Parameters?.SourceMaps?.Default).toBe('Disabled');
        const enabled = { ...fn, stack: { ...stack, parameters: { ...stack.parameters, SourceMaps: 'Enabled' } } };
        expect(lambdaNodeOptions(enabled)).toContain('--enable-source-maps');
        // The maps still ship beside the bundle, for whoever turns them on.
        expect((fn.resource.Metadata?.BuildProperties as { Sourcemap?: boolean } | undefined)?.Sourcemap).toBe(true);
      });
    }
  }
});
