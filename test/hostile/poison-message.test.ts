import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mailboxCursor } from '../../src/db/mailbox-store.js';
import { handleInbound, maxStrangerRawBytes } from '../../src/engine/replies.js';
import { imapSource } from '../../src/inbound/imap-source.js';
import { maildirSource } from '../../src/inbound/maildir-source.js';
import type { InboundHandler, MailSource } from '../../src/inbound/source.js';
import { testBackends } from '../helpers/backends.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { describeWithServers } from '../helpers/servers.js';
import { recordingLog } from '../inbound/helpers.js';
import {
  cohortHeader,
  cohortRow,
  drain,
  inboundRow,
  openGym,
  rawMessage,
  type Gym,
} from './helpers.js';

/**
 * Poison messages (#16): one reply the database cannot hold used to stop the mailbox at it for
 * good, for every learner. Each case here is followed by a normal reply in the same mailbox; the
 * normal reply must be processed, and the bad one filed in Failed and parked with its reason.
 */

const ana = 'ana.lopez@example.gov.uk';
const ben = 'ben.cole@example.gov.uk';
const cohort = [
  cohortHeader,
  cohortRow(ana, 'Ana', 'Lopez'),
  cohortRow(ben, 'Ben', 'Cole'),
  '',
].join('\n');
const replyDate = 'Mon, 04 Jan 2027 11:00:00 +0000';
let counter = 0;

function reply(headers: Record<string, string>, body = 'done'): Buffer {
  return rawMessage(
    {
      From: ana,
      To: 'progress@gym.example.gov.uk',
      Subject: 'Re: Week 1',
      Date: replyDate,
      'Content-Type': 'text/plain; charset=utf-8',
      ...headers,
    },
    body,
  );
}

/** A normal "done" from Ben, which must always be processed. */
function normalReply(): { raw: Buffer; messageId: string } {
  counter += 1;
  const messageId = `<normal-${counter}-${process.pid}@mail.example.test>`;
  return { raw: reply({ From: ben, 'Message-ID': messageId }), messageId };
}

const longId = `<${'x'.repeat(3000)}@mail.example.test>`;
const critical: { name: string; headers: Record<string, string>; key: string; reason: RegExp }[] = [
  {
    name: 'a Message-ID of 3,000 characters (over the unique index limit)',
    headers: { 'Message-ID': longId },
    key: longId,
    reason: /Message-ID \(30\d\d characters\) is stored under its hash/,
  },
  {
    name: 'a Date in the year -100000',
    headers: {
      'Message-ID': '<year-minus-100000@mail.example.test>',
      Date: '-100000-01-01T00:00:00Z',
    },
    key: '<year-minus-100000@mail.example.test>',
    reason: /Date header's year -100000 is outside 1970-9999/,
  },
  {
    name: 'a subject whose encoded word decodes to a lone UTF-16 surrogate',
    headers: { 'Message-ID': '<lone-surrogate@mail.example.test>', Subject: '=?utf-16be?B?2AA=?=' },
    key: '<lone-surrogate@mail.example.test>',
    reason: /lone UTF-16 surrogates were replaced/,
  },
];

const waitLong = { timeout: 30_000, interval: 50 };

