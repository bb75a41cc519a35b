import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { config as loadDotenv } from 'dotenv';

/**
 * The `.env` every local command reads: the repository's, whatever folder the command was typed in, so `npm start`
 * and `npm run call` always agree on PORT and the auth token. Variables already in the environment win. Read before
 * any module that configures itself at import time (the logger, the metrics) is loaded.
 */
export function loadEnvFile(rootDir: string, file: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const path = file ? resolve(process.env.INIT_CWD || process.cwd(), file) : resolve(rootDir, '.env');
  if (file && !existsSync(path)) throw new Error(`--env ${file}: no such file (${path})`);
  if (!existsSync(path)) return undefined;
  loadDotenv({ path, quiet: true, processEnv: env as Record<string, string> });
  return path;
}
