import { sql } from 'kysely';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { mailboxCursor } from '../../src/db/mailbox-store.js';
import { imapSource, parseImapUrl, type ImapSourceOptions } from '../../src/inbound/imap-source.js';
import type { InboundHandler, MailSource } from '../../src/inbound/source.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { describeWithServers } from '../helpers/servers.js';
import { memoryCursor, recordingHandler, recordingLog, replyMessage } from './helpers.js';

describe('parseImapUrl', () => {
  it('reads user, password, host, port and mailbox, URL-decoded', () => {
    expect(
      parseImapUrl('imap://engine%40example.org:p%40ss%3Aword@mail.example.org:1143/Replies'),
    ).toEqual({
      host: 'mail.example.org',
      port: 1143,
      secure: false,
      auth: { user: 'engine@example.org', pass: 'p@ss:word' },
      mailbox: 'Replies',
    });
  });

  it('defaults the port by scheme and the mailbox to INBOX', () => {
    expect(parseImapUrl('imaps://u:p@mail.example.org')).toMatchObject({
      port: 993,
      secure: true,
      mailbox: 'INBOX',
    });
    expect(parseImapUrl('imap://u:p@[::1]/')).toMatchObject({ host: '::1', port: 143 });
  });

  it('refuses other schemes and missing parts without echoing the password', () => {
    expect(() => parseImapUrl('pop3://u:hunter2@mail.example.org')).toThrow(/imap: or imaps:/);
    expect(() => parseImapUrl('pop3://u:hunter2@mail.example.org')).not.toThrow(/hunter2/);
    expect(() => parseImapUrl('imap://mail.example.org')).toThrow(/no user/);
    expect(() => parseImapUrl('not a url')).toThrow(/not a URL/);
  });
});

const waitLong = { timeout: 20_000, interval: 50 };

