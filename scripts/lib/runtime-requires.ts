import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import type { Metafile } from 'esbuild';
import { exportsOf } from './deploy-order.ts';
import { layersOf } from './layer-build.ts';
import type { Stack } from './stacks.ts';

/**
 * Packages a bundle loads at run time instead of containing them: `require` through createRequire in our own
 * code (invisible to esbuild), and whatever esbuild left external. In Lambda those resolve only from a layer on
 * NODE_PATH, and only through `require`: an ESM `import` of a bare name never looks there.
 */
export interface RuntimeLoad {
  specifier: string;
  packageName: string;
  kind: 'createRequire' | 'external-require' | 'external-import';
  from: string;
}

const BUILTINS = new Set(builtinModules);
export const isBuiltin = (specifier: string) => specifier.startsWith('node:') || BUILTINS.has(specifier.split('/')[0]!);

export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

export function runtimeLoads(metafile: Metafile, codeDir: string): RuntimeLoad[] {
  const loads: RuntimeLoad[] = [];
  for (const output of Object.values(metafile.outputs)) {
    for (const [file, info] of Object.entries(output.inputs)) {
      if (info.bytesInOutput === 0 || file.includes('node_modules/')) continue;
      const source = readFileSync(resolve(codeDir, file), 'utf8');
      const names = [...source.matchAll(/(?:const|let|var)\s+(\w+)\s*=\s*createRequire\(/g)].map((m) => m[1]!);
      // Called in place: `createRequire(import.meta.url)('twilio')`.
      for (const m of source.matchAll(/createRequire\([^()]*(?:\([^()]*\))?[^()]*\)\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        const specifier = m[1]!;
        if (!specifier.startsWith('.') && !isBuiltin(specifier)) loads.push({ specifier, packageName: packageName(specifier), kind: 'createRequire', from: file });
      }
      for (const name of names) {
        for (const m of source.matchAll(new RegExp(`\\b${name}\\(\\s*['"]([^'"]+)['"]\\s*\\)`, 'g'))) {
          const specifier = m[1]!;
          if (!specifier.startsWith('.') && !isBuiltin(specifier)) loads.push({ specifier, packageName: packageName(specifier), kind: 'createRequire', from: file });
        }
      }
    }
    for (const imp of output.imports) {
      if (!imp.external || isBuiltin(imp.path)) continue;
      const kind = imp.kind === 'require-call' ? 'external-require' : 'external-import';
      loads.push({ specifier: imp.path, packageName: packageName(imp.path), kind, from: 'bundle' });
    }
  }
  return loads;
}

export interface LayerProvider {
  stack: Stack;
  layerId: string;
  /** How an importing template's Layers entry renders (`${Import:<export>}`), or `${LayerId}` in the same stack. */
  reference: string | undefined;
  packages: string[];
}

export function layerProviders(stacks: Stack[]): LayerProvider[] {
  return stacks.flatMap((stack) =>
    layersOf(stack).map((layer) => {
      const manifest = JSON.parse(readFileSync(join(layer.contentDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      const exported = exportsOf(stack).find((e) => {
        const value = stack.template.Outputs?.[e.outputKey]?.Value as { Ref?: string } | undefined;
        return value?.Ref === layer.layerId;
      });
      return { stack, layerId: layer.layerId, reference: exported ? `\${Import:${exported.name}}` : undefined, packages: Object.keys(manifest.dependencies ?? {}) };
    }),
  );
}
