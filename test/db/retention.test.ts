import { mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearExpiredRaw, dailyRetention, lastRetention } from '../../src/db/retention.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';

const dayMs = 24 * 60 * 60 * 1000;
const now = new Date('2027-06-01T12:00:00Z');
// The limit, 90 days before `now`: a message stored exactly then stays, a second earlier goes.
const limit = new Date(now.getTime() - 90 * dayMs);
const before = (ms: number) => new Date(limit.getTime() - ms);

describe.each(testBackends())('retention of raw mail on $name', (backend) => {
  let database: TestDatabase;
  const dir = mkdtempSync(join(tmpdir(), 'gym-retention-'));
  const outbox = join(dir, 'outbox');
  const inbox = join(dir, 'inbox');

  const file = (path: string, mtime: Date) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, 'Subject: x\r\n\r\nbody\r\n');
    utimesSync(path, mtime, mtime);
  };
  const inbound = (id: string, createdAt: Date, raw: Buffer | null) =>
    database.db
      .insertInto('inbound_messages')
      .values({
        message_id: `<${id}@example.test>`,
        mailbox: 'INBOX',
        received_at: createdAt,
        classification: 'reply',
        status: raw === null ? 'processed' : 'parked',
        reason: 'held for the test',
        raw,
        created_at: createdAt,
      })
      .execute();

  beforeAll(async () => {
    database = await openMigrated(backend);
    await inbound('older', before(1000), Buffer.from('old'));
    await inbound('at-limit', limit, Buffer.from('at the limit'));
    await inbound('newer', new Date(now.getTime() - dayMs), Buffer.from('new'));
    await inbound('no-raw', before(10 * dayMs), null);
    file(join(outbox, 'new', 'older'), before(1000));
    file(join(outbox, 'new', 'at-limit'), limit);
    file(join(outbox, 'cur', 'newer'), new Date(now.getTime() - dayMs));
    file(join(inbox, '.Processed', 'cur', 'older'), before(1000));
    file(join(inbox, '.Failed', 'cur', 'at-limit'), limit);
    // Not read yet: the listener still needs it, whatever its age.
    file(join(inbox, 'new', 'unread-old'), before(30 * dayMs));
  });
  afterAll(() => database?.close());

  it('clears exactly what is older than the limit', async () => {
    const outcome = await clearExpiredRaw(database.db, {
      retainDays: 90,
      now,
      outboxDir: outbox,
      inboxDir: inbox,
    });
    expect(outcome).toEqual({
      ranAt: now.toISOString(),
      retainDays: 90,
      cutoff: limit.toISOString(),
      rawInboundCleared: 1,
      outboxFilesRemoved: 1,
      inboxFilesRemoved: 1,
    });
    const rows = await database.db
      .selectFrom('inbound_messages')
      .select(['message_id', 'raw', 'raw_cleared_at', 'status'])
      .orderBy('id')
      .execute();
    expect(
      rows.map((r) => [r.message_id, r.raw === null, r.raw_cleared_at?.toISOString()]),
    ).toEqual([
      ['<older@example.test>', true, now.toISOString()],
      ['<at-limit@example.test>', false, undefined],
      ['<newer@example.test>', false, undefined],
      ['<no-raw@example.test>', true, undefined],
    ]);
    // The row stays, held for a person, only without its bytes.
    expect(rows[0]!.status).toBe('parked');
    expect(readdirSync(join(outbox, 'new'))).toEqual(['at-limit']);
    expect(readdirSync(join(outbox, 'cur'))).toEqual(['newer']);
    expect(readdirSync(join(inbox, '.Processed', 'cur'))).toEqual([]);
    expect(readdirSync(join(inbox, '.Failed', 'cur'))).toEqual(['at-limit']);
    expect(readdirSync(join(inbox, 'new'))).toEqual(['unread-old']);
  });

  it('runs once a day whichever worker asks, and says what it did', async () => {
    const options = { retainDays: 90, outboxDir: outbox };
    const first = await dailyRetention(database.db, { ...options, now });
    expect(first).toMatchObject({ ranAt: now.toISOString(), rawInboundCleared: 0 });
    // Another worker, an hour later: already done today.
    expect(
      await dailyRetention(database.db, { ...options, now: new Date(now.getTime() + 3600_000) }),
    ).toBeUndefined();
    expect(await lastRetention(database.db)).toEqual(first);
    // A day later the limit has moved: the message that was at it goes now.
    const next = new Date(now.getTime() + dayMs);
    expect(await dailyRetention(database.db, { ...options, now: next })).toMatchObject({
      ranAt: next.toISOString(),
      rawInboundCleared: 1,
      outboxFilesRemoved: 1,
    });
    expect((await lastRetention(database.db))?.ranAt).toBe(next.toISOString());
  });
});
