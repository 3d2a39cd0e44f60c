import { sql, type Kysely } from 'kysely';

/**
 * Compiled templates are data (#17): the emails that belong to no programme (acknowledgements,
 * manager digests and introductions) as MJML made them, in every language preference, stored
 * once per set of layouts so that workers read them instead of loading and running MJML.
 * `layouts` is the digest of the `emails/` files they were compiled with, as in
 * `compiled_programmes`: after an upgrade that changes a layout, they are compiled again.
 * Not in `compiled_programmes`: they belong to no programme version, which keys that table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('compiled_layouts')
    .addColumn('layouts', 'text', (c) => c.notNull())
    .addColumn('format', 'integer', (c) => c.notNull())
    .addColumn('skeleton', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('compiled_layouts_pkey', ['layouts', 'format'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('compiled_layouts').execute();
}
