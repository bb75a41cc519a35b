import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./fixtures/stop-leaves-no-handles.ts', import.meta.url));

describe('stop()', () => {
  it('closes everything so the process exits on its own', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, LOG_LEVEL: 'SILENT' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A leftover handle (socket, keep-alive, timer) keeps the process alive: it would be killed here instead.
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (c, s) => resolve([c, s])),
    );
    clearTimeout(killer);

    expect({ code, signal, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const line = stdout.split('\n').find((l) => l.startsWith('{"stopped"'));
    expect(JSON.parse(line!)).toEqual({
      stopped: true,
      health: 'ok',
      frames: ['hello'],
      closeCode: 1001,
      pendingPost: 'GoneException',
      disconnects: [1001],
    });
  }, 40_000);
});
