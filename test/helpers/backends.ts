import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { createDatabase, type DatabaseConfig, type GymDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { requireRealServers } from './servers.js';

/**
 * The storage backends every storage suite runs over: PGlite always, and a real PostgreSQL when
 * TEST_DATABASE_URL is set. With GYM_REQUIRE_REAL_SERVERS=1 (CI), a missing PostgreSQL fails the
 * run instead of quietly testing one backend.
 */
export interface TestBackend {
  readonly name: 'pglite' | 'postgres';
  /** True when the backend has more than one connection (PGlite has one). */
  readonly concurrent: boolean;
  /** A fresh, empty database of its own (for PostgreSQL: a new schema). */
  open(): Promise<TestDatabase>;
}

export interface TestDatabase extends GymDatabase {
  readonly config: DatabaseConfig;
  /** For PostgreSQL, a DATABASE_URL that lands in this test's schema (for child processes). */
  readonly url: string | undefined;
  /** Another connection to the same database (PGlite: the same one, it has only one). */
  connectAgain(): Promise<GymDatabase>;
}

const pglite: TestBackend = {
  name: 'pglite',
  concurrent: false,
  async open() {
    const config: DatabaseConfig = { kind: 'pglite', dataDir: 'memory://' };
    const database = await createDatabase(config);
    return {
      ...database,
      config,
      url: undefined,
      connectAgain: () => Promise.resolve({ ...database, close: async () => {} }),
    };
  },
};

/** `url` with its connections' search_path set to `schema`. */
function urlWithSchema(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}

function postgres(adminUrl: string | undefined): TestBackend {
  return {
    name: 'postgres',
    concurrent: true,
    async open() {
      if (adminUrl === undefined) {
        throw new Error(
          'GYM_REQUIRE_REAL_SERVERS=1 but TEST_DATABASE_URL is not set: point it at a PostgreSQL ' +
            'server (e.g. postgres://root@127.0.0.1:5432/test) or run the tests through .ci/run',
        );
      }
      const schema = `gym_test_${randomBytes(5).toString('hex')}`;
      const admin = await createDatabase({ kind: 'postgres', url: adminUrl, poolSize: 1 });
      await sql`create schema ${sql.id(schema)}`.execute(admin.db);
      const url = urlWithSchema(adminUrl, schema);
      const config: DatabaseConfig = { kind: 'postgres', url };
      const database = await createDatabase(config);
      return {
        ...database,
        config,
        url,
        connectAgain: () => createDatabase(config),
        async close() {
          await database.close();
          // Kept for inspection when KEEP_TEST_SCHEMAS is set.
          if (!process.env.KEEP_TEST_SCHEMAS)
            await sql`drop schema ${sql.id(schema)} cascade`.execute(admin.db);
          await admin.close();
        },
      };
    },
  };
}

/**
 * The real PostgreSQL alone, for suites that need several processes on one database: run them
 * with describeWithServers(['postgres'], ...) (servers.ts), which leaves them out where there is
 * no TEST_DATABASE_URL, and fails them in CI.
 */
export function postgresBackend(): TestBackend {
  return postgres(process.env.TEST_DATABASE_URL);
}

export function testBackends(): TestBackend[] {
  const url = process.env.TEST_DATABASE_URL;
  if (url === undefined && !requireRealServers()) return [pglite];
  return [pglite, postgres(url)];
}

/** Opens a fresh database on `backend` and migrates it to the latest schema. */
export async function openMigrated(backend: TestBackend): Promise<TestDatabase> {
  const database = await backend.open();
  await migrateToLatest(database.db);
  return database;
}
