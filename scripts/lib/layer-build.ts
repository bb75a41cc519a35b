import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Stack } from './stacks.ts';

const run = promisify(execFile);

/**
 * Layer content built the way `sam build` builds `Metadata: BuildMethod: nodejs22.x` (aws-lambda-builders'
 * npm workflow): the dependencies of ContentUri's package.json, installed with `npm ci` from its lockfile,
 * production only, under `nodejs/node_modules` (Lambda mounts it at /opt/nodejs/node_modules, on NODE_PATH).
 */
export interface LayerSpec {
  stack: Stack;
  layerId: string;
  buildMethod: string;
  contentDir: string;
}

export interface BuiltLayer {
  stack: string;
  layerId: string;
  /** Root of the layer content (holds `nodejs/`). */
  outDir: string;
  /** `<outDir>/nodejs/node_modules`: the path to put on NODE_PATH to load it like Lambda does. */
  nodeModules: string;
  packages: { name: string; version: string }[];
  bytes: number;
}

export function layersOf(stack: Stack): LayerSpec[] {
  return Object.entries(stack.template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Serverless::LayerVersion' || r.Type === 'AWS::Lambda::LayerVersion')
    .map(([layerId, r]) => {
      const where = `${stack.folder}/${layerId}`;
      const contentUri = r.Properties?.ContentUri ?? r.Properties?.Content;
      if (typeof contentUri !== 'string') throw new Error(`${where}: ContentUri must be a local folder`);
      const buildMethod = r.Metadata?.BuildMethod;
      if (typeof buildMethod !== 'string') throw new Error(`${where}: Metadata.BuildMethod is required (sam build builds the layer)`);
      return { stack, layerId, buildMethod, contentDir: resolve(stack.dir, contentUri) };
    });
}

export async function buildLayer(layer: LayerSpec, outDir: string): Promise<BuiltLayer> {
  const where = `${layer.stack.folder}/${layer.layerId}`;
  if (!/^nodejs\d+\.x$/.test(layer.buildMethod)) throw new Error(`${where}: BuildMethod ${layer.buildMethod} is not built here`);
  for (const file of ['package.json', 'package-lock.json']) {
    if (!existsSync(join(layer.contentDir, file))) throw new Error(`${where}: ${file} is missing in ${layer.contentDir}`);
  }
  const nodejs = join(outDir, 'nodejs');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(nodejs, { recursive: true });
  copyFileSync(join(layer.contentDir, 'package.json'), join(nodejs, 'package.json'));
  copyFileSync(join(layer.contentDir, 'package-lock.json'), join(nodejs, 'package-lock.json'));
  // --prefer-offline: the root install already put these exact versions in npm's cache.
  await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: nodejs,
    timeout: 300_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const nodeModules = join(nodejs, 'node_modules');
  return { stack: layer.stack.folder, layerId: layer.layerId, outDir, nodeModules, packages: installedPackages(nodeModules), bytes: sizeOf(nodejs) };
}

function installedPackages(nodeModules: string): { name: string; version: string }[] {
  const lock = JSON.parse(readFileSync(join(nodeModules, '.package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string }>;
  };
  return Object.entries(lock.packages)
    .filter(([path]) => path.startsWith('node_modules/'))
    .map(([path, p]) => ({ name: path.slice('node_modules/'.length), version: p.version ?? '' }));
}

function sizeOf(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}
