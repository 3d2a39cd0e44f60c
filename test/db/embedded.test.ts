import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/database.js';
import { lockDataDirectory } from '../../src/db/embedded-lock.js';
import { migrateToLatest } from '../../src/db/migrate.js';

const freshDir = () => join(mkdtempSync(join(tmpdir(), 'gym-embedded-')), 'db');

describe('the embedded PGlite database', () => {
  it('keeps its data in the folder between runs', async () => {
    const dataDir = freshDir();
    const first = await createDatabase({ kind: 'pglite', dataDir });
    expect(await migrateToLatest(first.db)).toEqual([
      '0001-initial',
      '0002-replies',
      '0003-suppressions',
      '0004-leases',
      '0005-send-quotas',
      '0006-worker-ticks',
      '0008-data-rights',
      '0009-journey',
      '0010-languages',
      '0011-intake',
      '0013-compiled-programmes',
      '0014-compiled-layouts',
      '0015-claim-in-order',
    ]);
    await first.db
      .insertInto('sequences')
      .values({ id: 'kept', title: 'Kept between runs' })
      .execute();
    await first.close();

    const second = await createDatabase({ kind: 'pglite', dataDir });
    try {
      expect(await migrateToLatest(second.db)).toEqual([]);
      expect(await second.db.selectFrom('sequences').select('title').execute()).toEqual([
        { title: 'Kept between runs' },
      ]);
    } finally {
      await second.close();
    }
  });

  it('lets one process at a time open the folder; the next waits its turn', async () => {
    const dir = freshDir();
    const release = await lockDataDirectory(dir);
    const order: string[] = [];
    const waiting = lockDataDirectory(dir, { waitMs: 10_000, pollMs: 5 }).then((releaseSecond) => {
      order.push('second got it');
      return releaseSecond;
    });
    // Let the second caller poll a few times before the first lets go.
    await new Promise((resolve) => setImmediate(resolve));
    order.push('first releases');
    await release();
    await (
      await waiting
    )();
    expect(order).toEqual(['first releases', 'second got it']);
  });

  it('says who holds the folder and what to do when the wait is too long', async () => {
    const dir = freshDir();
    const release = await lockDataDirectory(dir);
    try {
      await expect(lockDataDirectory(dir, { waitMs: 0 })).rejects.toThrow(
        `the embedded database in ${dir} is in use by process ${process.pid}; stop that process, or set DATABASE_URL to share a PostgreSQL server between processes`,
      );
    } finally {
      await release();
    }
  });

  it('takes over a lock left by a process that died', async () => {
    const dir = freshDir();
    const release = await lockDataDirectory(dir);
    await release();
    // A pid that cannot be running: beyond the kernel's pid_max.
    writeFileSync(join(dir, 'gym.lock'), '4194305');
    const again = await lockDataDirectory(dir, { waitMs: 0 });
    await again();
  });
});

describe('PGlite lock', () => {
  const startTime = (pid: number) =>
    readFileSync(`/proc/${pid}/stat`, 'utf8')
      .slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2)
      .split(' ')[19]!;

  it('PGlite lock: a lock naming this very process, left by an earlier one with the same PID, is taken over', async () => {
    // A container restarted after a crash: the new process is PID 1 again, and finds "1" there.
    for (const content of [`${process.pid}`, `${process.pid} 1`]) {
      const dir = freshDir();
      await lockDataDirectory(dir).then((release) => release());
      writeFileSync(join(dir, 'gym.lock'), content);
      const release = await lockDataDirectory(dir, { waitMs: 0 });
      await release();
    }
  });

  it.skipIf(!existsSync('/proc/self/stat'))(
    'PGlite lock: a reused PID (alive, another start time) is taken over; the real holder is not',
    async () => {
      const other = process.ppid;
      const dir = freshDir();
      await lockDataDirectory(dir).then((release) => release());
      writeFileSync(join(dir, 'gym.lock'), `${other} ${Number(startTime(other)) + 1}`);
      await (
        await lockDataDirectory(dir, { waitMs: 0 })
      )();

      writeFileSync(join(dir, 'gym.lock'), `${other} ${startTime(other)}`);
      await expect(lockDataDirectory(dir, { waitMs: 0 })).rejects.toThrow(
        `is in use by process ${other}`,
      );
    },
  );

  it('PGlite lock: the file names this process and its start time while it holds the lock', async () => {
    const dir = freshDir();
    const release = await lockDataDirectory(dir);
    const [pid, started] = readFileSync(join(dir, 'gym.lock'), 'utf8').split(' ');
    expect(Number(pid)).toBe(process.pid);
    if (existsSync('/proc/self/stat')) expect(started).toBe(startTime(process.pid));
    await release();
    expect(existsSync(join(dir, 'gym.lock'))).toBe(false);
  });
});
