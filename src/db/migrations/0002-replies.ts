import { sql, type Kysely } from 'kysely';

// Frozen history, like 0001: value lists are written out here, not imported from schema.ts.

function oneOf(column: string, values: readonly string[]) {
  return sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;
}

/**
 * Replies (#5): an acknowledgement is a delivery like any other (claimed, sent once, retried,
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
}

export async function down(db: Kysely<unknown>): Promise<void> {
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
