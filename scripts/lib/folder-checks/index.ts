import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { OFFLINE_SCRIPT_FILE } from '../../../dev/llm/offline/script-files.ts';
import type { UseCaseModule } from '../../../layers/tools/use-case.ts';
import { PROMPT_FILE } from '../use-case-folders.ts';
import { idFromFolder } from '../use-case-names.ts';
import { checkOfflineScript } from './offline-script.ts';
import { checkPolicy } from './policy.ts';
import { checkSamconfig, SAMCONFIG_FILE } from './samconfig.ts';
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

/** Every file the checks below read (besides the tool definitions, which come in as their manifests). */
const CHECKED_FILES = [PROMPT_FILE, OFFLINE_SCRIPT_FILE, TEMPLATE_FILE, SAMCONFIG_FILE];

/**
 * Findings by everything they depend on: the folder, the id, the tool manifests and the text of every checked
 * file. The local runtime loads the use cases at every start (an eval run starts several), and parsing the
 * template and compiling the offline script's tool schemas is most of loading's own work; the same content gets
 * the same findings without doing it again.
 */
const findingsByContent = new Map<string, readonly string[]>();

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
  // The IAM comparison bundles the tool's code, which no key here covers: it always runs afresh.
  const key = options.iam ? undefined : await contentKey(useCase, config.tools);
  const known = key && findingsByContent.get(key);
  if (known) return [...known];
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
  if (key) findingsByContent.set(key, [...problems]);
  return problems;
}

async function contentKey(useCase: UseCaseModule, manifests: readonly unknown[]): Promise<string> {
  const texts = await Promise.all(CHECKED_FILES.map((file) => readOptional(join(useCase.dir, file))));
  return createHash('sha256').update(JSON.stringify([useCase.dir, useCase.id, manifests, texts])).digest('hex');
}

