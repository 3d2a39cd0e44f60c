import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, migrationStatus, migratorFor } from '../../src/db/migrate.js';
import { testBackends, type TestDatabase } from '../helpers/backends.js';
import { enrolledLearner, pendingDeliveries } from '../helpers/fixtures.js';

/** The error PostgreSQL raised, as `code constraint` (e.g. `23505 deliveries_one_per_step`). */
async function violation(query: Promise<unknown>): Promise<string> {
  try {
    await query;
  } catch (error) {
    const e = error as { code?: string; constraint?: string };
    return `${e.code} ${e.constraint ?? ''}`.trim();
  }
  return 'no error';
}

describe.each(testBackends())('upgrading a database on $name', (backend) => {
  it('applies 0002 over a 0001 database that holds data, and undoes it', async () => {
    const database = await backend.open();
    try {
      const migrator = await migratorFor(database.db);
      expect((await migrator.migrateTo('0001-initial')).error).toBeUndefined();
      const { enrolmentId } = await enrolledLearner(database.db);
      await pendingDeliveries(database.db, enrolmentId, 3, new Date('2027-01-04T09:00:00Z'));
      expect(await migrateToLatest(database.db)).toEqual([
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
      const kept = await database.db
        .selectFrom('deliveries')
        .select(['kind', 'payload', 'lease_token'])
        .where('enrolment_id', '=', enrolmentId)
        .execute();
      expect(kept).toEqual(Array(3).fill({ kind: 'email', payload: null, lease_token: 0 }));
      for (const name of [
        '0015-claim-in-order',
        '0014-compiled-layouts',
        '0013-compiled-programmes',
        '0011-intake',
        '0010-languages',
        '0009-journey',
        '0008-data-rights',
        '0006-worker-ticks',
        '0005-send-quotas',
        '0004-leases',
        '0003-suppressions',
        '0002-replies',
      ]) {
        const down = await migrator.migrateDown();
        expect(down.error).toBeUndefined();
        expect(down.results?.map((r) => r.migrationName)).toEqual([name]);
      }
    } finally {
      await database.close();
    }
  });
});

describe.each(testBackends())('schema on $name', (backend) => {
  let database: TestDatabase;
  const applied: string[] = [];

  beforeAll(async () => {
    database = await backend.open();
    await migrateToLatest(database.db, (name) => applied.push(name));
  });
  afterAll(() => database?.close());

  it('reports each migration it applies, and is a no-op the second time', async () => {
    expect(applied).toEqual([
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
    expect(await migrateToLatest(database.db)).toEqual([]);
    const status = await migrationStatus(database.db);
    expect(status.map((m) => m.name)).toEqual([
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
    expect(status[0]!.appliedAt).toBeInstanceOf(Date);
  });

  it('keeps one delivery per enrolment and step', async () => {
    const { enrolmentId } = await enrolledLearner(database.db);
    await pendingDeliveries(database.db, enrolmentId, 1, new Date('2027-01-04T09:00:00Z'));
    expect(
      await violation(
        database.db
          .insertInto('deliveries')
          .values({
            enrolment_id: enrolmentId,
            step_key: 'step-0',
            kind: 'email',
            week: 1,
            due_at: new Date(),
            planned_local: '2027-01-04T09:00',
          })
          .execute(),
      ),
    ).toBe('23505 deliveries_one_per_step');
  });

  it('keeps what an acknowledgement says with it', async () => {
    const { enrolmentId } = await enrolledLearner(database.db);
    expect(
      await violation(
        database.db
          .insertInto('deliveries')
          .values({
            enrolment_id: enrolmentId,
            step_key: 'ack-1',
            kind: 'acknowledgement',
            week: 1,
            due_at: new Date(),
            planned_local: '',
          })
          .execute(),
      ),
    ).toBe('23514 deliveries_acknowledgement_has_payload');
  });

  it('stores each inbound Message-ID once', async () => {
    const message = {
      message_id: '<reply-1@mail.example.gov.uk>',
      mailbox: 'INBOX',
      received_at: new Date(),
      classification: 'reply' as const,
    };
    await database.db.insertInto('inbound_messages').values(message).execute();
    expect(
      await violation(database.db.insertInto('inbound_messages').values(message).execute()),
    ).toBe('23505 inbound_messages_message_id_key');
  });

  it('rejects status values outside the allowed set', async () => {
    const { enrolmentId } = await enrolledLearner(database.db);
    const [id] = await pendingDeliveries(database.db, enrolmentId, 1, new Date());
    expect(
      await violation(
        database.db
          .updateTable('deliveries')
          .set({ status: 'delivered' as never })
          .where('id', '=', id!)
          .execute(),
      ),
    ).toBe('23514 deliveries_status');
    // A sent row must say with which Message-ID; a failed one must say why.
    expect(
      await violation(
        database.db
          .updateTable('deliveries')
          .set({ status: 'sent' })
          .where('id', '=', id!)
          .execute(),
      ),
    ).toBe('23514 deliveries_sent_has_message');
    expect(
      await violation(
        database.db
          .updateTable('deliveries')
          .set({ status: 'failed' })
          .where('id', '=', id!)
          .execute(),
      ),
    ).toBe('23514 deliveries_outcome_has_reason');
  });

  it('refuses a delivery for an enrolment that does not exist', async () => {
    expect(
      await violation(
        database.db
          .insertInto('deliveries')
          .values({
            enrolment_id: 999_999,
            step_key: 'kickoff',
            kind: 'email',
            week: 1,
            due_at: new Date(),
            planned_local: '2027-01-04T09:00',
          })
          .execute(),
      ),
    ).toBe('23503 deliveries_enrolment_id_fkey');
  });

  it('allows one open enrolment per learner, and history after it ends', async () => {
    const { learnerId, versionId, enrolmentId } = await enrolledLearner(database.db);
    const second = {
      learner_id: learnerId,
      sequence_version_id: versionId,
      starts_on: '2027-04-05',
    };
    expect(await violation(database.db.insertInto('enrolments').values(second).execute())).toBe(
      '23505 enrolments_one_open_per_learner',
    );
    await database.db
      .updateTable('enrolments')
      .set({ status: 'completed', ended_at: new Date() })
      .where('id', '=', enrolmentId)
      .execute();
    await database.db.insertInto('enrolments').values(second).execute();
  });

  it('keeps e-mail addresses in lower case so that matching a reply is exact', async () => {
    expect(
      await violation(
        database.db
          .insertInto('learners')
          .values({
            email: 'Sam.Jones@Example.gov.uk',
            first_name: 'Sam',
            last_name: 'Jones',
            time_zone: 'Europe/London',
          })
          .execute(),
      ),
    ).toBe('23514 learners_email_is_lower_case');
  });

  it('reads dates as calendar days, bigints as numbers and timestamps as instants', async () => {
    const { enrolmentId } = await enrolledLearner(database.db);
    const enrolment = await database.db
      .selectFrom('enrolments')
      .select(['starts_on', 'created_at'])
      .where('id', '=', enrolmentId)
      .executeTakeFirstOrThrow();
    expect(enrolment.starts_on).toBe('2027-01-04');
    expect(enrolment.created_at).toBeInstanceOf(Date);
    const { rows } = await sql<{ n: number }>`select count(*) as n from learners`.execute(
      database.db,
    );
    expect(typeof rows[0]!.n).toBe('number');
    await database.db
      .insertInto('mailbox_cursors')
      .values({ mailbox: 'INBOX', uid_validity: '4294967295', last_uid: 4_294_967_295 })
      .execute();
    const cursor = await database.db
      .selectFrom('mailbox_cursors')
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(cursor).toMatchObject({ uid_validity: '4294967295', last_uid: 4_294_967_295 });
  });

  it('runs a transaction as one unit', async () => {
    const before = await database.db.selectFrom('sequences').select('id').execute();
    await expect(
      database.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('sequences')
          .values({ id: 'rolled-back', title: 'Never kept' })
          .execute();
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await database.db.selectFrom('sequences').select('id').execute()).toEqual(before);
  });
});
