import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GymError } from '../errors.js';

/**
 * PGlite keeps its database in a folder that only one process may open. This lock makes a
 * second process wait its turn (two `gym migrate` at once both succeed) instead of corrupting
 * the files, and tells the user what to do if the wait is too long. A lock left by a process
 * that died is taken over.
 */
export async function lockDataDirectory(
  dir: string,
  options: { waitMs?: number; pollMs?: number } = {},
): Promise<() => Promise<void>> {
  const { waitMs = 30_000, pollMs = 50 } = options;
  await mkdir(dir, { recursive: true });
  const lockPath = join(dir, 'gym.lock');
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        if ((await readOwner(lockPath)) === process.pid) await unlink(lockPath).catch(() => {});
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readOwner(lockPath);
    if (owner !== undefined && !isAlive(owner)) {
      await unlink(lockPath).catch(() => {});
      continue;
    }
    if (Date.now() >= deadline) {
      throw new GymError(
        'DATABASE_LOCKED',
        `the embedded database in ${dir} is in use by process ${owner ?? '(unknown)'}; ` +
          'stop that process, or set DATABASE_URL to share a PostgreSQL server between processes',
        { dir, owner },
      );
    }
    await sleep(pollMs);
  }
}

async function readOwner(lockPath: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(lockPath, 'utf8'), 10);
    return Number.isInteger(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
