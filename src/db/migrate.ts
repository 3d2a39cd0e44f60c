import { Migrator, sql, type Kysely } from 'kysely';
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
  return new Migrator({
    db: db as Kysely<unknown>,
    provider: migrationProvider,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
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
  let raced = 0;
  for (;;) {
    const { error, results = [] } = await migrator.migrateUp();
    const failed = results.find((r) => r.status === 'Error');
    // Kysely looks for its bookkeeping table by listing the tables of every schema it may use;
    // a schema dropped meanwhile by someone else (another tenant, a parallel test) fails that
    // listing with 3F000 before anything ran. Looking again is safe.
    if (failed === undefined && isDroppedSchemaRace(error) && raced++ < 3) continue;
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

function isDroppedSchemaRace(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === '3F000';
}

/** Every known migration, with when it was applied (undefined: pending). */
export async function migrationStatus<DB>(db: Kysely<DB>): Promise<MigrationStatus[]> {
  const migrator = await migratorFor(db);
  const migrations = await migrator.getMigrations();
  return migrations.map((m) => ({ name: m.name, appliedAt: m.executedAt }));
}
