import { sql, type Kysely } from 'kysely';

/**
 * Compiled templates are data (#17): a programme version's emails as MJML made them, stored
 * once per (version, language preference, layouts), so that workers read them instead of
 * loading and running MJML. `layouts` is the digest of the `emails/` files they were compiled
 * with: after an upgrade that changes a layout, a version is compiled again, not sent as before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('compiled_programmes')
    .addColumn('version_id', 'integer', (c) =>
      c.notNull().references('sequence_versions.id').onDelete('cascade'),
    )
    .addColumn('language', 'text', (c) => c.notNull().check(sql`language in ('cy', 'en', 'cy+en')`))
    .addColumn('layouts', 'text', (c) => c.notNull())
    .addColumn('format', 'integer', (c) => c.notNull())
    .addColumn('skeleton', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('compiled_programmes_pkey', [
      'version_id',
      'language',
      'layouts',
      'format',
    ])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('compiled_programmes').execute();
}
