import type { Kysely } from 'kysely';

/**
 * Fencing tokens for leases (#11 §5). Every claim of a delivery or a digest bumps `lease_token`;
 * the holder keeps the value it claimed with, and each renewal, check before sending and
 * settlement is conditional on it. A holder whose lease ran out and whose row another worker
 * took (a paused VM, a stalled process) therefore can neither send the row nor overwrite what
 * the new holder records, even when both workers carry the same name (a restarted `--worker a`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of ['deliveries', 'manager_digests'])
    await db.schema
      .alterTable(table)
      .addColumn('lease_token', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['deliveries', 'manager_digests'])
    await db.schema.alterTable(table).dropColumn('lease_token').execute();
}
