import { sql, type Kysely } from 'kysely';

// Frozen history, like 0001: value lists are written out here, not imported from schema.ts.

function oneOf(column: string, values: readonly string[]) {
  return sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;
}

/**
 * The journey around the twelve weeks (#14 §1).
 * - `deliveries.kind` gains `welcome` and `programme_end`: both are rows of the plan, claimed,
 *   leased, budgeted and suppressed like every step, and unique per enrolment by their step key.
 * - `manager_introductions`: one introduction per manager, before their first digest, claimed
 *   under a lease fenced by `lease_token` as digests are.
 * - `organisations.time_zone`: the zone a manager without one of their own is given (#14 §3).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table deliveries drop constraint deliveries_kind`.execute(db);
  await db.schema
    .alterTable('deliveries')
    .addCheckConstraint(
      'deliveries_kind',
      oneOf('kind', ['email', 'invite', 'acknowledgement', 'welcome', 'programme_end']),
    )
    .execute();

  await db.schema.alterTable('organisations').addColumn('time_zone', 'text').execute();

  await db.schema
    .createTable('manager_introductions')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    // One per manager, whichever worker gets there first.
    .addColumn('manager_id', 'integer', (c) =>
      c.notNull().unique().references('managers.id').onDelete('cascade'),
    )
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('claimed'))
    .addColumn('message_id', 'text', (c) => c.unique())
    .addColumn('sent_at', 'timestamptz')
    .addColumn('claimed_by', 'text')
    .addColumn('lease_until', 'timestamptz')
    .addColumn('lease_token', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('retry_at', 'timestamptz')
    .addColumn('reason', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint(
      'manager_introductions_status',
      oneOf('status', ['pending', 'claimed', 'sent', 'skipped', 'failed']),
    )
    .addCheckConstraint(
      'manager_introductions_sent_has_message',
      sql`status <> 'sent' or (sent_at is not null and message_id is not null)`,
    )
    .addCheckConstraint(
      'manager_introductions_claimed_has_lease',
      sql`status <> 'claimed' or (claimed_by is not null and lease_until is not null)`,
    )
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('manager_introductions').execute();
  await db.schema.alterTable('organisations').dropColumn('time_zone').execute();
  await sql`delete from deliveries where kind in ('welcome', 'programme_end')`.execute(db);
  await sql`alter table deliveries drop constraint deliveries_kind`.execute(db);
  await db.schema
    .alterTable('deliveries')
    .addCheckConstraint('deliveries_kind', oneOf('kind', ['email', 'invite', 'acknowledgement']))
    .execute();
}
