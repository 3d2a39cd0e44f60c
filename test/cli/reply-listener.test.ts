import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startReplyListener, type ReplyListener } from '../../src/cli/reply-listener.js';
import { parseConfig, type Config } from '../../src/config/config.js';
import type { GymDatabase } from '../../src/db/database.js';
import { openMigrated, postgresBackend, type TestDatabase } from '../helpers/backends.js';
import { describeWithServers } from '../helpers/servers.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { replyMessage } from '../inbound/helpers.js';

/** A log that keeps its lines, so the test can wait for what a listener said. */
function keptLog() {
  const lines: string[] = [];
  const write = (fields: object, message: string) =>
    lines.push(`${message} ${JSON.stringify(fields)}`);
  return { lines, info: write, warn: write, error: write };
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  // Generous: a safety net against a hang on a loaded machine, not a timing.
  const deadline = Date.now() + 150_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// The advisory lock is PostgreSQL's: PGlite has one process by construction.
describeWithServers(
  ['postgres', 'dovecot'],
  'two gym run workers and one mailbox on PostgreSQL',
  () => {
    const backend = postgresBackend();
    let database: TestDatabase;
    let second: GymDatabase;
    let dovecot: Dovecot;
    let config: Config;
    const listeners: ReplyListener[] = [];

    beforeAll(async () => {
      database = await openMigrated(backend);
      second = await database.connectAgain();
      dovecot = await startDovecot();
      const parsed = parseConfig({
        DATABASE_URL: database.url!,
        IMAP_URL: dovecot.url,
        GYM_SECRET: 'a-test-secret-of-at-least-32-characters!',
        GYM_REPLY_ADDRESS: 'engine@example.test',
      });
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
      config = parsed.config;
    });
    afterAll(async () => {
      for (const listener of listeners) await listener.stop();
      await second?.close();
      await database?.close();
      await dovecot?.stop();
    });

    const inbound = async () =>
      (await database.db.selectFrom('inbound_messages').select('message_id').execute()).map(
        (r) => r.message_id,
      );

    it('lets one worker read the mailbox, and another when the reader’s session dies or it stops', async () => {
      const logs = [keptLog(), keptLog()];
      const start = (db: GymDatabase, log: (typeof logs)[number]) =>
        startReplyListener({
          config,
          database: db,
          now: () => new Date(),
          log,
          listen: true,
          takeoverIntervalMs: 250,
        });
      listeners.push(await start(database, logs[0]!));
      listeners.push(await start(second, logs[1]!));
      expect(logs[0]!.lines.join('\n')).toContain('this worker reads the mailbox');
      expect(logs[1]!.lines.join('\n')).toContain('another worker reads the mailbox');

      await dovecot.deliver(replyMessage('before-takeover'));
      await waitFor('the first reply', async () =>
        (await inbound()).includes('<before-takeover@example.test>'),
      );

      const readers = () =>
        logs.map(
          (log) => log.lines.filter((l) => l.startsWith('this worker reads the mailbox')).length,
        );

      // The reader's database session ends (a network cut, a server restart): its lock goes with
      // it, it steps back, and whichever worker tries first holds the mailbox again.
      // Only the session holding this mailbox's lock: other tests on the same server hold
      // advisory locks of their own (migrations, imports), and must not lose them.
      const key = /"lock":"(-?\d+)"/.exec(
        logs[0]!.lines.find((l) => l.startsWith('this worker reads the mailbox'))!,
      )![1]!;
      await sql`
        select pg_terminate_backend(pid) from pg_locks
        where locktype = 'advisory' and granted and pid <> pg_backend_pid()
          and ((classid::bigint << 32) | objid::bigint) = ${key}::bigint`.execute(database.db);
      await waitFor(
        'a worker to hold the mailbox again',
        () => readers()[0]! + readers()[1]! === 2,
      );
      expect(logs[0]!.lines.join('\n')).toContain('lost the mailbox lock');
      await dovecot.deliver(replyMessage('after-lost-lock'));
      await waitFor('the reply after the lock was lost', async () =>
        (await inbound()).includes('<after-lost-lock@example.test>'),
      );

      // The reader stops for good (SIGTERM, a deploy): the other takes over.
      const reader = readers()[1]! > 0 ? 1 : 0;
      const other = 1 - reader;
      const before = readers()[other]!;
      await listeners[reader]!.stop();
      await waitFor('the other worker to take over', () => readers()[other]! === before + 1);
      await dovecot.deliver(replyMessage('after-takeover'));
      await waitFor('the reply after the takeover', async () =>
        (await inbound()).includes('<after-takeover@example.test>'),
      );
      expect((await inbound()).sort()).toEqual([
        '<after-lost-lock@example.test>',
        '<after-takeover@example.test>',
        '<before-takeover@example.test>',
      ]);
      await waitFor('all filed', async () => (await dovecot.count('Processed')) === 3);
      expect(await dovecot.count('INBOX')).toBe(0);
    });
  },
);