describeWithServers(['dovecot'], 'the IMAP listener against a real Dovecot', () => {
  let dovecot: Dovecot;
  let source: MailSource | undefined;

  // A fresh server per test (it starts in about 0.1 s): UIDs, UIDVALIDITY and folders start clean.
  beforeEach(async () => {
    dovecot = await startDovecot();
  });
  afterEach(async () => {
    await source?.stop();
    source = undefined;
    await dovecot?.stop();
  });

  function listen(
    options: Partial<ImapSourceOptions> & Pick<ImapSourceOptions, 'handler' | 'cursor'>,
  ): MailSource {
    source = imapSource({
      url: dovecot.url,
      logger: recordingLog(),
      idleDelayMs: 100,
      backoff: { baseMs: 100, maxMs: 1000 },
      ...options,
    });
    return source;
  }

  describe.each(testBackends())('with the cursor on $name', (backend) => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await openMigrated(backend);
    });
    afterAll(() => database?.close());

    it('hands over each waiting message once, files it in Processed and records its UID', async () => {
      await dovecot.deliverAll(['a', 'b', 'c'].map((id) => replyMessage(`${backend.name}-${id}`)));
      const recorder = recordingHandler();
      const cursor = mailboxCursor(database.db);
      const key = `three-${backend.name}`;
      await listen({ handler: recorder.handler, cursor, cursorKey: key }).start();

      await vi.waitFor(() => expect(recorder.calls()).toBe(3), waitLong);
      await vi.waitFor(async () => expect(await dovecot.count('Processed')).toBe(3), waitLong);
      expect(await dovecot.count('INBOX')).toBe(0);
      expect(recorder.items.map((item) => item.uid)).toEqual([1, 2, 3]);
      expect([...recorder.distinct()].sort()).toEqual(
        ['a', 'b', 'c'].map((id) => `${backend.name}-${id}@example.test`),
      );
      await vi.waitFor(async () => expect((await cursor.get(key))?.lastUid).toBe(3), waitLong);
      expect((await cursor.get(key))?.uidValidity).toMatch(/^[0-9]+$/);
    });
  });

  it('files a message the handler cannot read in Failed, and keeps going', async () => {
    await dovecot.deliverAll([
      replyMessage('good-1'),
      replyMessage('garbled'),
      replyMessage('good-2'),
    ]);
    const recorder = recordingHandler({ unreadable: (id) => id.startsWith('garbled') });
    await listen({ handler: recorder.handler, cursor: memoryCursor() }).start();

    await vi.waitFor(async () => {
      expect(await dovecot.count('Processed')).toBe(2);
      expect(await dovecot.count('Failed')).toBe(1);
    }, waitLong);
    expect(await dovecot.count('INBOX')).toBe(0);
    expect(recorder.calls()).toBe(3);
  });

  it('picks up a message delivered after it started, through IDLE', async () => {
    const recorder = recordingHandler();
    // The watchdog poll is far off: only IDLE can bring this message in time.
    await listen({
      handler: recorder.handler,
      cursor: memoryCursor(),
      pollIntervalMs: 600_000,
    }).start();
    await dovecot.deliver(replyMessage('late'));
    await vi.waitFor(() => expect(recorder.distinct()).toEqual(new Set(['late@example.test'])), {
      timeout: 10_000,
      interval: 50,
    });
    await vi.waitFor(async () => expect(await dovecot.count('Processed')).toBe(1), waitLong);
  });

  it('reconnects after the server drops it, and reads what arrives afterwards', async () => {
    const recorder = recordingHandler();
    const log = recordingLog();
    await listen({
      handler: recorder.handler,
      cursor: memoryCursor(),
      logger: log,
      pollIntervalMs: 600_000,
    }).start();
    await dovecot.deliver(replyMessage('before-kick'));
    await vi.waitFor(() => expect(recorder.calls()).toBe(1), waitLong);

    expect(await dovecot.kick()).toBe(true);
    await vi.waitFor(() => expect(log.count(/^IMAP connected/)).toBe(2), waitLong);
    const lost = log.entries.find((entry) => entry.message === 'IMAP connection lost');
    expect(lost?.fields.mailbox).toBe('INBOX');
    expect(lost?.fields.reason).toMatch(/BYE/);
    expect(log.count(/^IMAP reconnecting/)).toBe(1);

    await dovecot.deliver(replyMessage('after-kick'));
    await vi.waitFor(
      () =>
        expect(recorder.distinct()).toEqual(
          new Set(['before-kick@example.test', 'after-kick@example.test']),
        ),
      waitLong,
    );
    expect(recorder.calls()).toBe(2);
  });

  it('reads the mailbox again from UID 1 after a UIDVALIDITY change, counting nothing twice', async () => {
    const recorder = recordingHandler();
    const cursor = memoryCursor();
    const key = 'renumbered';
    const first = listen({ handler: recorder.handler, cursor, cursorKey: key });
    await first.start();
    await dovecot.deliverAll([replyMessage('old-1'), replyMessage('old-2')]);
    await vi.waitFor(async () => expect(await dovecot.count('Processed')).toBe(2), waitLong);
    await first.stop();
    const before = await cursor.get(key);
    expect(before?.lastUid).toBe(2);

    // The server is restored from a backup: the handled messages are back in INBOX, the mailbox
    // has a new UIDVALIDITY, and our cursor points far beyond its new UIDs.
    await dovecot.doveadm(['move', '-u', dovecot.user, 'INBOX', 'mailbox', 'Processed', 'all']);
    await dovecot.deliver(replyMessage('new-1'));
    const renumbered = Number(before?.uidValidity) + 1000;
    await dovecot.setUidValidity(renumbered);
    await cursor.advance(key, before?.uidValidity ?? '1', 1000);

    const log = recordingLog();
    await listen({ handler: recorder.handler, cursor, cursorKey: key, logger: log }).start();
    await vi.waitFor(async () => {
      expect(await dovecot.count('INBOX')).toBe(0);
      expect(await dovecot.count('Processed')).toBe(3);
    }, waitLong);

    expect(recorder.distinct()).toEqual(
      new Set(['old-1@example.test', 'old-2@example.test', 'new-1@example.test']),
    );
    expect(recorder.firstSeen()).toBe(3);
    // The two old messages were handed over again and deduplicated by the handler.
    expect(recorder.calls()).toBe(5);
    expect(log.count(/new UIDVALIDITY/)).toBe(1);
    // UIDs 1-2 moved out; the two moved back got 3 and 4, the new message 5.
    expect(await cursor.get(key)).toEqual({ uidValidity: String(renumbered), lastUid: 5 });
  });

  it('rescans when UIDVALIDITY changes under a live connection', async ({ annotate }) => {
    const recorder = recordingHandler();
    const log = recordingLog();
    await listen({ handler: recorder.handler, cursor: memoryCursor(), logger: log }).start();
    await dovecot.deliver(replyMessage('one'));
    await vi.waitFor(() => expect(recorder.calls()).toBe(1), waitLong);

    await dovecot.setUidValidity(4242);
    await dovecot.deliver(replyMessage('two'));
    // Dovecot ends the session ("IMAP session state is inconsistent"); the next one rescans.
    await vi.waitFor(
      () => expect(recorder.distinct()).toEqual(new Set(['one@example.test', 'two@example.test'])),
      waitLong,
    );
    await vi.waitFor(async () => expect(await dovecot.count('Processed')).toBe(2), waitLong);
    expect(recorder.firstSeen()).toBe(2);
    await annotate(
      `UIDVALIDITY under a live connection: ${recorder.calls()} handler calls for 2 messages, ` +
        `${log.count(/^IMAP connected/)} connections`,
    );
  });

  it('logs out on stop and does not come back', async () => {
    const log = recordingLog();
    const listener = listen({
      handler: recordingHandler().handler,
      cursor: memoryCursor(),
      logger: log,
    });
    await listener.start();
    await listener.stop();
    // Nobody left to kick: the session was logged out, not left to time out.
    expect(await dovecot.kick()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(log.count(/^IMAP connected/)).toBe(1);
    expect(log.count(/^IMAP (connection lost|reconnecting)/)).toBe(0);
    expect(log.count(/^IMAP listener stopped/)).toBe(1);
    expect(await listener.poll()).toBe(0);
  });

  it('drops a connection that went silent, found by the watchdog poll, and reconnects', async () => {
    // A proxy that can stop passing bytes without closing anything: a NAT that forgot the
    // connection, or a frozen server. IDLE alone would wait on it for the socket timeout.
    const proxy = await silentProxy(dovecot.port);
    try {
      const recorder = recordingHandler();
      const log = recordingLog();
      await listen({
        url: dovecot.url.replace(`:${dovecot.port}/`, `:${proxy.port}/`),
        handler: recorder.handler,
        cursor: memoryCursor(),
        logger: log,
        pollIntervalMs: 300,
        commandTimeoutMs: 1000,
      }).start();
      await vi.waitFor(() => expect(log.count(/^IMAP connected/)).toBe(1), waitLong);

      proxy.silenceOpenConnections();
      await vi.waitFor(() => expect(log.count(/^IMAP connected/)).toBe(2), waitLong);
      const lost = log.entries.find((entry) => entry.message === 'IMAP connection lost');
      expect(lost?.fields.reason).toMatch(/no answer to .* within 1000 ms/);

      await dovecot.deliver(replyMessage('after-silence'));
      await vi.waitFor(
        () => expect(recorder.distinct()).toEqual(new Set(['after-silence@example.test'])),
        waitLong,
      );
    } finally {
      await proxy.close();
    }
  });

  describe('a burst of 500 replies while the connection is dropped mid-drain', () => {
    // The database where it matters: the real handler's unique Message-ID and the cursor are
    // rows in PostgreSQL (PGlite when no server is configured).
    const backend = testBackends().at(-1)!;
    let database: TestDatabase;
    beforeAll(async () => {
      database = await openMigrated(backend);
    });
    afterAll(() => database?.close());

    it(`loses none and counts none twice (cursor and dedupe on ${backend.name})`, async ({
      annotate,
    }) => {
      const total = 500;
      // Every 40th message handed over, the connection is dropped while the handler holds it:
      // stored, not yet moved to Processed, the window where a reply could be lost or counted
      // twice. Driven by the drain itself, not a timer, so every kill lands mid-drain however
      // slow the machine is.
      const kickEvery = 40;
      let calls = 0;
      let inserted = 0;
      let kicks = 0;
      let kicksThatHit = 0;
      // Idempotent like the real reply handler: the unique message_id decides what is new.
      const handler: InboundHandler = async (item) => {
        calls += 1;
        const kickNow = calls % kickEvery === 0;
        const messageId = /^Message-ID:[ \t]*(<[^>]+>)/im.exec(item.raw.toString('latin1'))?.[1];
        if (messageId === undefined) return 'failed';
        const rows = await database.db
          .insertInto('inbound_messages')
          .values({
            message_id: messageId,
            mailbox: item.mailbox,
            uid: item.uid ?? null,
            received_at: new Date(),
            classification: 'reply',
          })
          .onConflict((conflict) => conflict.column('message_id').doNothing())
          .returning('id')
          .execute();
        inserted += rows.length;
        if (kickNow) {
          kicks += 1;
          if (await dovecot.kick()) kicksThatHit += 1;
        }
        return 'processed';
      };
      const log = recordingLog();
      const cursor = mailboxCursor(database.db);
      await listen({
        handler,
        cursor,
        cursorKey: 'burst',
        logger: log,
        pollIntervalMs: 2000,
        backoff: { baseMs: 50, maxMs: 800 },
      }).start();

      const started = Date.now();
      const messages = Array.from({ length: total }, (_, i) => replyMessage(`burst-${i}`));
      await dovecot.deliverAll(messages);
      const delivered = Date.now() - started;

      const expectedIds = messages.map((_, i) => `<burst-${i}@example.test>`).sort();
      await vi.waitFor(
        async () => {
          expect(await dovecot.count('INBOX')).toBe(0);
          expect(new Set(await dovecot.messageIds('Processed')).size).toBe(total);
        },
        // A safety net against a hang on a loaded machine, not a timing.
        { timeout: 150_000, interval: 200 },
      );
      const done = Date.now() - started;
      const filed = await dovecot.messageIds('Processed');
      expect([...new Set(filed)].sort()).toEqual(expectedIds);
      const { count } = await database.db
        .selectFrom('inbound_messages')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .executeTakeFirstOrThrow();
      const { distinct } = await sql<{ distinct: number }>`
        select count(distinct message_id)::int as distinct from inbound_messages`
        .execute(database.db)
        .then((result) => result.rows[0]!);

      expect(Number(count)).toBe(total);
      expect(distinct).toBe(total);
      expect(inserted).toBe(total);
      expect(calls).toBeGreaterThanOrEqual(total);
      expect(await dovecot.count('Failed')).toBe(0);
      // Dovecot's MOVE on Maildir is a copy, then an expunge: a session killed between the two
      // leaves the message in both folders, so it is handed over and moved again (a second copy
      // in Processed, never a second count). Rare, and bounded by the kicks that hit.
      expect(filed.length - total).toBeLessThanOrEqual(kicksThatHit);
      const position = await cursor.get('burst');
      expect(position?.lastUid).toBe(total);

      const connections = log.count(/^IMAP connected/);
      await annotate(
        `burst on ${backend.name}: ${total} delivered in ${delivered} ms, all filed after ` +
          `${done} ms; ${kicks} kicks (${kicksThatHit} hit a live session), ${connections} ` +
          `connections (${connections - 1} reconnects); handler calls ${calls} for ${inserted} ` +
          `new Message-IDs (${calls - total} repeats deduplicated); Processed holds ` +
          `${filed.length} messages, ${filed.length - total} of them second copies`,
      );
      // Every kill hit a live session (the handler was working in it), and each was survived.
      expect(kicks).toBeGreaterThanOrEqual(Math.floor(total / kickEvery));
      expect(kicksThatHit).toBe(kicks);
      expect(connections).toBeGreaterThan(kicksThatHit);
    });
  });
});

/** A TCP proxy to `port` whose open connections can be made to go quiet (nothing passes). */
async function silentProxy(port: number) {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    silenceOpenConnections() {
      // Unpiped and paused: both ends stay open, and whatever is sent is never answered.
      for (const socket of sockets) {
        socket.unpipe();
        socket.pause();
      }
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
