import { Migrator, sql, type DatabaseIntrospector, type Kysely, type TableMetadata } from 'kysely';
import { GymError, messageOf } from '../errors.js';
import { migrationProvider } from './migrations/index.js';

export interface MigrationStatus {
  readonly name: string;
  readonly appliedAt: Date | undefined;
}

/**
 * Kysely's Migrator, with its bookkeeping tables in the schema we are connected to (so that
 * several schemas of one database, as in the tests, never see each other's history).
 */
export async function migratorFor<DB>(db: Kysely<DB>): Promise<Migrator> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (schema === undefined)
    return new Migrator({ db: db as Kysely<unknown>, provider: migrationProvider });
  return new Migrator({
    db: withIntrospectionOf(db as Kysely<unknown>, schema),
    provider: migrationProvider,
    migrationTableSchema: schema,
  });
}

/**
 * `db`, except that looking for tables sees only `schema`. The Migrator asks only whether its
 * own schema and two tables exist, but Kysely's introspector answers by listing every column of
 * every schema on the server and looking each table up by name: slow on a server with many
 * tenants, and failing (42P01, 3F000) when another tenant drops a table or schema in between, as
 * parallel tests do all the time.
 */
function withIntrospectionOf(db: Kysely<unknown>, schema: string): Kysely<unknown> {
  const introspection: DatabaseIntrospector = {
    async getSchemas() {
      const { rows } = await sql<{ name: string }>`
        select nspname as name from pg_catalog.pg_namespace where nspname = ${schema}`.execute(db);
      return rows;
    },
    async getTables() {
      const { rows } = await sql<{ name: string; schema: string }>`
        select tablename as name, schemaname as schema from pg_catalog.pg_tables
        where schemaname = ${schema}`.execute(db);
      return rows.map((row): TableMetadata => ({ ...row, isView: false, columns: [] }));
    },
    async getMetadata() {
      return { tables: await this.getTables() };
    },
  };
  return new Proxy(db, {
    get(target, property) {
      if (property === 'introspection') return introspection;
      const value: unknown = Reflect.get(target, property, target);
      // Kysely's methods read private fields, so they must run on the real instance.
      return typeof value === 'function' ? (value.bind(target) as unknown) : value;
    },
  });
}

/**
 * Applies pending migrations one at a time, each in its own transaction under the migration
 * lock (a PostgreSQL advisory lock), so two processes starting together both succeed: one
 * applies, the other finds nothing left to do. Calls `onApplied` after each one commits.
 *
 * @returns the names applied, in order; empty when the database was already up to date.
 */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  onApplied: (name: string) => void = () => {},
): Promise<string[]> {
  const migrator = await migratorFor(db);
  const applied: string[] = [];
  for (;;) {
    const { error, results = [] } = await migrator.migrateUp();
    const failed = results.find((r) => r.status === 'Error');
    if (error !== undefined || failed) {
      const name = failed?.migrationName ?? '(before any migration ran)';
      throw new GymError(
        'MIGRATION_FAILED',
        `migration ${name} failed and was rolled back: ${messageOf(error)}`,
        { migration: name, applied },
        { cause: error },
      );
    }
    const done = results.filter((r) => r.status === 'Success');
    if (done.length === 0) return applied;
    for (const result of done) {
      applied.push(result.migrationName);
      onApplied(result.migrationName);
    }
  }
}

/** Every known migration, with when it was applied (undefined: pending). */
export async function migrationStatus<DB>(db: Kysely<DB>): Promise<MigrationStatus[]> {
  const migrator = await migratorFor(db);
  const migrations = await migrator.getMigrations();
  return migrations.map((m) => ({ name: m.name, appliedAt: m.executedAt }));
}
