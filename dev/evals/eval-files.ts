import { readdir, readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { discoverUseCases } from '../../scripts/lib/use-case-folders.ts';
import { EvalFileSchema, type EvalCase } from './eval-schema.ts';

/**
 * Finds and loads the eval files: `evals/*.yaml` in each use-case folder. Every problem names the file, the line
 * and the field (`06_use-case-apartment-search/evals/booking.yaml:12: script.2.expect.called: ...`), and all of a
 * file's problems are reported at once.
 */
export const EVALS_FOLDER = 'evals';

export class EvalFileError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid eval file${problems.length > 1 ? 's' : ''}:\n  ${problems.join('\n  ')}`);
    this.name = 'EvalFileError';
    this.problems = problems;
  }
}

/** Parses one eval file's text; `name` is how problems refer to it (a path relative to the repository). */
export function parseEvalFile(source: string, name: string, useCaseId: string): EvalCase {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false });
  const lineOf = (offset: number) => lines.linePos(offset).line;
  if (doc.errors.length) {
    throw new EvalFileError(doc.errors.map((e) => `${name}:${lineOf(e.pos[0])}: not valid YAML: ${e.message.split('\n')[0]}`));
  }
  const parsed = EvalFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new EvalFileError(
      parsed.error.issues.map((issue) => {
        const path = issue.path.map(String);
        return `${name}:${lineOfPath(doc, path, lineOf)}: ${path.join('.') || '(file)'}: ${issue.message}`;
      }),
    );
  }
  const steps = doc.get('script', true);
  const stepLines = isSeq(steps) ? steps.items.map((item) => lineOf((item as { range?: [number] }).range?.[0] ?? 0)) : [];
  const id = `${useCaseId}/${basename(name).replace(/\.ya?ml$/, '')}`;
  return { id, useCaseId, file: name, spec: parsed.data, stepLines };
}

/** The line of the deepest node the path reaches: the field itself, or the object it is missing from. */
function lineOfPath(doc: Document, path: string[], lineOf: (offset: number) => number): number {
  let node: unknown = doc.contents;
  let line = lineOf((node as { range?: [number] } | null)?.range?.[0] ?? 0);
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String((p.key as { value?: unknown })?.value) === key);
      if (!pair) break;
      const keyRange = (pair.key as { range?: [number] }).range;
      if (keyRange) line = lineOf(keyRange[0]);
      node = pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(key)];
      const range = (node as { range?: [number] } | undefined)?.range;
      if (!range) break;
      line = lineOf(range[0]);
    } else break;
  }
  return line;
}

/** Every eval of every use case under `rootDir`, in folder and file order. */
export async function loadEvals(rootDir: string): Promise<EvalCase[]> {
  const cases: EvalCase[] = [];
  const problems: string[] = [];
  for (const useCase of await discoverUseCases(rootDir)) {
    const dir = join(useCase.dir, EVALS_FOLDER);
    const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => /\.ya?ml$/.test(f)).sort();
    for (const file of files) {
      const path = join(dir, file);
      try {
        cases.push(parseEvalFile(await readFile(path, 'utf8'), relative(rootDir, path), useCase.id));
      } catch (err) {
        if (!(err instanceof EvalFileError)) throw err;
        problems.push(...err.problems);
      }
    }
  }
  if (problems.length) throw new EvalFileError(problems);
  return cases;
}
