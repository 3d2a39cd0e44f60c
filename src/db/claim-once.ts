import { sql, type Kysely } from 'kysely';
import { leaseFromNow } from './deliveries.js';
import type { Database } from './schema.js';

/*
 * Mail that goes once a period (a manager's digest each fortnight, a manager's introduction, the
 * trainer's alert each day) has one row a period: whichever worker inserts it sends it, under a
 * lease with a fencing token, as deliveries do. These are the columns and the check those rows
 * share; each store keeps its own key and what it returns.
 */

/** The row as its first worker claims it. */
export function firstClaim(workerId: string, leaseSeconds: number) {
  return {
    status: 'claimed' as const,
    claimed_by: workerId,
    lease_until: leaseFromNow(leaseSeconds),
    lease_token: 1,
    attempts: 1,
  };
}

/** The row claimed again: a retry that is due, or a claim whose worker died or stalled. */
export function nextClaim(workerId: string, leaseSeconds: number) {
  return {
    status: 'claimed' as const,
    claimed_by: workerId,
    lease_until: leaseFromNow(leaseSeconds),
    lease_token: sql<number>`lease_token + 1`,
    attempts: sql<number>`attempts + 1`,
  };
}

/**
 * Just before the message leaves: lengthens the lease to cover the send, only while this holder
 * still has the row (its fencing token). False when another worker has taken it over.
 */
export async function fenceClaim(
  db: Kysely<Database>,
  table: 'manager_digests' | 'manager_introductions' | 'trainer_alerts',
  held: { readonly id: number; readonly leaseToken: number },
  sendLeaseSeconds: number,
): Promise<boolean> {
  const result = await db
    .updateTable(table)
    .set({ lease_until: sql<Date>`greatest(lease_until, ${leaseFromNow(sendLeaseSeconds)})` })
    .where('id', '=', held.id)
    .where('status', '=', 'claimed')
    .where('lease_token', '=', held.leaseToken)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}
