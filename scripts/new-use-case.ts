import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadStacks } from './lib/stacks.ts';
import { idFromFolder, idProblem, useCaseNames } from './lib/use-case-names.ts';
import { USE_CASE_FOLDER } from './lib/use-case-folders.ts';
import { useCaseFiles } from './new-use-case/files.ts';

/**
 * `npm run new-use-case <id> "<Display name>"`: writes a new use-case folder that passes `use-cases:check`, its
 * own tests and its demo call as written, with every id-derived name from one place. Nothing outside the folder
 * changes: the loader, the local runtime, the tests and the deploy all discover folders.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export class NewUseCaseError extends Error {}

export interface CreatedUseCase {
  folder: string;
  files: string[];
  /** What to run next, in order. */
  next: string[];
}

export async function createUseCase(rootDir: string, id: string, displayName: string): Promise<CreatedUseCase> {
  const problem = idProblem(id);
  if (problem) throw new NewUseCaseError(`id: ${problem}`);
  const name = displayName.trim();
  if (!name) throw new NewUseCaseError('display name: give the name callers hear, e.g. "Tony\'s Pizza"');
  const names = useCaseNames(id);

  const entries = (await readdir(rootDir, { withFileTypes: true })).filter((e) => e.isDirectory() && /^\d\d+_/.test(e.name)).map((e) => e.name);
  for (const folder of entries.filter((f) => USE_CASE_FOLDER.test(f))) {
    const existing = await readSettingsId(join(rootDir, folder));
    if (idFromFolder(folder) === id || existing === id) throw new NewUseCaseError(`id: "${id}" is already the use case in ${folder}`);
  }
  // The stack name and the tool function name must be free, whatever other stacks are called.
  for (const stack of loadStacks(rootDir).stacks) {
    if (stack.stackName === names.stackName) throw new NewUseCaseError(`id: the stack name ${names.stackName} is already taken by ${stack.folder}`);
  }

  const number = Math.max(0, ...entries.map((f) => Number.parseInt(f, 10))) + 1;
  const folder = names.folder(number);
  const dir = join(rootDir, folder);
  const files = useCaseFiles({ names, displayName: name, folder });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content, { flag: 'wx' });
  }
  return {
    folder,
    files: Object.keys(files).map((f) => `${folder}/${f}`),
    next: [
      'npm run use-cases:check',
      `npx vitest run ${folder}`,
      'npm start',
      `npm run call -- --use-case ${id} --script ${folder}/demo-call.txt`,
      `npm run deploy -- --dry-run --stack ${folder}`,
    ],
  };
}

async function readSettingsId(dir: string): Promise<string | undefined> {
  try {
    const settings = JSON.parse(await readFile(join(dir, 'use-case', 'settings.json'), 'utf8')) as { id?: unknown };
    return typeof settings.id === 'string' ? settings.id : undefined;
  } catch {
    return undefined;
  }
}

async function main(argv: string[]): Promise<number> {
  const [id, displayName, ...rest] = argv;
  if (!id || !displayName || rest.length || id.startsWith('-')) {
    console.error('Usage: npm run new-use-case <id> "<Display name>"   e.g. npm run new-use-case pizza "Tony\'s Pizza"');
    return 1;
  }
  const created = await createUseCase(ROOT, id, displayName);
  console.log(`Created ${created.folder}/:\n${created.files.map((f) => `  ${f}`).join('\n')}\n`);
  console.log('Next:');
  for (const line of created.next) console.log(`  ${line}`);
  console.log('\nThen make it yours: the prompt, the tools in src/tools/, their rules in offline-model.json, the demo call.');
  console.log('Guide: docs/ADDING-A-USE-CASE.md');
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`new-use-case: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
