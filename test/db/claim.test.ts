import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import {
  claimDueDeliveries,
  fenceDelivery,
  renewLeases,
  type HeldRow,
} from '../../src/db/deliveries.js';
import { digestStore } from '../../src/db/digest-store.js';
import { dispatchStore } from '../../src/db/dispatch-store.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';
import { enrolledLearner, pendingDeliveries } from '../helpers/fixtures.js';

const monday9 = new Date('2027-01-04T09:00:00Z');
const minutes = (n: number) => new Date(monday9.getTime() + n * 60_000);

describe.each(testBackends())('claiming due deliveries on $name', (backend) => {
  let database: TestDatabase;
  let enrolmentId: number;

  /** The database's clock: leases are on it, whatever clock decides what is due. */
  const databaseNow = async () =>
    (await sql<{ now: Date }>`select now() as now`.execute(database.db)).rows[0]!.now;
  /**
   * A lease that has run out: what a holder stalled (a paused VM) or dead long enough leaves.
   * Moved on the row rather than waited for, so that the test does not depend on real time.
   */
  const runOut = (ids: readonly number[]) =>
    database.db
      .updateTable('deliveries')
      .set({ lease_until: sql<Date>`now() - interval '1 second'` })
      .where('id', 'in', ids)
      .execute();
  const leaseOf = async (id: number) =>
    await database.db
      .selectFrom('deliveries')
      .select(['lease_until', 'claimed_by', 'lease_token', 'status', 'reason'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();

  beforeAll(async () => {
    database = await openMigrated(backend);
  });
  afterAll(() => database?.close());
  beforeEach(async () => {
    await database.db.deleteFrom('deliveries').execute();
    ({ enrolmentId } = await enrolledLearner(database.db));
  });

  it('claims only rows that are due, oldest first, and leases them on the database clock', async () => {
    await pendingDeliveries(database.db, enrolmentId, 5, monday9); // due 09:00 .. 09:04
    const before = await databaseNow();
    const claimed = await claimDueDeliveries(database.db, {
      workerId: 'w1',
      limit: 10,
      leaseSeconds: 60,
      now: minutes(2),
    });
    const after = await databaseNow();
    expect(claimed.map((d) => d.step_key)).toEqual(['step-0', 'step-1', 'step-2']);
    for (const row of claimed) {
      expect(row).toMatchObject({ status: 'claimed', claimed_by: 'w1', attempts: 1 });
      expect(row.lease_token).toBe(1);
      // A minute of the database's clock, not of the (frozen, 2027) clock that decided what is due.
      expect(row.lease_until!.getTime()).toBeGreaterThanOrEqual(before.getTime() + 60_000);
      expect(row.lease_until!.getTime()).toBeLessThanOrEqual(after.getTime() + 60_000);
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

  it('reclaims a row whose lease expired (its worker died), with a new fencing token', async () => {
    const [id] = await pendingDeliveries(database.db, enrolmentId, 1, monday9);
    await claimDueDeliveries(database.db, {
      workerId: 'dead',
      limit: 1,
      leaseSeconds: 60,
      now: monday9,
    });
    await runOut([id!]);
    const reclaimed = await claimDueDeliveries(database.db, {
      workerId: 'alive',
      limit: 1,
      leaseSeconds: 60,
      now: monday9,
    });
    expect(reclaimed).toHaveLength(1);
    expect(reclaimed[0]).toMatchObject({ claimed_by: 'alive', attempts: 2, lease_token: 2 });
  });

  it('does not reclaim a live lease, however far ahead a worker’s clock runs', async () => {
    const [id] = await pendingDeliveries(database.db, enrolmentId, 1, monday9);
    await claimDueDeliveries(database.db, {
      workerId: 'a',
      limit: 1,
      leaseSeconds: 60,
      now: monday9,
    });
    // A neighbour whose clock (or `--clock`) is a day ahead: before, it saw the lease as expired.
    const ahead = new Date(monday9.getTime() + 24 * 60 * 60 * 1000);
    expect(
      await claimDueDeliveries(database.db, {
        workerId: 'b',
        limit: 1,
        leaseSeconds: 60,
        now: ahead,
      }),
    ).toEqual([]);
    expect(await leaseOf(id!)).toMatchObject({ claimed_by: 'a', lease_token: 1 });
  });

  it('fences a holder whose row was taken: it can neither renew, send nor settle it', async () => {
    const store = dispatchStore(database.db);
    const [id] = await pendingDeliveries(database.db, enrolmentId, 1, monday9);
    const claim = async (workerId: string): Promise<HeldRow> => {
      const [row] = await claimDueDeliveries(database.db, {
        workerId,
        limit: 1,
        leaseSeconds: 60,
        now: monday9,
      });
      return { id: row!.id, leaseToken: row!.lease_token };
    };
    // Both holders carry the same name, as a worker restarted with `--worker w` does: only the
    // fencing token tells the stalled one from the one that took its row.
    const stalled = await claim('w');
    await runOut([id!]);
    const taker = await claim('w');
    expect(taker.leaseToken).toBeGreaterThan(stalled.leaseToken);

    // The stalled holder wakes up: its check before sending says no, its heartbeat renews nothing.
    expect(await fenceDelivery(database.db, stalled, 600)).toBe(false);
    expect(await renewLeases(database.db, [stalled], 600)).toEqual(new Set());
    expect((await store.fence([stalled], 600)).has(stalled.id)).toBe(false);
    // Its settlement (a timeout it saw before the stall) changes nothing while the taker holds it...
    const timedOut = { status: 'failed', reason: 'relay timed out' } as const;
    expect(
      (await store.settle([{ held: stalled, settlement: timedOut }], monday9)).has(stalled.id),
    ).toBe(false);
    expect(await leaseOf(id!)).toMatchObject({ status: 'claimed', lease_token: taker.leaseToken });
    // ...and the new holder passes the check before sending, sends and records it...
    const sent = {
      status: 'sent',
      messageId: '<d1.taker@gym.example>',
      inviteUid: undefined,
    } as const;
    expect((await store.fence([taker], 600)).has(taker.id)).toBe(true);
    expect((await store.settle([{ held: taker, settlement: sent }], monday9)).has(taker.id)).toBe(
      true,
    );
    // (a settled row is nobody's to send any more)
    expect((await store.fence([taker], 600)).has(taker.id)).toBe(false);
    // ...over which the stalled one writes nothing either.
    expect(
      (await store.settle([{ held: stalled, settlement: timedOut }], monday9)).has(stalled.id),
    ).toBe(false);
    expect(
      await database.db
        .selectFrom('deliveries')
        .select(['status', 'message_id', 'reason'])
        .where('id', '=', id!)
        .executeTakeFirstOrThrow(),
    ).toEqual({ status: 'sent', message_id: '<d1.taker@gym.example>', reason: null });
  });

  it('keeps a lease alive while its holder renews it, and lets the check extend one in flight', async () => {
    const ids = await pendingDeliveries(database.db, enrolmentId, 3, monday9);
    const claimed = await claimDueDeliveries(database.db, {
      workerId: 'a',
      limit: 3,
      leaseSeconds: 60,
      now: minutes(10),
    });
    const held = claimed.map((d) => ({ id: d.id, leaseToken: d.lease_token }));
    // The lease nearly ran out (a slow batch); the heartbeat renews it for another hour.
    await runOut(ids);
    const renewed = await renewLeases(database.db, held, 3600);
    expect(renewed).toEqual(new Set(ids));
    const now = await databaseNow();
    for (const id of ids) {
      const lease = await leaseOf(id);
      expect(lease.lease_until!.getTime()).toBeGreaterThan(now.getTime() + 3500_000);
      expect(lease).toMatchObject({ claimed_by: 'a', lease_token: 1, status: 'claimed' });
    }
    // So a neighbour finds nothing to take.
    expect(
      await claimDueDeliveries(database.db, {
        workerId: 'b',
        limit: 10,
        leaseSeconds: 60,
        now: minutes(10),
      }),
    ).toEqual([]);
    // A renewal never shortens a lease: the heartbeat's 60 s leaves the hour in place.
    await renewLeases(database.db, held, 60);
    expect((await leaseOf(ids[0]!)).lease_until!.getTime()).toBeGreaterThan(
      now.getTime() + 3500_000,
    );
    // The check before sending keeps a lease that ran out but that nobody took.
    await runOut([ids[1]!]);
    expect(await fenceDelivery(database.db, held[1]!, 900)).toBe(true);
    expect((await leaseOf(ids[1]!)).lease_until!.getTime()).toBeGreaterThan(
      now.getTime() + 800_000,
    );
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

  it('fences a manager digest the same way: a stalled holder neither sends nor settles it', async () => {
    const store = digestStore(database.db);
    const manager = await database.db
      .insertInto('managers')
      .values({
        email: `m${Date.now()}@example.gov.uk`,
        name: 'Helen Walsh',
        time_zone: 'Europe/London',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const fortnight = { managerId: manager.id, periodStartsOn: '2027-01-04', leaseSeconds: 60 };
    const stalled = await store.claim({ ...fortnight, workerId: 'w', now: monday9 });
    expect(stalled).toMatchObject({ attempts: 1, leaseToken: 1 });
    // Its lease holds on the database's clock, whatever a neighbour's clock says.
    const dayLater = new Date(monday9.getTime() + 24 * 60 * 60 * 1000);
    expect(await store.claim({ ...fortnight, workerId: 'w', now: dayLater })).toBeUndefined();
    await database.db
      .updateTable('manager_digests')
      .set({ lease_until: sql<Date>`now() - interval '1 second'` })
      .where('id', '=', stalled!.id)
      .execute();
    const taker = await store.claim({ ...fortnight, workerId: 'w', now: monday9 });
    expect(taker).toMatchObject({ id: stalled!.id, attempts: 2, leaseToken: 2 });

    expect(await store.fence(stalled!, 600)).toBe(false);
    const timedOut = { status: 'failed', reason: 'relay timed out' } as const;
    expect(await store.settle(stalled!, timedOut, 3, monday9)).toBe(false);
    expect(await store.fence(taker!, 600)).toBe(true);
    expect(
      await store.settle(
        taker!,
        { status: 'sent', messageId: '<g1.taker@gym.example>' },
        3,
        monday9,
      ),
    ).toBe(true);
    expect(await store.settle(stalled!, timedOut, 3, monday9)).toBe(false);
    expect(
      await database.db
        .selectFrom('manager_digests')
        .select(['status', 'message_id', 'reason'])
        .where('id', '=', stalled!.id)
        .executeTakeFirstOrThrow(),
    ).toEqual({ status: 'sent', message_id: '<g1.taker@gym.example>', reason: null });
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
