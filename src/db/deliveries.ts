import { sql, type Kysely } from 'kysely';
import type { Database, Delivery } from './schema.js';

export interface ClaimOptions {
  /** Who holds the lease, for logs and for finding a dead worker's rows. */
  readonly workerId: string;
  /** Rows per claim. */
  readonly limit: number;
  /** How long the claim holds before another worker may reclaim it. */
  readonly leaseSeconds: number;
  /** The clock; the database's own `now()` when absent. Tests pass one in. */
  readonly now?: Date;
}

/**
 * Claims the next due deliveries for one worker, in one statement: rows that are pending and
 * due, and rows whose claim expired (their worker died), oldest first. `FOR UPDATE SKIP
 * LOCKED` lets any number of workers claim at once without waiting for each other and without
 * ever getting the same row.
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
      lease_until: sql<Date>`${now} + make_interval(secs => ${options.leaseSeconds})`,
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
            w.and([w('status', '=', 'claimed'), w('lease_until', '<', now)]),
          ]),
        )
        .orderBy(runnableAt)
        .orderBy('id')
        .limit(options.limit)
        .forUpdate()
        .skipLocked(),
    )
    .returningAll()
    .execute();
  return claimed.sort((a, b) => a.due_at.getTime() - b.due_at.getTime() || a.id - b.id);
}
