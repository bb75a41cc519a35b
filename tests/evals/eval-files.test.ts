import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EvalFileError, loadEvals, parseEvalFile } from '../../dev/evals/eval-files.ts';
import { repositoryWithCopyOf } from './support.ts';

/** Eval files are checked when they load: every problem names the file, the line and the field. */
function problemsOf(source: string): string[] {
  try {
    parseEvalFile(source, 'evals/x.yaml', 'apartment-search');
  } catch (err) {
    if (err instanceof EvalFileError) return err.problems;
    throw err;
  }
  return [];
}

describe('eval files', () => {
  it('reports every problem of a file with its line and field', () => {
    expect(
      problemsOf(`name: Broken
callers:
  - id: jane
script:
  - say: hello
    expect:
      called: [{ nam: schedule_tour }]
  - press: "12"
  - sya: hi
expect:
  ended: { then: call }
  table:
    - pk: apartments#parkview
      count: -1
`),
    ).toEqual([
      'evals/x.yaml:7: script.0.expect.called.0.name: Invalid input: expected string, received undefined',
      'evals/x.yaml:7: script.0.expect.called.0: Unrecognized key: "nam"',
      'evals/x.yaml:8: script.1.press: one key: 0-9, * or #',
      'evals/x.yaml:9: script.2: a step needs exactly one of say, press, silence, hangup, redial',
      'evals/x.yaml:11: expect.ended.then: Invalid option: expected one of "dial"|"hangup"',
      'evals/x.yaml:14: expect.table.0.count: Too small: expected number to be >=0',
    ]);
  });

  it('checks what ties a file together: callers named by steps, where a barge-in may go, script or simulated caller', () => {
    expect(problemsOf('name: x\nscript:\n  - say: hi\n    caller: bob\n')).toEqual(['evals/x.yaml:4: script.0.caller: no caller "bob" in callers (caller)']);
    expect(problemsOf('name: x\nscript:\n  - silence: 10\n  - say: hi\n    cutsInAfterWords: 3\n')).toEqual([
      'evals/x.yaml:5: script.1.cutsInAfterWords: cuts in on a reply: the step before must be a say or a press',
    ]);
    expect(problemsOf('name: x\n')).toEqual(['evals/x.yaml:1: (file): an eval needs either `script` (scripted lines) or `simulated` (an LLM caller), not both']);
    expect(problemsOf('name: x\nscript:\n  - say: [unclosed\n')).toEqual([expect.stringMatching(/^evals\/x\.yaml:4: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a \]$/)]);
  });

  it('knows each step by its line, for reports', () => {
    const evalCase = parseEvalFile('name: x\n# a comment\nscript:\n  - say: hi\n\n  - press: "1"\n  - hangup: true\n', 'evals/x.yaml', 'default');
    expect(evalCase.id).toBe('default/x');
    expect(evalCase.stepLines).toEqual([4, 6, 7]);
    expect(evalCase.spec.callers).toEqual([{ id: 'caller' }]);
  });

  it('loadEvals reports the problems of every file at once, by path from the repository root', async () => {
    const repo = await repositoryWithCopyOf('05_use-case-default');
    try {
      await writeFile(join(repo.root, '05_use-case-default/evals/zz-bad.yaml'), 'name: x\nscript:\n  - press: "99"\n');
      await writeFile(join(repo.root, '05_use-case-default/evals/zz-worse.yml'), 'nme: x\n');
      await expect(loadEvals(repo.root)).rejects.toThrow(
        'invalid eval files:\n  05_use-case-default/evals/zz-bad.yaml:3: script.0.press: one key: 0-9, * or #\n' +
          '  05_use-case-default/evals/zz-worse.yml:1: name: Invalid input: expected string, received undefined\n' +
          '  05_use-case-default/evals/zz-worse.yml:1: (file): Unrecognized key: "nme"',
      );
    } finally {
      await repo.remove();
    }
  });

  it('a use case without an evals folder simply has none', async () => {
    const root = await mkdtemp(join(tmpdir(), 'evals-none-'));
    try {
      await mkdir(join(root, 'x'));
      expect(await loadEvals(root)).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
