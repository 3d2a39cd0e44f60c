import { sql, type Kysely } from 'kysely';

// Frozen history, like 0001: value lists are written out here, not imported from schema.ts.

function oneOf(column: string, values: readonly string[]) {
  return sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;
}

const before = [
  'done',
  'too_hard',
  'pause',
  'resume',
  'skip',
  'stop',
  'help',
  'rating',
  'reflection',
  'empty',
  'rsvp',
];

/**
 * Intake by email (#14 §2): a progress event `intake` records a learner's answers to the welcome
 * email's questions, the profile they changed, and whether the matcher moved them to another
 * programme (from, to, why), so that `gym learner show` can say so.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table progress_events drop constraint progress_events_kind`.execute(db);
  await db.schema
    .alterTable('progress_events')
    .addCheckConstraint('progress_events_kind', oneOf('kind', [...before, 'intake']))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from progress_events where kind = 'intake'`.execute(db);
  await sql`alter table progress_events drop constraint progress_events_kind`.execute(db);
  await db.schema
    .alterTable('progress_events')
    .addCheckConstraint('progress_events_kind', oneOf('kind', before))
    .execute();
}
