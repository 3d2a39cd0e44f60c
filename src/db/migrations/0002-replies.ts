import { sql, type Kysely } from 'kysely';

// Frozen history, like 0001: value lists are written out here, not imported from schema.ts.

function oneOf(column: string, values: readonly string[]) {
  return sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;
}

/**
 * Replies (#5) and managers (#6). An acknowledgement is a delivery like any other (claimed, sent once, retried,
 * with a Message-ID that a further reply threads back to), carrying what it says in `payload`.
 * A trainer can discard held mail from `gym inbox`; it is kept, marked `discarded`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table deliveries drop constraint deliveries_kind`.execute(db);
  await db.schema
    .alterTable('deliveries')
    .addCheckConstraint('deliveries_kind', oneOf('kind', ['email', 'invite', 'acknowledgement']))
    .execute();
  await db.schema.alterTable('deliveries').addColumn('payload', 'jsonb').execute();
  await db.schema
    .alterTable('deliveries')
    .addCheckConstraint(
      'deliveries_acknowledgement_has_payload',
      sql`kind <> 'acknowledgement' or payload is not null`,
    )
    .execute();

  await sql`alter table inbound_messages drop constraint inbound_messages_status`.execute(db);
  await db.schema
    .alterTable('inbound_messages')
    .addCheckConstraint(
      'inbound_messages_status',
      oneOf('status', ['received', 'processed', 'parked', 'quarantined', 'discarded']),
    )
    .execute();
  // What the reader understood, so `gym inbox` and reports need not parse the raw mail again.
  await db.schema.alterTable('inbound_messages').addColumn('summary', 'jsonb').execute();
  // A reply is placed by its learner: every enrolment of theirs, open or not (the partial index
  // of 0001 serves only the open one).
  await db.schema
    .createIndex('enrolments_by_learner')
    .on('enrolments')
    .column('learner_id')
    .execute();

  // A digest is claimed like a delivery: the worker that inserts the fortnight's row holds it
  // under a lease; a dead worker's row is reclaimed when the lease runs out; 4xx retries later.
  await db.schema
    .alterTable('manager_digests')
    .addColumn('claimed_by', 'text')
    .addColumn('lease_until', 'timestamptz')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('retry_at', 'timestamptz')
    .addColumn('reason', 'text')
    .addColumn('learners', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('manager_digests')
    .addCheckConstraint(
      'manager_digests_claimed_has_lease',
      sql`status <> 'claimed' or (claimed_by is not null and lease_until is not null)`,
    )
    .execute();

  // A manager's answer to a digest ("I've talked to Sam"): engagement, counted in reports.
  await db.schema
    .createTable('manager_replies')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('manager_id', 'integer', (c) =>
      c.notNull().references('managers.id').onDelete('cascade'),
    )
    .addColumn('inbound_message_id', 'integer', (c) =>
      c.notNull().unique().references('inbound_messages.id'),
    )
    .addColumn('digest_id', 'integer', (c) =>
      c.references('manager_digests.id').onDelete('set null'),
    )
    .addColumn('learner_id', 'integer', (c) => c.references('learners.id').onDelete('set null'))
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('manager_replies_action', oneOf('action', ['talked', 'helped', 'note']))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('enrolments_by_learner').execute();
  await db.schema.dropTable('manager_replies').execute();
  await db.schema
    .alterTable('manager_digests')
    .dropConstraint('manager_digests_claimed_has_lease')
    .execute();
  for (const column of ['claimed_by', 'lease_until', 'attempts', 'retry_at', 'reason', 'learners'])
    await db.schema.alterTable('manager_digests').dropColumn(column).execute();
  await db.schema.alterTable('inbound_messages').dropColumn('summary').execute();
  await sql`alter table inbound_messages drop constraint inbound_messages_status`.execute(db);
  await db.schema
    .alterTable('inbound_messages')
    .addCheckConstraint(
      'inbound_messages_status',
      oneOf('status', ['received', 'processed', 'parked', 'quarantined']),
    )
    .execute();
  await db.schema
    .alterTable('deliveries')
    .dropConstraint('deliveries_acknowledgement_has_payload')
    .execute();
  await db.schema.alterTable('deliveries').dropColumn('payload').execute();
  await sql`alter table deliveries drop constraint deliveries_kind`.execute(db);
  await db.schema
    .alterTable('deliveries')
    .addCheckConstraint('deliveries_kind', oneOf('kind', ['email', 'invite']))
    .execute();
}
