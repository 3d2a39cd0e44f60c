import type { Kysely } from 'kysely';

/**
 * Each worker's last tick (#13, `gym status`): when it last looked for due mail, on the database's
 * clock, what it sent and whether the tick failed. One row per worker name, overwritten each tick.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('worker_ticks')
    .addColumn('worker', 'text', (c) => c.primaryKey())
    .addColumn('last_tick_at', 'timestamptz', (c) => c.notNull())
    .addColumn('sent', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('worker_ticks').execute();
}
