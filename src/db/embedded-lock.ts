import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GymError } from '../errors.js';

/**
 * PGlite keeps its database in a folder that only one process may open. This lock makes a
 * second process wait its turn (two `gym migrate` at once both succeed) instead of corrupting
 * the files, and tells the user what to do if the wait is too long. A lock left by a process
 * that died is taken over.
 *
 * The lock file names its holder by PID and, where /proc has it, the process's start time: a
 * PID is reused (a container restarted after a crash runs as PID 1 again, and finds its own PID
 * in the lock), the pair is not. A lock naming this very PID is ours only if this process took
 * it; otherwise it was left by an earlier process that had the same PID (#16).
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
      const started = await startTimeOf(process.pid);
      await handle.writeFile(
        started === undefined ? `${process.pid}` : `${process.pid} ${started}`,
      );
      await handle.close();
      heldHere.add(lockPath);
      return async () => {
        heldHere.delete(lockPath);
        if ((await readOwner(lockPath))?.pid === process.pid)
          await unlink(lockPath).catch(() => {});
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readOwner(lockPath);
    if (owner !== undefined && !(await holds(owner, lockPath))) {
      await unlink(lockPath).catch(() => {});
      continue;
    }
    if (Date.now() >= deadline) {
      throw new GymError(
        'DATABASE_LOCKED',
        `the embedded database in ${dir} is in use by process ${owner?.pid ?? '(unknown)'}; ` +
          'stop that process, or set DATABASE_URL to share a PostgreSQL server between processes',
        { dir, owner: owner?.pid },
      );
    }
    await sleep(pollMs);
  }
}

/** Lock files this process holds now. */
const heldHere = new Set<string>();

interface Owner {
  readonly pid: number;
  /** Clock ticks after boot when it started (/proc/<pid>/stat field 22); absent elsewhere. */
  readonly startTime: string | undefined;
}

async function readOwner(lockPath: string): Promise<Owner | undefined> {
  try {
    const [pidText = '', startTime] = (await readFile(lockPath, 'utf8')).trim().split(/\s+/);
    const pid = Number.parseInt(pidText, 10);
    return Number.isInteger(pid) ? { pid, startTime } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the process named in the lock file still holds it. */
async function holds(owner: Owner, lockPath: string): Promise<boolean> {
  if (owner.pid === process.pid) return heldHere.has(lockPath);
  if (!isAlive(owner.pid)) return false;
  if (owner.startTime === undefined) return true;
  const started = await startTimeOf(owner.pid);
  // Unknown here (no /proc): the PID alone has to do.
  return started === undefined || started === owner.startTime;
}

/** The process's start time from /proc/<pid>/stat (Linux), or undefined. */
async function startTimeOf(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22, counted from field 3 (the state)
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
