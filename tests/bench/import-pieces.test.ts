import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importOnce } from '../../bench/cold-import.ts';
import { PIECES, piecesIn, withoutPiece } from '../../bench/import-pieces.ts';
import { buildSpec, esbuildOptions } from '../../scripts/lib/function-build.ts';
import { serverlessFunctions } from '../../scripts/lib/stacks.ts';
import { repoStacks } from '../deploy/support.ts';

// The bench's "what each piece costs" rows are only as good as the rebuilt bundle: the piece must be gone from
// it, and the bundle must still import (module-scope code runs against the stand-in), or the row times a crash.
const disconnect = buildSpec(serverlessFunctions(repoStacks().stacks.find((s) => s.folder === '02_cr-application')!).find((f) => f.functionId === 'DisconnectFunction')!);
const sdk = PIECES.find((p) => p.name.startsWith('AWS SDK clients'))!;
const powertools = PIECES.find((p) => p.name.startsWith('Powertools'))!;
let out: string;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'bench-pieces-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

async function bundle(dir: string, plugins = [] as ReturnType<typeof withoutPiece>[]) {
  const result = await build({ ...esbuildOptions(disconnect, join(out, dir)), sourcemap: false, plugins });
  const [file, output] = Object.entries(result.metafile!.outputs).find(([, o]) => o.entryPoint)!;
  return { metafile: result.metafile!, outfile: resolve(disconnect.codeDir, file), inputs: Object.keys(output.inputs) };
}

describe('a hot bundle rebuilt without one piece (bench/import-pieces.ts)', () => {
  it('finds the pieces the $disconnect bundle holds, and only those', async () => {
    const asBuilt = await bundle('as-built');
    expect(piecesIn(asBuilt.metafile).map((p) => p.name)).toEqual(
      PIECES.filter((p) => /^(AWS SDK clients|Powertools|zod\/mini)/.test(p.name)).map((p) => p.name),
    );
  }, 60_000);

  it('leaves the AWS SDK clients and the @smithy stack out, and the bundle still imports and reaches its handler', async () => {
    const without = await bundle('without-sdk', [withoutPiece(sdk)]);
    expect(without.inputs.filter((i) => /node_modules\/(@aws-sdk\/client-|@aws-sdk\/lib-dynamodb|@smithy\/core)/.test(i))).toEqual([]);
    // Powertools stays: only the named piece is replaced.
    expect(without.inputs.some((i) => powertools.inputs.test(i))).toBe(true);
    const sample = await importOnce(without.outfile, [], { handlerExport: 'handler' });
    expect(sample.cpuMs).toBeGreaterThan(0);
    // The handler ran far enough to read the event (the probe's trap), so module scope ran against the stand-in.
    expect(sample.stackMs).not.toBeNull();
  }, 60_000);

  it('runs module-scope code that constructs what the stand-in replaces (Powertools logger and metrics)', async () => {
    const without = await bundle('without-powertools', [withoutPiece(powertools)]);
    expect(without.inputs.filter((i) => powertools.inputs.test(i))).toEqual([]);
    const sample = await importOnce(without.outfile, [], { handlerExport: 'handler' });
    expect(sample.stackMs).not.toBeNull();
  }, 60_000);

  it('keeps the @connections client when it takes the other AWS SDK clients out, and is offered only where it differs', async () => {
    const allButConnections = PIECES.find((p) => p.keep)!;
    const result = await build({
      stdin: {
        contents: "import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi'; import { SQSClient } from '@aws-sdk/client-sqs'; export const c = [ApiGatewayManagementApiClient, SQSClient];",
        resolveDir: process.cwd(),
        loader: 'ts',
      },
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      metafile: true,
      plugins: [withoutPiece(allButConnections)],
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => /node_modules\/@aws-sdk\/client-apigatewaymanagementapi\//.test(i))).toBe(true);
    expect(inputs.some((i) => /node_modules\/@aws-sdk\/client-sqs\//.test(i))).toBe(false);
    // $disconnect holds no @connections client: the piece would equal "AWS SDK clients", so it is not offered.
    const asBuilt = await bundle('as-built-keep');
    expect(piecesIn(asBuilt.metafile)).not.toContain(allButConnections);
  }, 60_000);
});
