import { join } from 'node:path';
import type { UseCaseModule } from '../../../layers/tools/use-case.ts';
import { parseSamConfig } from '../samconfig.ts';
import { SAM_ENVIRONMENT, useCaseNames } from '../use-case-names.ts';
import { readOptional, type At } from './shared.ts';

/** samconfig.toml against the id: the SAM environment in every table name, and the stack name in every table. */
export const SAMCONFIG_FILE = 'samconfig.toml';

export async function checkSamconfig(useCase: UseCaseModule, at: At): Promise<void> {
  const file = SAMCONFIG_FILE;
  const { stackName } = useCaseNames(useCase.id);
  const text = await readOptional(join(useCase.dir, file));
  if (text === undefined) {
    at(file, undefined, `missing: npm run deploy reads the stack name (${stackName}) from it`, 'npm run new-use-case writes one');
    return;
  }
  let config: ReturnType<typeof parseSamConfig>;
  try {
    config = parseSamConfig(text, file);
  } catch (err) {
    at(file, undefined, (err as Error).message.replace(`${file}:`, 'line '));
    return;
  }
  const lines = text.split(/\r?\n/);
  const headerLine = (table: string) => lines.findIndex((l) => l.trim() === `[${table}]`) + 1;
  // The key's own line inside its table: the same key appears in several tables.
  const keyLine = (table: string, key: string) => {
    const start = headerLine(table);
    const at = lines.findIndex((l, i) => i >= start && new RegExp(`^\\s*${key}\\s*=`).test(l));
    return at + 1;
  };
  for (const [table, values] of Object.entries(config)) {
    const [environment] = table.split('.');
    if (environment !== SAM_ENVIRONMENT) {
      at(file, `line ${headerLine(table)}`, `[${table}]: "${environment}" is a SAM CLI environment name, and npm run deploy and sam deploy read "${SAM_ENVIRONMENT}"`, `write [${SAM_ENVIRONMENT}.${table.split('.').slice(1).join('.')}] (the use-case id belongs in the values, not the table names)`);
    }
    for (const key of ['stack_name', 's3_prefix'] as const) {
      const value = values[key];
      if (value !== undefined && value !== stackName) {
        at(file, `line ${keyLine(table, key)}`, `[${table}] ${key} is ${JSON.stringify(value)}; the stack of use case "${useCase.id}" is ${stackName}`, `${key} = "${stackName}"`);
      }
    }
  }
  if (!config[`${SAM_ENVIRONMENT}.deploy.parameters`]?.stack_name && !config[`${SAM_ENVIRONMENT}.global.parameters`]?.stack_name) {
    at(file, `[${SAM_ENVIRONMENT}.deploy.parameters]`, 'stack_name is not set', `stack_name = "${stackName}"`);
  }
}

