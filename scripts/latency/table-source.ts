import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { existsSync } from 'node:fs';
import { createTable, type Table } from '../../layers/data/table.ts';
import { startLocalDynamo } from '../../dev/dynamodb/local-dynamodb.ts';
import { DATABASE_FOLDER, DataDirError, LOCAL_TABLE_NAME, lockDataDir } from '../../dev/local/data-dir.ts';

/**
 * Which table the report reads: the local runtime's (from the environment, else the `runtime.json` that `npm start`
 * writes into its data folder while it runs) or the deployed one in AWS (`--aws`, with the project's profile).
 */
export interface TableSource {
  table: Table;
  /** Where the records come from, in words, for the report header. */
  description: string;
  /** Stops what the source started (the embedded database, when it read DATA_DIR itself). */
  close?: () => Promise<void>;
}

/** A reason the report cannot find its table, worded as what to do about it. */
export class TableSourceError extends Error {
  override name = 'TableSourceError';
}

export const RuntimeFileSchema = z
  .object({
    DYNAMODB_ENDPOINT: z.url(),
    TABLE_NAME: z.string().min(1),
  })
  .loose();

export const RUNTIME_FILE = 'runtime.json';

export async function localTableSource(env: NodeJS.ProcessEnv, cwd: string): Promise<TableSource> {
  const endpoint = env.DYNAMODB_ENDPOINT || undefined;
  if (endpoint) {
    if (!env.TABLE_NAME) throw new TableSourceError('DYNAMODB_ENDPOINT is set but TABLE_NAME is not: set both, or neither to use the running local runtime.');
    return {
      table: createTable({ name: env.TABLE_NAME, endpoint, region: env.AWS_REGION || 'local' }),
      description: `local table ${env.TABLE_NAME} at ${endpoint} (from the environment)`,
    };
  }
  const dataDir = resolve(cwd, env.DATA_DIR || '.data');
  const file = join(dataDir, RUNTIME_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // The app is not running: read its data folder directly.
    const direct = await dataDirSource(dataDir);
    if (direct) return direct;
    throw new TableSourceError(
      `No local data yet: no ${file} (npm start is not running) and no ${join(dataDir, DATABASE_FOLDER)}.\n` +
        'Start the app with `npm start` and make a call (`npm run call`, or the web console), then run `npm run latency` again.\n' +
        'Or set DYNAMODB_ENDPOINT and TABLE_NAME, or read the deployed table with `npm run latency -- --aws`.',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TableSourceError(`${file} is not JSON; restart the local runtime (\`npm start\`) to rewrite it.`);
  }
  const parsed = RuntimeFileSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new TableSourceError(`${file} does not name the runtime's table (${issues}); expected DYNAMODB_ENDPOINT and TABLE_NAME.`);
  }
  const { DYNAMODB_ENDPOINT, TABLE_NAME } = parsed.data;
  const pid = (parsed.data as { pid?: unknown }).pid;
  if (typeof pid === 'number' && !processExists(pid)) {
    const direct = await dataDirSource(dataDir);
    if (direct) return direct;
    throw new TableSourceError(`${file} is left over from a local runtime that is no longer running (pid ${pid}). Start it with \`npm start\`.`);
  }
  return {
    table: createTable({ name: TABLE_NAME, endpoint: DYNAMODB_ENDPOINT, region: 'local' }),
    description: `local table ${TABLE_NAME} at ${DYNAMODB_ENDPOINT} (from ${file})`,
  };
}

/**
 * The data folder of an app that is not running, opened with the same embedded database for the length of the
 * report. The folder's lock keeps `npm start` from opening it meanwhile (and names the report if it tries).
 */
async function dataDirSource(dataDir: string): Promise<TableSource | undefined> {
  const dbPath = join(dataDir, DATABASE_FOLDER);
  if (!existsSync(dbPath)) return undefined;
  let lock;
  try {
    lock = await lockDataDir(dataDir, 'npm run latency');
  } catch (err) {
    if (err instanceof DataDirError) throw new TableSourceError(err.message);
    throw err;
  }
  try {
    const dynamo = await startLocalDynamo({ backend: 'dynalite', path: dbPath });
    const taken = lock;
    return {
      table: createTable({ name: LOCAL_TABLE_NAME, endpoint: dynamo.endpoint, region: 'local' }),
      description: `local table ${LOCAL_TABLE_NAME} in ${dbPath} (read directly: npm start is not running)`,
      async close() {
        await dynamo.stop();
        await taken.release();
      },
    };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/** Signal 0 checks a process exists without touching it; EPERM means it exists under another user. */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs the AWS CLI and returns its stdout (injected so the stack lookup can be exercised without AWS). */
export type AwsCli = (args: string[]) => Promise<string>;

const execFileAsync = promisify(execFile);
export const awsCli: AwsCli = async (args) => (await execFileAsync('aws', args, { timeout: 30_000 })).stdout;

/** The profile from AWS_PROFILE, else the one named in aws-profile.profile, else `default`. */
export async function awsProfile(env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  if (env.AWS_PROFILE) return env.AWS_PROFILE;
  const named = await readFile(join(cwd, 'aws-profile.profile'), 'utf8').then((t) => t.trim(), () => '');
  return named || 'default';
}

/** The table stack's name as its samconfig.toml deploys it. */
export async function tableStackName(cwd: string): Promise<string> {
  const config = await readFile(join(cwd, '01_dynamodb', 'samconfig.toml'), 'utf8').catch(() => '');
  return /^\s*stack_name\s*=\s*"([^"]+)"/m.exec(config)?.[1] ?? 'cr-dynamodb';
}

export interface AwsSourceOptions {
  /** `--table`: skips the stack lookup. */
  tableName?: string | undefined;
  env: NodeJS.ProcessEnv;
  cwd: string;
  cli?: AwsCli;
}

export async function awsTableSource(options: AwsSourceOptions): Promise<TableSource> {
  const profile = await awsProfile(options.env, options.cwd);
  const region = options.env.AWS_REGION || options.env.AWS_DEFAULT_REGION || undefined;
  let name = options.tableName;
  if (!name) {
    const stack = await tableStackName(options.cwd);
    const args = ['cloudformation', 'describe-stacks', '--stack-name', stack, '--profile', profile, '--output', 'text',
      '--query', "Stacks[0].Outputs[?OutputKey=='TableName'].OutputValue"];
    if (region) args.push('--region', region);
    let out: string;
    try {
      out = await (options.cli ?? awsCli)(args);
    } catch (err) {
      const reason = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
      throw new TableSourceError(`Could not read the TableName output of stack ${stack} with profile ${profile}: ${reason}\nPass the table with --table NAME.`);
    }
    name = out.trim();
    if (!name || name === 'None') throw new TableSourceError(`Stack ${stack} has no TableName output; is 01_dynamodb deployed? Pass the table with --table NAME.`);
  }
  // The profile (and its region, unless AWS_REGION says otherwise) come from the shared AWS config files.
  const config: DynamoDBClientConfig = { profile };
  if (region) config.region = region;
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient(config));
  return { table: { doc, name }, description: `AWS table ${name} (profile ${profile}${region ? `, ${region}` : ''})` };
}
