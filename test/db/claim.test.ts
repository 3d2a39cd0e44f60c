import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claimDueDeliveries } from '../../src/db/deliveries.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';
import { enrolledLearner, pendingDeliveries } from '../helpers/fixtures.js';

const monday9 = new Date('2027-01-04T09:00:00Z');
const minutes = (n: number) => new Date(monday9.getTime() + n * 60_000);

describe.each(testBackends())('claiming due deliveries on $name', (backend) => {
  let database: TestDatabase;
  let enrolmentId: number;

  beforeAll(async () => {
    database = await openMigrated(backend);
  });
  afterAll(() => database?.close());
  beforeEach(async () => {
    await database.db.deleteFrom('deliveries').execute();
    ({ enrolmentId } = await enrolledLearner(database.db));
  });

  it('claims only rows that are due, oldest first, and leases them', async () => {
    await pendingDeliveries(database.db, enrolmentId, 5, monday9); // due 09:00 .. 09:04
    const claimed = await claimDueDeliveries(database.db, {
      workerId: 'w1',
      limit: 10,
      leaseSeconds: 60,
      now: minutes(2),
    });
    expect(claimed.map((d) => d.step_key)).toEqual(['step-0', 'step-1', 'step-2']);
    for (const row of claimed) {
      expect(row).toMatchObject({ status: 'claimed', claimed_by: 'w1', attempts: 1 });
      expect(row.lease_until).toEqual(minutes(3));
    }
    // Claimed rows are not claimed again while their lease holds.
    const again = await claimDueDeliveries(database.db, {
      workerId: 'w2',
      limit: 10,
      leaseSeconds: 60,
      now: minutes(2),
    });
    expect(again).toEqual([]);
  });

  it('reclaims a row whose lease expired (its worker died)', async () => {
    await pendingDeliveries(database.db, enrolmentId, 1, monday9);
    await claimDueDeliveries(database.db, {
      workerId: 'dead',
      limit: 1,
      leaseSeconds: 60,
      now: monday9,
    });
    const reclaimed = await claimDueDeliveries(database.db, {
      workerId: 'alive',
      limit: 1,
      leaseSeconds: 60,
      now: minutes(2),
    });
    expect(reclaimed).toHaveLength(1);
    expect(reclaimed[0]).toMatchObject({ claimed_by: 'alive', attempts: 2 });
  });

  it('waits for a retry time after a temporary failure', async () => {
    const [id] = await pendingDeliveries(database.db, enrolmentId, 1, monday9);
    await database.db
      .updateTable('deliveries')
      .set({ retry_at: minutes(5) })
      .where('id', '=', id!)
      .execute();
    const opts = { workerId: 'w', limit: 1, leaseSeconds: 60 };
    expect(await claimDueDeliveries(database.db, { ...opts, now: minutes(4) })).toEqual([]);
    expect(await claimDueDeliveries(database.db, { ...opts, now: minutes(5) })).toHaveLength(1);
  });

  it('never gives the same row to two connections claiming at once', async () => {
    const ids = await pendingDeliveries(database.db, enrolmentId, 300, monday9);
    const other = await database.connectAgain();
    try {
      const now = minutes(1000);
      const claimAll = async (db: TestDatabase['db'], workerId: string) => {
        const mine: number[] = [];
        for (;;) {
          const batch = await claimDueDeliveries(db, { workerId, limit: 7, leaseSeconds: 60, now });
          if (batch.length === 0) return mine;
          mine.push(...batch.map((d) => d.id));
        }
      };
      const [a, b] = await Promise.all([claimAll(database.db, 'a'), claimAll(other.db, 'b')]);
      expect(a.filter((id) => b.includes(id))).toEqual([]);
      expect([...a, ...b].sort((x, y) => x - y)).toEqual(ids);
      if (backend.concurrent) {
        // Both really worked (on one-connection PGlite the calls take turns instead).
        expect(a.length).toBeGreaterThan(0);
        expect(b.length).toBeGreaterThan(0);
      }
    } finally {
      await other.close();
    }
  });

  if (backend.concurrent) {
    it('skips rows another worker holds locked, without waiting for it', async () => {
      await pendingDeliveries(database.db, enrolmentId, 10, monday9);
      const other = await database.connectAgain();
      try {
        const now = minutes(60);
        await database.db.transaction().execute(async (trx) => {
          // Worker A claims 4 rows and keeps its transaction (and its row locks) open...
          const a = await claimDueDeliveries(trx, {
            workerId: 'a',
            limit: 4,
            leaseSeconds: 60,
            now,
          });
          expect(a.map((d) => d.step_key)).toEqual(['step-0', 'step-1', 'step-2', 'step-3']);
          // ...while worker B, on its own connection, gets the next rows at once.
          const b = await claimDueDeliveries(other.db, {
            workerId: 'b',
            limit: 100,
            leaseSeconds: 60,
            now,
          });
          expect(b.map((d) => d.step_key)).toEqual([
            'step-4',
            'step-5',
            'step-6',
            'step-7',
            'step-8',
            'step-9',
          ]);
        });
      } finally {
        await other.close();
      }
    });
  }
});
