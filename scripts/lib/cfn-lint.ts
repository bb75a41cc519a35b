import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

/** cfn-lint (with its bundled SAM translator), run as a process; JSON findings grouped by template. */
export interface LintFinding {
  rule: string;
  level: 'Error' | 'Warning' | 'Informational';
  message: string;
  file: string;
  line: number;
}

/**
 * Asks python3's package metadata instead of `cfn-lint --version`, which imports all of cfn-lint first (about
 * 1.3 s of CPU, against 0.1 s): the version of the cfn-lint that python3 has (the one SAM's translator is run
 * from, scripts/lib/sam_transform.py), when a `cfn-lint` command is on PATH too. Prints nothing otherwise.
 */
const PROBE = [
  '-c',
  'import importlib.metadata as m, importlib.util as u, shutil\n' +
    'print("cfn-lint " + m.version("cfn-lint") if shutil.which("cfn-lint") and u.find_spec("samtranslator") else "")',
];
const run = promisify(execFile);

/** cfn-lint's version, or undefined when it is not installed; the probe first, then cfn-lint itself. */
export function cfnLintVersion(): string | undefined {
  for (const [file, args] of [['python3', PROBE], ['cfn-lint', ['--version']]] as const) {
    try {
      const out = execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      if (out) return out;
    } catch {
      // Not there: the next way of asking.
    }
  }
  return undefined;
}

/** The same, without holding the event loop while python starts. */
export async function cfnLintVersionAsync(): Promise<string | undefined> {
  for (const [file, args] of [['python3', PROBE], ['cfn-lint', ['--version']]] as const) {
    try {
      const out = (await run(file, args, { encoding: 'utf8' })).stdout.trim();
      if (out) return out;
    } catch {
      // Not there: the next way of asking.
    }
  }
  return undefined;
}

/** Lints templates with the repository's .cfnlintrc.yaml (cfn-lint reads it from `cwd`). */
export async function cfnLint(templates: string[], cwd: string): Promise<LintFinding[]> {
  let stdout: string;
  try {
    ({ stdout } = await run('cfn-lint', ['--format', 'json', '--', ...templates], { cwd, maxBuffer: 32 * 1024 * 1024 }));
  } catch (err) {
    // Non-zero exit codes encode the levels found; the JSON is still on stdout.
    const e = err as { stdout?: string; stderr?: string; code?: number | string };
    if (typeof e.stdout !== 'string' || !e.stdout.trim().startsWith('[')) throw new Error(`cfn-lint failed (${e.code}): ${e.stderr ?? ''}`);
    stdout = e.stdout;
  }
  const raw = JSON.parse(stdout || '[]') as {
    Rule: { Id: string };
    Level: LintFinding['level'];
    Message: string;
    Filename: string;
    Location: { Start: { LineNumber: number } };
  }[];
  return raw.map((f) => ({ rule: f.Rule.Id, level: f.Level, message: f.Message, file: f.Filename, line: f.Location.Start.LineNumber }));
}
