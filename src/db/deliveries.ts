import { sql, type Kysely } from 'kysely';
import type { Database, Delivery } from './schema.js';

/*
 * Leases run on the database's clock, always. Which rows are due runs on the caller's clock.
 *
 * The two clocks answer different questions. "Is this row due?" is programme time: `gym demo`
 * runs weeks in seconds, `gym run --clock` starts on a future date, and the tests freeze time,
 * so it stays with the clock the engine is given (in production, the worker's wall clock: a
 * skew of a second or two moves a send by as much, which harms no one). "Has its holder gone?"
 * compares instants written by one worker with instants read by another, so it needs the one
 * clock they share: PostgreSQL's `now()`. Worker clocks that disagree (started at different
 * times under `--clock`, or simply unsynchronised) made live workers' leases look expired to
 * their neighbours, who took and sent the rows again (#11 §5). A shifted or simulated clock
 * therefore never touches `lease_until`.
 */

/** `now() + seconds`, on the database's clock. */
export function leaseFromNow(seconds: number) {
  return sql<Date>`now() + make_interval(secs => ${seconds})`;
}

export interface ClaimOptions {
  /** Who holds the lease, for logs and for finding a dead worker's rows. */
  readonly workerId: string;
  /** Rows per claim. */
  readonly limit: number;
  /** How long the claim holds (database clock) before another worker may reclaim it. */
  readonly leaseSeconds: number;
  /** The clock that decides what is due; the database's own `now()` when absent. */
  readonly now?: Date;
}

/** The claim a holder proves with: the row and the fencing token it was claimed with. */
export interface HeldRow {
  readonly id: number;
  readonly leaseToken: number;
}

/**
 * Claims the next due deliveries for one worker, in one statement: rows that are pending and
 * due, and rows whose claim expired (their worker died or stalled), oldest first. `FOR UPDATE
 * SKIP LOCKED` lets any number of workers claim at once without waiting for each other and
 * without ever getting the same row. Each claim bumps the row's fencing token (`lease_token`).
 */
export async function claimDueDeliveries(
  db: Kysely<Database>,
  options: ClaimOptions,
): Promise<Delivery[]> {
  const now =
    options.now === undefined
      ? sql<Date>`now()`
      : sql<Date>`${options.now.toISOString()}::timestamptz`;
  const runnableAt = sql<Date>`coalesce(retry_at, due_at)`;
  const claimed = await db
    .updateTable('deliveries')
    .set({
      status: 'claimed',
      claimed_by: options.workerId,
      lease_until: leaseFromNow(options.leaseSeconds),
      lease_token: sql<number>`lease_token + 1`,
      attempts: sql<number>`attempts + 1`,
      updated_at: now,
    })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('deliveries')
        .select('id')
        .where((w) =>
          w.or([
            w.and([w('status', '=', 'pending'), w(runnableAt, '<=', now)]),
            w.and([w('status', '=', 'claimed'), w('lease_until', '<', sql<Date>`now()`)]),
          ]),
        )
        .orderBy(runnableAt)
        // Rows the quota carried to the same instant go out in the order they were due.
        .orderBy('due_at')
        .orderBy('id')
        .limit(options.limit)
        .forUpdate()
        .skipLocked(),
    )
    .returningAll()
    .execute();
  return claimed.sort((a, b) => a.due_at.getTime() - b.due_at.getTime() || a.id - b.id);
}

/**
 * The heartbeat: extends, to `leaseSeconds` from now, the leases of the rows this holder still
 * holds (same fencing token). Never shortens a lease. Returns the ids it renewed; a row missing
 * from the answer was taken by another worker and must not be sent.
 */
export async function renewLeases(
  db: Kysely<Database>,
  held: readonly HeldRow[],
  leaseSeconds: number,
): Promise<Set<number>> {
  if (held.length === 0) return new Set();
  const renewed = await db
    .updateTable('deliveries')
    .set({ lease_until: sql<Date>`greatest(lease_until, ${leaseFromNow(leaseSeconds)})` })
    .where('status', '=', 'claimed')
    .where((eb) =>
      eb(
        eb.refTuple('id', 'lease_token'),
        'in',
        held.map((h) => eb.tuple(h.id, h.leaseToken)),
      ),
    )
    .returning('id')
    .execute();
  return new Set(renewed.map((r) => r.id));
}

/**
 * The check before a message goes out: true while the row is still claimed with this fencing
 * token, and then its lease is extended to `sendLeaseSeconds` from now, for the time the
 * message is in the relay's hands. False when another worker has taken the row: nothing may be
 * sent. (A lease that ran out but that nobody took is still this holder's: nothing was lost.)
 */
export async function fenceDelivery(
  db: Kysely<Database>,
  held: HeldRow,
  sendLeaseSeconds: number,
): Promise<boolean> {
  const result = await db
    .updateTable('deliveries')
    .set({ lease_until: sql<Date>`greatest(lease_until, ${leaseFromNow(sendLeaseSeconds)})` })
    .where('id', '=', held.id)
    .where('status', '=', 'claimed')
    .where('lease_token', '=', held.leaseToken)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}
