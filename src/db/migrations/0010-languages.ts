import { sql, type Kysely } from 'kysely';

/**
 * Language preferences (#15): what each learner and manager asked for (`cy`, `en` or `cy+en`,
 * Welsh first), an organisation's default for people who did not say, and the languages each
 * enrolment gets, which is the learner's preference as far as the programme offers it. Everyone
 * enrolled before this gets English, which is what they were getting.
 */
const preference = (column: string) => sql`${sql.ref(column)} in ('cy', 'en', 'cy+en')`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('learners')
    .addColumn('language', 'text', (c) => c.notNull().defaultTo('en').check(preference('language')))
    .execute();
  await db.schema
    .alterTable('managers')
    .addColumn('language', 'text', (c) => c.notNull().defaultTo('en').check(preference('language')))
    .execute();
  await db.schema
    .alterTable('organisations')
    .addColumn('language', 'text', (c) => c.check(preference('language')))
    .execute();
  await db.schema
    .alterTable('enrolments')
    .addColumn('language', 'text', (c) => c.notNull().defaultTo('en').check(preference('language')))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['enrolments', 'organisations', 'managers', 'learners'])
    await db.schema.alterTable(table).dropColumn('language').execute();
}
