import { basename, join } from 'node:path';
import type { UseCaseModule } from '../../../layers/tools/use-case.ts';
import { PROMPT_FILE } from '../use-case-folders.ts';
import { idFromFolder } from '../use-case-names.ts';
import { checkOfflineScript } from './offline-script.ts';
import { checkPolicy } from './policy.ts';
import { checkSamconfig } from './samconfig.ts';
import { readOptional } from './shared.ts';
import { checkTemplate, TEMPLATE_FILE } from './template.ts';

/**
 * What `use-cases:check` verifies beyond the config item: that the folder's offline script, template and
 * samconfig agree with its id and its tools. Each finding names the file, the field (or line) and a fix, and
 * every finding is reported, not just the first per file. With `iam`, the tool function's inline policy is compared
 * with the SDK calls its bundle makes; the full check (resources and conditions, through SAM's own transform)
 * runs in `npm test` (tests/deploy/iam.test.ts) for every folder.
 */

export interface FolderCheckOptions {
  /**
   * Also bundle the tool function and compare the SDK calls its code makes with the actions its inline policy
   * grants (about a second per folder: `use-cases:check` does it, `npm start` does not).
   */
  iam?: boolean;
}

/** Runs whether or not the config itself is valid, so one pass reports the problems of every file. */
export async function folderProblems(useCase: UseCaseModule, options: FolderCheckOptions = {}): Promise<string[]> {
  const folder = basename(useCase.dir);
  const config = {
    tools: useCase.tools.flatMap((tool) => {
      try {
        return [tool.manifest()];
      } catch {
        return []; // reported by the config check
      }
    }),
    promptTemplate: (await readOptional(join(useCase.dir, PROMPT_FILE))) ?? '',
  };
  const problems: string[] = [];
  const at = (file: string, field: string | undefined, message: string, fix?: string) =>
    problems.push(`${folder}/${file}: ${field ? `${field}: ` : ''}${message}${fix ? ` - fix: ${fix}` : ''}`);

  const named = idFromFolder(folder);
  if (named !== useCase.id) {
    at('src/index.ts', 'id', `is "${useCase.id}" but the folder is named for "${named}"`, `rename the folder to ${folder.replace(/_use-case-.*$/, `_use-case-${useCase.id}`)} or change the id`);
  }
  await checkOfflineScript(useCase, config, at);
  await checkTemplate(useCase, folder, at);
  await checkSamconfig(useCase, at);
  if (options.iam && !problems.some((p) => p.startsWith(`${folder}/${TEMPLATE_FILE}:`))) await checkPolicy(useCase, folder, at);
  return problems;
}

