import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayer, layersOf, type BuiltLayer } from '../../scripts/lib/layer-build.ts';
import { BANNER, repoStacks, ROOT } from './support.ts';

const run = promisify(execFile);

// The layer is built the way `sam build` builds it (npm ci from its lockfile, production only, under nodejs/),
// then used the way Lambda uses it: a bundle outside the repository, NODE_PATH=/opt/nodejs/node_modules.
describe('layers: content builds and serves the bundles through require', () => {
  const stacks = repoStacks().stacks;
  const layers = stacks.flatMap(layersOf);
  const work = mkdtempSync(join(tmpdir(), 'cr-layer-'));
  const built = new Map<string, BuiltLayer>();

  beforeAll(async () => {
    for (const layer of layers) built.set(layer.layerId, await buildLayer(layer, join(work, layer.layerId)));
  }, 300_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('every layer in the templates builds, with its declared dependencies installed', () => {
    expect(layers.length).toBeGreaterThan(0);
    for (const layer of layers) {
      const content = built.get(layer.layerId)!;
      expect(content.nodeModules.endsWith(join('nodejs', 'node_modules'))).toBe(true);
      expect(content.packages.map((p) => p.name)).toContain('twilio');
      expect(content.bytes).toBeGreaterThan(0);
    }
  });

  it('a function bundle loads twilio from the layer alone and verifies a Twilio signature with it', async () => {
    const shared = built.get('SharedDependenciesLayer');
    expect(shared, 'SharedDependenciesLayer in 01_dynamodb').toBeDefined();
    const outdir = join(work, 'task');
    await build({
      absWorkingDir: ROOT,
      entryPoints: ['tests/deploy/fixtures/handshake-probe.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      minify: true,
      target: 'es2022',
      outdir,
      outExtension: { '.js': '.mjs' },
      banner: { js: BANNER.slice('js='.length) },
      logLevel: 'silent',
    });
    const probe = join(outdir, 'handshake-probe.mjs');
    const withLayer = await run(process.execPath, [probe], { cwd: outdir, env: { PATH: process.env.PATH, NODE_PATH: shared!.nodeModules } });
    expect(JSON.parse(withLayer.stdout)).toEqual({ valid: true, tampered: false, loadError: null });
    // Without the layer the same bundle cannot find twilio: nothing of it was bundled.
    const without = await run(process.execPath, [probe], { cwd: outdir, env: { PATH: process.env.PATH } });
    expect(JSON.parse(without.stdout)).toEqual({ valid: false, tampered: false, loadError: 'MODULE_NOT_FOUND' });
  }, 120_000);
});
