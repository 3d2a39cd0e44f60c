import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, migratorFor } from '../../src/db/migrate.js';
import { consentReader, liftSuppressions, suppress } from '../../src/db/suppression-store.js';
import { testBackends, type TestDatabase } from '../helpers/backends.js';
import { enrolledLearner } from '../helpers/fixtures.js';

/** The error PostgreSQL raised, as `code constraint`. */
async function violation(query: Promise<unknown>): Promise<string> {
  try {
    await query;
  } catch (error) {
    const e = error as { code?: string; constraint?: string };
    return `${e.code} ${e.constraint ?? ''}`.trim();
  }
  return 'no error';
}

describe.each(testBackends())('suppressions (0003) on $name', (backend) => {
  let database: TestDatabase;
  const now = new Date('2027-02-03T10:00:00Z');

  beforeAll(async () => {
    database = await backend.open();
  });
  afterAll(() => database?.close());

  it('applies over a 0002 database that holds data, and undoes it', async () => {
    const migrator = await migratorFor(database.db);
    expect((await migrator.migrateTo('0002-replies')).error).toBeUndefined();
    await enrolledLearner(database.db);
    const up = await migrator.migrateTo('0003-suppressions');
    expect(up.results?.map((r) => r.migrationName)).toEqual(['0003-suppressions']);
    const down = await migrator.migrateDown();
    expect(down.results?.map((r) => r.migrationName)).toEqual(['0003-suppressions']);
    expect((await migrator.migrateTo('0003-suppressions')).error).toBeUndefined();
    await migrateToLatest(database.db);
  });

  it('keeps one active no per address and scope, normalised, and history after a lift', async () => {
    // An internationalised domain in any case and spacing is one address.
    expect(
      await suppress(database.db, {
        address: ' Sam@Bücher.Example ',
        scope: 'all',
        how: 'one_click',
        now,
      }),
    ).toBe(true);
    expect(
      await suppress(database.db, {
        address: 'sam@xn--bcher-kva.example',
        scope: 'all',
        how: 'mailto',
        now: new Date('2027-03-01T10:00:00Z'),
      }),
    ).toBe(false);
    const reader = consentReader(database.db);
    expect(await reader.suppressionsOf(['SAM@bücher.example'])).toEqual([
      { address: 'sam@xn--bcher-kva.example', scope: 'all', how: 'one_click', createdAt: now },
    ]);
    // The schema refuses an address that is not normalised, and an unknown scope or how.
    expect(
      await violation(
        database.db
          .insertInto('suppressions')
          .values({ address: 'Sam@x.example', scope: 'all', how: 'by_hand' })
          .execute(),
      ),
    ).toBe('23514 suppressions_address_is_normalised');
    expect(
      await violation(
        database.db
          .insertInto('suppressions')
          .values({ address: 'sam@x.example', scope: 'everything' as 'all', how: 'by_hand' })
          .execute(),
      ),
    ).toBe('23514 suppressions_scope');

    const lifted = await liftSuppressions(database.db, {
      address: 'sam@bücher.example',
      by: 'trainer',
      reason: 'asked to come back',
      now: new Date('2027-04-01T10:00:00Z'),
    });
    expect(lifted.map((r) => r.how)).toEqual(['one_click']);
    expect(await reader.suppressionsOf(['sam@xn--bcher-kva.example'])).toEqual([]);
    // Saying no again after a lift is a new row; the lifted one stays, with who and why.
    expect(
      await suppress(database.db, {
        address: 'sam@xn--bcher-kva.example',
        scope: 'all',
        how: 'reply',
        now: new Date('2027-05-01T10:00:00Z'),
      }),
    ).toBe(true);
    const history = await database.db
      .selectFrom('suppressions')
      .select(['how', 'lifted_by', 'lifted_reason'])
      .where('address', '=', 'sam@xn--bcher-kva.example')
      .orderBy('id')
      .execute();
    expect(history).toEqual([
      { how: 'one_click', lifted_by: 'trainer', lifted_reason: 'asked to come back' },
      { how: 'reply', lifted_by: null, lifted_reason: null },
    ]);
  });
});
