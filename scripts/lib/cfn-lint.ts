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

export function cfnLintVersion(): string | undefined {
  try {
    return execFileSync('cfn-lint', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** The same, without holding the event loop while cfn-lint's Python starts (about a second and a half). */
export async function cfnLintVersionAsync(): Promise<string | undefined> {
  try {
    return (await promisify(execFile)('cfn-lint', ['--version'], { encoding: 'utf8' })).stdout.trim();
  } catch {
    return undefined;
  }
}

/** Lints templates with the repository's .cfnlintrc.yaml (cfn-lint reads it from `cwd`). */
export async function cfnLint(templates: string[], cwd: string): Promise<LintFinding[]> {
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('cfn-lint', ['--format', 'json', '--', ...templates], { cwd, maxBuffer: 32 * 1024 * 1024 }));
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
