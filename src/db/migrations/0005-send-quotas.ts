import { sql, type Kysely } from 'kysely';

/**
 * Relay quotas (#13): messages per minute and per day across all workers, and a shared pause
 * when the relay says it is overloaded.
 * - `send_quota` counts sends per minute (`bucket = 'minute'`, `starts_at` the minute); the day's
 *   quota is the sum of the last 24 hours of minutes, a rolling window like Microsoft 365's. A
 *   row with `bucket = 'relay_pause'` holds back every worker until its `starts_at`.
 * - `deliveries.quota_deferred_until`: a row the quota carried to later. Lateness (late_grace)
 *   counts from then, so a wave bigger than a day's quota is sent on the next day, not missed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('send_quota')
    .addColumn('bucket', 'text', (c) => c.notNull().check(sql`bucket in ('minute', 'relay_pause')`))
    .addColumn('starts_at', 'timestamptz', (c) => c.notNull())
    .addColumn('sent', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('send_quota_pkey', ['bucket', 'starts_at'])
    .execute();
  await db.schema
    .alterTable('deliveries')
    .addColumn('quota_deferred_until', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('deliveries').dropColumn('quota_deferred_until').execute();
  await db.schema.dropTable('send_quota').execute();
}
