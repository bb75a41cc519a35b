import { basename, dirname, resolve } from 'node:path';
import { idFromFolder } from '../../scripts/lib/use-case-names.ts';

/**
 * Which use case a call asks the local runtime for: `--use-case <id>`, else the use case whose folder holds the
 * `--script` (a folder's demo call is written for that use case), else none, and the app answers as it would a
 * real caller (their saved choice, or DEFAULT_USE_CASE_ID).
 */
export function requestedUseCase(option: string | undefined, script: string | undefined): { id: string; because: string } | undefined {
  if (option) return { id: option, because: '--use-case' };
  if (!script) return undefined;
  const id = idFromFolder(basename(dirname(resolve(script))));
  return id ? { id, because: `the script is in its folder; --use-case overrides` } : undefined;
}
