import { sql, type Kysely } from 'kysely';

// Frozen history, like 0001: value lists are written out here, not imported from schema.ts.

function oneOf(column: string, values: readonly string[]) {
  return sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;
}

const hows = [
  'one_click',
  'link_confirm',
  'mailto',
  'reply',
  'hard_bounce',
  'complaint',
  'by_hand',
] as const;

/**
 * The trainer's hands on the wheel and people's data rights (#14 §3, §4):
 *
 * - `suppressions.how` may be `erasure`: an erased person's no is kept as a keyed hash of their
 *   address (the row's `address` is then `hmac:<hex>`), so that a re-import is refused without
 *   keeping the address itself.
 * - `erasures`: the audit row of each erasure (who, when, why, what was removed), no address.
 * - `inbound_messages.raw_cleared_at`: raw bytes cleared by retention or an erasure. A held message
 *   may then be without its bytes (the constraint that kept them is relaxed accordingly).
 * - `trainer_alerts`: one row per working day of the trainer's alert, claimed under a lease like a
 *   digest, so that exactly one worker sends it.
 * - `housekeeping`: when each daily job (retention) last ran and what it did, for `gym status`;
 *   the conditional update of its row is how one worker a day wins the job.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table suppressions drop constraint suppressions_how`.execute(db);
  await db.schema
    .alterTable('suppressions')
    .addCheckConstraint('suppressions_how', oneOf('how', [...hows, 'erasure']))
    .execute();

  await db.schema
    .createTable('erasures')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('erased_at', 'timestamptz', (c) => c.notNull())
    .addColumn('erased_by', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('removed', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();

  await db.schema
    .alterTable('inbound_messages')
    .addColumn('raw_cleared_at', 'timestamptz')
    .execute();
  await sql`alter table inbound_messages drop constraint inbound_messages_parked_is_kept`.execute(
    db,
  );
  await db.schema
    .alterTable('inbound_messages')
    .addCheckConstraint(
      'inbound_messages_parked_is_kept',
      sql`status not in ('parked', 'quarantined') or (reason is not null and (raw is not null or raw_cleared_at is not null))`,
    )
    .execute();
  await db.schema
    .createIndex('inbound_messages_raw_kept')
    .on('inbound_messages')
    // Our clock, not the sender's Date header: retention counts from when we stored it.
    .column('created_at')
    .where(sql.ref('raw'), 'is not', null)
    .execute();

  await db.schema
    .createTable('trainer_alerts')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('day', 'date', (c) => c.notNull().unique())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('covers_from', 'timestamptz', (c) => c.notNull())
    .addColumn('covers_to', 'timestamptz', (c) => c.notNull())
    .addColumn('claimed_by', 'text')
    .addColumn('lease_until', 'timestamptz')
    .addColumn('lease_token', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('retry_at', 'timestamptz')
    .addColumn('message_id', 'text', (c) => c.unique())
    .addColumn('reason', 'text')
    .addColumn('items', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sent_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint(
      'trainer_alerts_status',
      oneOf('status', ['claimed', 'pending', 'sent', 'skipped', 'failed']),
    )
    .execute();

  await db.schema
    .createTable('housekeeping')
    .addColumn('job', 'text', (c) => c.primaryKey())
    .addColumn('last_run_at', 'timestamptz', (c) => c.notNull())
    .addColumn('outcome', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('housekeeping').execute();
  await db.schema.dropTable('trainer_alerts').execute();
  await db.schema.dropIndex('inbound_messages_raw_kept').execute();
  await sql`alter table inbound_messages drop constraint inbound_messages_parked_is_kept`.execute(
    db,
  );
  await db.schema
    .alterTable('inbound_messages')
    .addCheckConstraint(
      'inbound_messages_parked_is_kept',
      sql`status not in ('parked', 'quarantined') or (raw is not null and reason is not null)`,
    )
    .execute();
  await db.schema.alterTable('inbound_messages').dropColumn('raw_cleared_at').execute();
  await db.schema.dropTable('erasures').execute();
  await sql`alter table suppressions drop constraint suppressions_how`.execute(db);
  await db.schema
    .alterTable('suppressions')
    .addCheckConstraint('suppressions_how', oneOf('how', hows))
    .execute();
}
