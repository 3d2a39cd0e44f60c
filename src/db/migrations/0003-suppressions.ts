import { sql, type Kysely } from 'kysely';

// Frozen history, like 0001: value lists are written out here, not imported from schema.ts.

function oneOf(column: string, values: readonly string[]) {
  return sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;
}

/**
 * Consent (#11): an opt-out is a fact about a person, not about an enrolment. Every "no" writes a
 * row here, keyed by the normalised address; enrolment and the dispatcher read it. A row is never
 * deleted: `gym learner resubscribe` lifts it (who, when, why), and a lifted row is history.
 *
 * scope: `all` (no mail from us at all), `digests` (a manager's digests only), or
 * `programme:<id>` (the person stopped that programme: it is never started for them again).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('suppressions')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('organisation_id', 'text', (c) =>
      c.references('organisations.id').onDelete('set null'),
    )
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('how', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('lifted_at', 'timestamptz')
    .addColumn('lifted_by', 'text')
    .addColumn('lifted_reason', 'text')
    .addCheckConstraint('suppressions_address_is_normalised', sql`address = lower(btrim(address))`)
    .addCheckConstraint(
      'suppressions_scope',
      sql`scope in ('all', 'digests') or scope ~ '^programme:[a-z0-9][a-z0-9-]*$'`,
    )
    .addCheckConstraint(
      'suppressions_how',
      oneOf('how', [
        'one_click',
        'link_confirm',
        'mailto',
        'reply',
        'hard_bounce',
        'complaint',
        'by_hand',
      ]),
    )
    .addCheckConstraint(
      'suppressions_lifted_says_who_and_why',
      sql`lifted_at is null or (lifted_by is not null and lifted_reason is not null)`,
    )
    .execute();
  // At most one active row per address and scope: saying no twice keeps the first no's date.
  await sql`create unique index suppressions_active on suppressions (address, scope) where lifted_at is null`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('suppressions').execute();
}
