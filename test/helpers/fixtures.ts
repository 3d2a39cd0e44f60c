import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.js';

let counter = 0;

/** A learner enrolled on a one-version programme, ready to receive deliveries. */
export async function enrolledLearner(db: Kysely<Database>, name = `learner${++counter}`) {
  const learner = await db
    .insertInto('learners')
    .values({
      email: `${name}@example.gov.uk`,
      first_name: name,
      last_name: 'Test',
      time_zone: 'Europe/London',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('sequences')
    .values({ id: 'digital-foundations', title: 'Digital foundations' })
    .onConflict((oc) => oc.doNothing())
    .execute();
  const version = await db
    .insertInto('sequence_versions')
    .values({
      sequence_id: 'digital-foundations',
      content_hash: 'sha256-test',
      definition: JSON.stringify({ weeks: [] }),
    })
    .onConflict((oc) =>
      oc.columns(['sequence_id', 'content_hash']).doUpdateSet({ content_hash: 'sha256-test' }),
    )
    .returning('id')
    .executeTakeFirstOrThrow();
  const enrolment = await db
    .insertInto('enrolments')
    .values({ learner_id: learner.id, sequence_version_id: version.id, starts_on: '2027-01-04' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { learnerId: learner.id, versionId: version.id, enrolmentId: enrolment.id };
}

/** `count` pending deliveries for one enrolment, due one minute apart from `firstDue`. */
export async function pendingDeliveries(
  db: Kysely<Database>,
  enrolmentId: number,
  count: number,
  firstDue: Date,
): Promise<number[]> {
  const rows = Array.from({ length: count }, (_, i) => ({
    enrolment_id: enrolmentId,
    step_key: `step-${i}`,
    kind: 'email' as const,
    week: 1,
    due_at: new Date(firstDue.getTime() + i * 60_000),
    planned_local: '2027-01-04T09:00',
  }));
  const inserted = await db.insertInto('deliveries').values(rows).returning('id').execute();
  return inserted.map((r) => r.id);
}
