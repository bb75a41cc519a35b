// `npm test`: the typecheck and the vitest run side by side, not one after the other. The suite leaves a core
// idle at times (a project's setup, the last file of a project), and the typecheck fills those gaps instead of
// adding its own seconds in front. Plain node, not tsx: this wrapper starts in milliseconds.
// Arguments go to vitest (`npm test -- --project unit`). The exit code is non-zero if either fails; the
// typecheck's errors are printed after vitest's report, so they are the last thing on the screen.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

function run(command, args, { capture }) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    if (capture) {
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
    }
    child.on('error', (err) => resolve({ code: 1, output: `${command}: ${err.message}\n` }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

// One checker thread: beside vitest the cores are busy anyway, and tsc's parallel checkers repeat work (about 9 s of
// CPU against 5 s). The build info under node_modules/.cache lets a rerun check only what changed since the last.
const TSC_ARGS = ['--noEmit', '--singleThreaded', '--incremental', '--tsBuildInfoFile', join(root, 'node_modules/.cache/typecheck/tsbuildinfo')];

const [typecheck, tests] = await Promise.all([
  run(bin('tsc'), TSC_ARGS, { capture: true }),
  run(bin('vitest'), ['run', ...process.argv.slice(2)], { capture: false }),
]);

if (typecheck.code !== 0) {
  process.stderr.write(`\ntypecheck failed (tsc --noEmit):\n${typecheck.output}`);
}
process.exitCode = typecheck.code || tests.code;
