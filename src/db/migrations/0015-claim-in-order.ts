import { sql, type Kysely } from 'kysely';

/**
 * The claim takes due rows in the order they fall due (#17). The index on the due time alone
 * left every claim to fetch and sort all the rows due, to keep 100: at one instant, a wave's
 * whole cohort. In the claim's own order (due time, then planned time, then id), a claim reads
 * its 100 rows from the index and stops, whatever the size of the wave.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('deliveries_pending_in_order')
    .on('deliveries')
    .expression(sql`coalesce(retry_at, due_at), due_at, id`)
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  await db.schema.dropIndex('deliveries_pending_by_time').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('deliveries_pending_by_time')
    .on('deliveries')
    .expression(sql`coalesce(retry_at, due_at)`)
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  await db.schema.dropIndex('deliveries_pending_in_order').execute();
}
