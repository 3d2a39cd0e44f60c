import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { GymError, messageOf } from '../errors.js';
import { lockDataDirectory } from './embedded-lock.js';
import { emptyDatabaseTemplate, writeEmptyDatabase } from './embedded-template.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { Database } from './schema.js';

/** Where the data lives: a PostgreSQL server, or the embedded PGlite (a folder, or in memory). */
export type DatabaseConfig =
  | {
      readonly kind: 'postgres';
      readonly url: string;
      /** Connections in the pool. */
      readonly poolSize?: number;
    }
  | {
      readonly kind: 'pglite';
      /** A folder such as `.gym/db`, or `memory://` for a throwaway database. */
      readonly dataDir: string;
    };

export interface GymDatabase {
  readonly db: Kysely<Database>;
  readonly kind: DatabaseConfig['kind'];
  /** Where it is, for messages: `postgres://host:5432/db` (no password) or the PGlite folder. */
  readonly location: string;
  close(): Promise<void>;
}

/** The embedded default: `<dataDir>/db`, unless DATABASE_URL names a server. */
export function databaseConfigFor(config: {
  databaseUrl: string | undefined;
  dataDir: string;
}): DatabaseConfig {
  return config.databaseUrl === undefined
    ? { kind: 'pglite', dataDir: join(config.dataDir, 'db') }
    : { kind: 'postgres', url: config.databaseUrl };
}

// Both backends read values the same way: bigint counts as numbers (our ids and counts stay far
// below 2^53), numeric as strings, and `date` as the calendar day it is ('2027-01-04') rather
// than a Date at midnight in whatever zone the server runs in.
const INT8 = 20;
const DATE = 1082;
const NUMERIC = 1700;

function parseSafeInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`integer ${text} is beyond 2^53`);
  return value;
}

const parsers: Record<number, (text: string) => unknown> = {
  [INT8]: parseSafeInteger,
  [DATE]: (text) => text,
  [NUMERIC]: (text) => text,
};

/**
 * Opens the database. Both backends run the same SQL and the same migrations.
 *
 * @example
 *   const { db, close } = await createDatabase({ kind: 'pglite', dataDir: 'memory://' });
 */
export async function createDatabase(config: DatabaseConfig): Promise<GymDatabase> {
  return config.kind === 'postgres' ? openPostgres(config) : openPGlite(config.dataDir);
}

async function openPostgres(
  config: Extract<DatabaseConfig, { kind: 'postgres' }>,
): Promise<GymDatabase> {
  const location = redactedUrl(config.url);
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize ?? 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        parsers[oid] ??
        (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser,
    },
  });
  // A client that loses its server (a restart) must not crash the process. The pool's listener
  // covers idle clients only: pg-pool takes it off a client while it is checked out (between the
  // statements of a transaction, say), when a server's goodbye would be an unhandled 'error'.
  // The query in progress fails on its own; the pool drops the client; the next tick reconnects.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
  } catch (cause) {
    await db.destroy();
    throw new GymError(
      'DATABASE_UNREACHABLE',
      `cannot connect to PostgreSQL at ${location}: ${messageOf(cause) || (cause as { code?: string }).code}; ` +
        'check that the server is running and that DATABASE_URL is right',
      { location },
      { cause },
    );
  }
  return { db, kind: 'postgres', location, close: () => db.destroy() };
}

/**
 * The embedded database's buffer cache. PostgreSQL's 128 MB default is touched as soon as the
 * WebAssembly instance starts, and is most of what a `gym` command costs in memory; the embedded
 * database serves one organisation's demo or pilot, and large installations use PostgreSQL.
 * Measured on `gym enrol --dry-run` of 10 rows: 441 MB resident with 128MB, 309 MB with 16MB.
 */
const embeddedSharedBuffers = '16MB';

/**
 * PGlite is PostgreSQL compiled to 9 MB of WebAssembly. V8 compiles it quickly (Liftoff), then
 * again, optimised, in the background (TurboFan), which holds about 95 MB more for a command that
 * mostly waits on a few queries, and doubles its start-up (a 10-row `gym enrol --dry-run`: 294 MB
 * and 3.9 s, against 198 MB and 1.8 s with Liftoff only). The flag only changes how WebAssembly
 * compiled after it is compiled, and PGlite is the only WebAssembly we load.
 */
let liftoffOnly = false;
function compileWebAssemblyOnce(): void {
  if (liftoffOnly) return;
  setFlagsFromString('--liftoff-only');
  liftoffOnly = true;
}

async function openPGlite(dataDir: string): Promise<GymDatabase> {
  compileWebAssemblyOnce();
  const inMemory = dataDir.startsWith('memory://');
  const unlock = inMemory ? async () => {} : await lockDataDirectory(dataDir);
  try {
    // A new database starts as the shipped empty one rather than by PGlite's `initdb`, which
    // peaked at 713 MB on the first command (#16). A folder without PG_VERSION holds no
    // database yet (perhaps only our lock). Without a template, PGlite runs `initdb` as before.
    if (!inMemory && !existsSync(join(dataDir, 'PG_VERSION'))) writeEmptyDatabase(dataDir);
    const pglite = await PGlite.create(inMemory ? undefined : dataDir, {
      loadDataDir: inMemory ? emptyDatabaseTemplate() : undefined,
      parsers,
      startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${embeddedSharedBuffers}`],
    });
    const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
    return {
      db,
      kind: 'pglite',
      location: inMemory ? 'in memory' : dataDir,
      close: async () => {
        await db.destroy();
        await pglite.close();
        await unlock();
      },
    };
  } catch (cause) {
    await unlock();
    throw new GymError(
      'DATABASE_UNREACHABLE',
      `cannot open the embedded database in ${dataDir}: ${messageOf(cause)}; ` +
        'move the folder aside to start afresh, or set DATABASE_URL',
      { dataDir },
      { cause },
    );
  }
}

function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