describe.each(testBackends())('poison messages on $name', (backend) => {
  let gym: Gym;
  beforeAll(async () => {
    gym = await openGym(backend, cohort);
    await drain(gym);
  });
  afterAll(async () => {
    await gym?.close();
  });

  /** The stored row of a Message-ID; long ones are stored under their hash, found by summary. */
  async function rowOf(key: string) {
    if (key.length <= 500) return inboundRow(gym, key);
    const rows = await gym.database.db
      .selectFrom('inbound_messages')
      .select([
        'id',
        'status',
        'classification',
        'reason',
        'raw',
        'learner_id',
        'summary',
        'message_id',
      ])
      .where('message_id', 'like', '<sha256-%@long-id.invalid>')
      .execute();
    return rows.find((row) => (row.summary as { messageId?: string } | null)?.messageId === key);
  }

  async function expectProcessed(messageId: string) {
    const row = await inboundRow(gym, messageId);
    expect(row?.status, row?.reason ?? 'no row').toBe('processed');
    const events = await gym.database.db
      .selectFrom('progress_events')
      .select('kind')
      .where('inbound_message_id', '=', row!.id)
      .execute();
    expect(events.map((e) => e.kind)).toEqual(['done']);
  }

  async function expectParked(key: string, reason: RegExp) {
    const row = await rowOf(key);
    expect(row, `no row for ${key.slice(0, 60)}`).toBeDefined();
    expect(row!.status).toBe('parked');
    expect(row!.classification).toBe('reply');
    expect(row!.reason).toMatch(reason);
    expect(row!.raw).not.toBeNull();
    // Nothing was done with it: no progress event.
    const events = await gym.database.db
      .selectFrom('progress_events')
      .select('kind')
      .where('inbound_message_id', '=', row!.id)
      .execute();
    expect(events).toEqual([]);
  }

  describe('through the Maildir inbox', () => {
    let dir: string;
    let source: MailSource;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'gym-poison-'));
      source = maildirSource({
        dir,
        logger: recordingLog(),
        handler: (item) => handleInbound(gym.replies, item),
      });
      await source.poll();
    });
    afterAll(async () => {
      await source?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it.each(critical)('$name, then a normal reply', async ({ headers, key, reason }) => {
      counter += 1;
      const normal = normalReply();
      await writeFile(join(dir, 'new', `17000${counter}0.M1P1.host`), reply(headers));
      await writeFile(join(dir, 'new', `17000${counter}1.M1P1.host`), normal.raw);
      expect(await source.poll()).toBe(2);
      expect(await readdir(join(dir, 'new'))).toEqual([]);
      const failed = await readdir(join(dir, '.Failed', 'cur'));
      expect(failed.some((name) => name.startsWith(`17000${counter}0.`))).toBe(true);
      const processed = await readdir(join(dir, '.Processed', 'cur'));
      expect(processed.some((name) => name.startsWith(`17000${counter}1.`))).toBe(true);
      await expectParked(key, reason);
      await expectProcessed(normal.messageId);

      // Read again (a crash before the move): still Failed, still one row.
      await writeFile(join(dir, 'new', `17000${counter}2.M1P1.host`), reply(headers));
      expect(await source.poll()).toBe(1);
      const failedAgain = await readdir(join(dir, '.Failed', 'cur'));
      expect(failedAgain.some((name) => name.startsWith(`17000${counter}2.`))).toBe(true);
    });

    it('a message the database refuses twice is parked in Failed with the error, and the next goes on', async () => {
      // A store that refuses one message, as a bug of ours or a value nobody foresaw would: the
      // database underneath is real.
      const refused = '<refused-by-the-store@mail.example.test>';
      const store = gym.replies.store;
      let refusals = 0;
      const refusing: typeof store = {
        ...store,
        transaction: (work) =>
          store.transaction((inner) =>
            work({
              ...inner,
              recordInbound: async (record) => {
                if (record.messageId === refused) {
                  refusals += 1;
                  throw new Error('value too long for type character varying(3)');
                }
                return inner.recordInbound(record);
              },
            }),
          ),
      };
      const handler: InboundHandler = (item) =>
        handleInbound({ ...gym.replies, store: refusing }, item);
      const local = maildirSource({ dir, logger: recordingLog(), handler });
      const big = Buffer.concat([
        reply({ 'Message-ID': refused }),
        Buffer.alloc(maxStrangerRawBytes, 'y'),
      ]);
      const normal = normalReply();
      await writeFile(join(dir, 'new', '1800000000.M1P1.host'), big);
      await writeFile(join(dir, 'new', '1800000001.M1P1.host'), normal.raw);
      expect(await local.poll()).toBe(2);
      expect(refusals).toBe(2);
      expect(await readdir(join(dir, '.Failed', 'cur'))).toContain('1800000000.M1P1.host:2,S');
      await expectProcessed(normal.messageId);
      const row = await gym.database.db
        .selectFrom('inbound_messages')
        .select(['status', 'reason', 'raw'])
        .where('message_id', 'like', '<sha256-%@inbound.invalid>')
        .where('reason', 'like', '%could not be stored%')
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('parked');
      expect(row.reason).toContain('value too long for type character varying(3)');
      expect(row.reason).toContain(`only its first ${maxStrangerRawBytes} of ${big.length} bytes`);
      expect(Buffer.from(row.raw!).equals(big.subarray(0, maxStrangerRawBytes))).toBe(true);
      expect(await readFile(join(dir, '.Failed', 'cur', '1800000000.M1P1.host:2,S'))).toEqual(big);
    });
  });

  describeWithServers(['dovecot'], 'through a real Dovecot', () => {
    let dovecot: Dovecot;
    let source: MailSource | undefined;
    beforeAll(async () => {
      dovecot = await startDovecot();
    });
    afterEach(async () => {
      await source?.stop();
      source = undefined;
    });
    afterAll(async () => {
      await dovecot?.stop();
    });

    it('each critical message, then a normal reply: the normal reply is processed, the bad ones are in Failed', async () => {
      const normals: string[] = [];
      const keys = critical.map((c) => ({
        ...c,
        key: c.key.replace('@', `-imap-${backend.name}@`),
      }));
      for (const { headers, key } of keys) {
        const normal = normalReply();
        normals.push(normal.messageId);
        await dovecot.deliver(reply({ ...headers, 'Message-ID': key }));
        await dovecot.deliver(normal.raw);
      }
      source = imapSource({
        url: dovecot.url,
        handler: (item) => handleInbound(gym.replies, item),
        cursor: mailboxCursor(gym.database.db),
        cursorKey: `poison-${backend.name}`,
        logger: recordingLog(),
        idleDelayMs: 100,
        backoff: { baseMs: 100, maxMs: 1000 },
      });
      await source.start();
      await vi.waitFor(async () => expect(await dovecot.count('Processed')).toBe(3), waitLong);
      await vi.waitFor(async () => expect(await dovecot.count('Failed')).toBe(3), waitLong);
      expect(await dovecot.count('INBOX')).toBe(0);
      for (const id of normals) await expectProcessed(id);
      for (const { key, reason } of keys) await expectParked(key, reason);
      expect((await dovecot.messageIds('Processed')).sort()).toEqual([...normals].sort());
      // The cursor moved past all six.
      expect(await mailboxCursor(gym.database.db).get(`poison-${backend.name}`)).toMatchObject({
        lastUid: 6,
      });
    });
  });

  it("Raw mail size: a stranger's 3 MiB message keeps only its first 1 MiB in the database", async () => {
    const messageId = `<big-stranger-${backend.name}@elsewhere.example>`;
    const raw = Buffer.concat([
      reply({ From: 'stranger@elsewhere.example', 'Message-ID': messageId }, 'hello'),
      Buffer.alloc(3 * 1024 * 1024, 'z'),
    ]);
    expect(await handleInbound(gym.replies, { raw, mailbox: 'INBOX', uid: undefined })).toBe(
      'processed',
    );
    const row = await inboundRow(gym, messageId);
    expect(row?.status).toBe('parked');
    expect(row!.reason).toContain(`only its first ${maxStrangerRawBytes} of ${raw.length} bytes`);
    expect(row!.raw!.length).toBe(maxStrangerRawBytes);
    expect(Buffer.from(row!.raw!).equals(raw.subarray(0, maxStrangerRawBytes))).toBe(true);
  });

  it('property: whatever the headers of one message, the next message is processed', async () => {
    const headerValue = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ unit: 'grapheme-ascii', minLength: 2000, maxLength: 4000 }),
      // Encoded words over any bytes, in charsets that can decode to surrogates or NUL.
      fc
        .tuple(
          fc.constantFrom('utf-8', 'utf-16be', 'utf-16le', 'utf-16', 'iso-8859-1', 'x-unknown'),
          fc.uint8Array({ maxLength: 40 }),
        )
        .map(([charset, bytes]) => `=?${charset}?B?${Buffer.from(bytes).toString('base64')}?=`),
      fc.integer({ min: -300_000, max: 300_000 }).map((year) => {
        const sign = year < 0 ? '-' : '+';
        return `${sign}${String(Math.abs(year)).padStart(6, '0')}-01-01T00:00:00Z`;
      }),
      fc.constantFrom('<>', '<<>>', '\u0000', '<a\u0000b@c>', '=?utf-8?Q?=00?=', ''),
    );
    const names = ['Message-ID', 'Date', 'Subject', 'From', 'In-Reply-To', 'References'] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          Object.fromEntries(names.map((n) => [n, headerValue])) as Record<
            (typeof names)[number],
            typeof headerValue
          >,
        ),
        async (headers) => {
          // Header values as bytes; line breaks kept as a folded continuation would have them.
          const hostile = reply(
            Object.fromEntries(
              Object.entries(headers).map(([k, v]) => [k, v.replace(/\r?\n/g, '\r\n ')]),
            ),
          );
          const first = await handleInbound(gym.replies, {
            raw: hostile,
            mailbox: 'INBOX',
            uid: undefined,
          });
          expect(['processed', 'failed']).toContain(first);
          const normal = normalReply();
          const next = await handleInbound(gym.replies, {
            raw: normal.raw,
            mailbox: 'INBOX',
            uid: undefined,
          });
          expect(next).toBe('processed');
          await expectProcessed(normal.messageId);
        },
      ),
      { numRuns: backend.name === 'pglite' ? 40 : 60 },
    );
  }, 240_000);
});
