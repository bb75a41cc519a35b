import { constants } from 'node:fs';
import { access, mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * The data folder (DATA_DIR) and the lock that keeps one process at a time on it. The embedded database is a
 * LevelDB store that a second process cannot open (it fails deep inside with "Database is closed"), so whoever
 * opens the folder first writes a lock file naming itself, and the next one is told who holds it.
 */
export class DataDirError extends Error {
  override name = 'DataDirError';
}

export const LOCK_FILE = 'lock.json';
/** The local table's name, inside DATA_DIR's embedded database. */
export const LOCAL_TABLE_NAME = 'conversation-relay';
/** The embedded database's folder inside DATA_DIR. */
export const DATABASE_FOLDER = 'dynamodb';

const LockSchema = z.object({
  pid: z.number().int().positive(),
  command: z.string().default('npm start'),
  startedAt: z.string().optional(),
  url: z.string().optional(),
});
export type LockHolder = z.infer<typeof LockSchema>;

/** Creates the folder if needed; every problem names the setting and the path. */
export async function prepareDataDir(dataDir: string, setting = 'DATA_DIR'): Promise<void> {
  const where = `${setting}=${dataDir}`;
  const existing = await stat(dataDir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err))).catch(
    (err: NodeJS.ErrnoException) => {
      throw new DataDirError(`${where}: cannot read it (${err.code ?? err.message}). Set ${setting} in .env to a folder you can write to.`);
    },
  );
  if (existing && !existing.isDirectory()) throw new DataDirError(`${where}: this is a file, not a folder. Set ${setting} in .env to a folder.`);
  try {
    await mkdir(dataDir, { recursive: true });
    await access(dataDir, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new DataDirError(`${where}: cannot create or write to it (${code}). Set ${setting} in .env to a folder you can write to.`);
  }
}

/** Signal 0 checks a process exists without touching it; EPERM means it exists under another user. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function readLockHolder(dataDir: string): Promise<LockHolder | undefined> {
  const text = await readFile(join(dataDir, LOCK_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const parsed = LockSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function inUse(dataDir: string, holder: LockHolder, setting: string): DataDirError {
  const where = holder.url ? `, serving ${holder.url}` : '';
  return new DataDirError(
    `${setting}=${dataDir} is in use by another process: ${holder.command} (pid ${holder.pid}${where}, since ${holder.startedAt ?? 'earlier'}).\n` +
      `Stop that one first (Ctrl-C in its terminal, or kill ${holder.pid}), or give this one its own folder: ${setting}=.data-2 ${holder.command === 'npm start' ? 'npm start' : ''}`.trimEnd(),
  );
}

export interface DataDirLock {
  /** Adds what others should be told about the holder (its URL, once it is listening). */
  update(details: { url: string }): Promise<void>;
  release(): Promise<void>;
}

/**
 * Takes the folder for this process. A lock left by a process that no longer runs (a crash, a kill -9) is taken
 * over; a live holder is named in the error.
 */
export async function lockDataDir(dataDir: string, command: string, setting = 'DATA_DIR'): Promise<DataDirLock> {
  const file = join(dataDir, LOCK_FILE);
  const holder: LockHolder = { pid: process.pid, command, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(JSON.stringify(holder, null, 2));
      await handle.close();
      let released = false;
      return {
        async update(details) {
          if (released) return;
          Object.assign(holder, details);
          await writeFile(file, JSON.stringify(holder, null, 2));
        },
        async release() {
          if (released) return;
          released = true;
          await rm(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new DataDirError(`${setting}=${dataDir}: cannot write ${LOCK_FILE} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
      }
      const other = await readLockHolder(dataDir);
      if (other && processAlive(other.pid)) throw inUse(dataDir, other, setting);
      // Stale (its process is gone) or unreadable: take it over.
      await rm(file, { force: true });
    }
  }
  throw new DataDirError(`${setting}=${dataDir}: another process keeps taking ${LOCK_FILE}; try again.`);
}
