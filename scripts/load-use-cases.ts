import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { putUseCase } from '../layers/data/use-cases.ts';
import { tableFromEnv, type Table } from '../layers/data/table.ts';
import type { UseCaseModule } from '../layers/tools/use-case.ts';
import { folderProblems } from './lib/folder-checks/index.ts';
import { discoverUseCases, readUseCaseConfig, UseCaseConfigError } from './lib/use-case-folders.ts';

/**
 * `npm run use-cases:load [-- --only <id>]`: validates every use-case folder and writes its config item (plus its
 * own data, e.g. Parkview's apartments and tour slots) to TABLE_NAME. Local DynamoDB when DYNAMODB_ENDPOINT is
 * set; otherwise AWS, with the profile named in aws-profile.profile unless AWS_PROFILE is already set.
 * `npm run use-cases:check` validates without writing anything. Both are idempotent.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface LoadOptions {
  only?: string;
  /** Validate only. */
  check?: boolean;
  /** Also compare each tool function's policy with the SDK calls its bundle makes (`use-cases:check`). */
  iam?: boolean;
  now?: Date;
  /** Where ENVIRONMENT_NAME (tool function names in AWS) is read; process.env by default. */
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

/** Validates all selected use cases first, then writes them; nothing is written if any of them is invalid. */
export async function loadUseCases(table: Table | undefined, options: LoadOptions = {}, rootDir = ROOT): Promise<string[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const all = await discoverUseCases(rootDir);
  const selected = options.only ? all.filter((u) => u.id === options.only) : all;
  if (options.only && selected.length === 0) {
    throw new Error(`--only ${options.only}: no such use case (there are: ${all.map((u) => u.id).join(', ')})`);
  }
  const configs: { useCase: UseCaseModule; config: Awaited<ReturnType<typeof readUseCaseConfig>> }[] = [];
  const problems: string[] = [];
  for (const useCase of selected) {
    try {
      configs.push({ useCase, config: await readUseCaseConfig(useCase, options.env) });
    } catch (err) {
      if (!(err instanceof UseCaseConfigError)) throw err;
      problems.push(...err.problems);
    }
    problems.push(...(await folderProblems(useCase, { iam: options.iam ?? false })));
  }
  if (problems.length) throw new UseCaseConfigError(problems);

  for (const { useCase, config } of configs) {
    const tools = (config.tools ?? []).map((t) => t.name).join(', ');
    if (options.check || !table) {
      log(`ok      ${useCase.id}: ${config.tools?.length ?? 0} tools (${tools})`);
      continue;
    }
    await putUseCase(table, config, options.now);
    log(`loaded  ${useCase.id}: ${config.tools?.length ?? 0} tools (${tools})`);
    if (useCase.loadData) log(`data    ${useCase.id}: ${await useCase.loadData(table, options.now ?? new Date())}`);
  }
  return configs.map((c) => c.useCase.id);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, check: { type: 'boolean', default: false } } });
  let table: Table | undefined;
  if (!values.check) {
    if (!process.env.DYNAMODB_ENDPOINT && !process.env.AWS_PROFILE) {
      const profile = readFileSync(resolve(ROOT, 'aws-profile.profile'), 'utf8').trim();
      if (profile) process.env.AWS_PROFILE = profile;
    }
    table = tableFromEnv();
    const where = process.env.DYNAMODB_ENDPOINT ?? `AWS (profile ${process.env.AWS_PROFILE ?? 'default'})`;
    console.log(`Loading use cases into table ${table.name} at ${where}`);
  }
  const ids = await loadUseCases(table, { ...(values.only ? { only: values.only } : {}), check: values.check, iam: values.check });
  console.log(values.check ? `${ids.length} use case(s) valid; nothing written.` : `${ids.length} use case(s) loaded.`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof UseCaseConfigError ? err.message : err);
    process.exit(1);
  });
}
