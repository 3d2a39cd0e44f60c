import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdMailboxLock, mailboxCursor } from '../../src/db/mailbox-store.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';

describe.each(testBackends())('the mailbox cursor on $name', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openMigrated(backend);
  });
  afterAll(() => database?.close());

  it('starts empty, then keeps the highest UID under one UIDVALIDITY', async () => {
    const cursor = mailboxCursor(database.db);
    expect(await cursor.get('INBOX')).toBeUndefined();
    await cursor.advance('INBOX', '1700000000', 5);
    await cursor.advance('INBOX', '1700000000', 9);
    // A drain that finished late must not move it back.
    await cursor.advance('INBOX', '1700000000', 7);
    expect(await cursor.get('INBOX')).toEqual({ uidValidity: '1700000000', lastUid: 9 });
  });

  it('starts over under a new UIDVALIDITY, even at a lower UID', async () => {
    const cursor = mailboxCursor(database.db);
    await cursor.advance('renumbered', '100', 500);
    await cursor.advance('renumbered', '200', 0);
    expect(await cursor.get('renumbered')).toEqual({ uidValidity: '200', lastUid: 0 });
    await cursor.advance('renumbered', '200', 3);
    expect(await cursor.get('renumbered')).toEqual({ uidValidity: '200', lastUid: 3 });
  });

  it('keeps mailboxes apart, and UIDVALIDITY beyond 2^31 exactly', async () => {
    const cursor = mailboxCursor(database.db);
    await cursor.advance('a@example.test/INBOX', '4294967295', 4_000_000_000);
    await cursor.advance('b@example.test/INBOX', '1', 1);
    expect(await cursor.get('a@example.test/INBOX')).toEqual({
      uidValidity: '4294967295',
      lastUid: 4_000_000_000,
    });
    expect(await cursor.get('b@example.test/INBOX')).toEqual({ uidValidity: '1', lastUid: 1 });
  });

  it('refuses a UIDVALIDITY that is not a number and a negative UID', async () => {
    const cursor = mailboxCursor(database.db);
    await expect(cursor.advance('INBOX', 'abc', 1)).rejects.toThrow(/UIDVALIDITY/);
    await expect(cursor.advance('INBOX', '1', -1)).rejects.toThrow(/UID/);
  });

  it('never moves back when two workers advance at once', async () => {
    if (!backend.concurrent) return;
    const other = await database.connectAgain();
    try {
      const mine = mailboxCursor(database.db);
      const theirs = mailboxCursor(other.db);
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 === 0 ? mine : theirs).advance('shared', '7', (i * 37) % 101),
        ),
      );
      const highest = Math.max(...Array.from({ length: 40 }, (_, i) => (i * 37) % 101));
      expect(await mine.get('shared')).toEqual({ uidValidity: '7', lastUid: highest });
    } finally {
      await other.close();
    }
  });
});

describe.each(testBackends())('the mailbox lock on $name', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openMigrated(backend);
  });
  afterAll(() => database?.close());

  it('lets one holder at a time read a mailbox, and the next take over on release', async () => {
    const url = database.url;
    const first = await holdMailboxLock(database, 'engine@example.test/INBOX', { url });
    expect(first?.held).toBe(true);
    const second = await holdMailboxLock(database, 'engine@example.test/INBOX', { url });
    if (backend.name === 'pglite') {
      // One process owns an embedded database already: there is nobody to share the mailbox with.
      expect(second?.held).toBe(true);
      await second?.release();
      await first?.release();
      return;
    }
    expect(second).toBeUndefined();
    // Another mailbox is another lock.
    const elsewhere = await holdMailboxLock(database, 'other@example.test/INBOX', { url });
    expect(elsewhere?.held).toBe(true);

    await first?.release();
    expect(first?.held).toBe(false);
    await first?.release(); // twice is harmless
    const next = await holdMailboxLock(database, 'engine@example.test/INBOX', { url });
    expect(next?.held).toBe(true);
    await next?.release();
    await elsewhere?.release();
  });

  // PostgreSQL only: PGlite has one process by construction, and grants the lock.
  if (backend.name === 'postgres')
    it('frees the lock when the holding process dies, so another worker takes over', async () => {
      const url = database.url!;
      const mailbox = 'dies@example.test/INBOX';
      // A separate process holds the lock, as another `gym run` worker would.
      const holder = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `import { holdMailboxLock } from ${JSON.stringify(new URL('../../src/db/mailbox-store.ts', import.meta.url).href)};
           const lock = await holdMailboxLock({ kind: 'postgres', location: 'test' }, ${JSON.stringify(mailbox)}, { url: ${JSON.stringify(url)} });
           console.log(lock ? 'held' : 'refused');
           setInterval(() => {}, 1000);`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      try {
        const [line] = (await once(holder.stdout, 'data')) as [Buffer];
        expect(line.toString().trim()).toBe('held');
        expect(await holdMailboxLock(database, mailbox, { url })).toBeUndefined();

        // Killed without a chance to release: only the server noticing the closed session frees it.
        holder.kill('SIGKILL');
        await once(holder, 'exit');
        let taken = await holdMailboxLock(database, mailbox, { url });
        // Generous: the server notices the dead session when it gets to it, later when busy.
        const deadline = Date.now() + 60_000;
        while (taken === undefined && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          taken = await holdMailboxLock(database, mailbox, { url });
        }
        expect(taken?.held).toBe(true);
        await taken?.release();
      } finally {
        holder.kill('SIGKILL');
      }
    });

  // PostgreSQL only: PGlite has one process by construction, and grants the lock.
  if (backend.name === 'postgres')
    it('says so when the connection holding the lock is lost', async () => {
      const url = database.url!;
      const lostWith: Error[] = [];
      const lock = await holdMailboxLock(database, 'lost@example.test/INBOX', {
        url,
        onLost: (error) => lostWith.push(error),
      });
      expect(lock?.held).toBe(true);
      // An administrator (or a failover) ends the session that holds the lock.
      await sql`
        select pg_terminate_backend(pid) from pg_locks
        where locktype = 'advisory' and granted
          and ((classid::bigint << 32) | objid::bigint) = ${lock!.key}::bigint`.execute(
        database.db,
      );
      const deadline = Date.now() + 60_000;
      while (lock?.held && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(lock?.held).toBe(false);
      expect(lostWith).toHaveLength(1);
      await lock?.release();
      const again = await holdMailboxLock(database, 'lost@example.test/INBOX', { url });
      expect(again?.held).toBe(true);
      await again?.release();
    });
});
