import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/migrate.js';
import { testBackends } from '../helpers/backends.js';

// Another tenant of the same PostgreSQL (a parallel test in CI) creating and dropping its tables
// while we migrate: Kysely's look for its bookkeeping table lists every schema's tables and then
// looks each one up by name, so a table dropped in between failed our migration with 42P01.
// PostgreSQL only: PGlite is one database of one tenant.
const postgres = testBackends().find((backend) => backend.name === 'postgres');

describe.skipIf(postgres === undefined)(
  'migrating while another schema comes and goes on PostgreSQL',
  () => {
    const backend = postgres!;
    it('applies every migration however often the other schema is dropped', async () => {
      const other = await backend.open();
      const churned = `churn_${Date.now().toString(36)}`;
      let stop = false;
      let drops = 0;
      const churn = (async () => {
        while (!stop) {
          await sql`create schema ${sql.id(churned)}`.execute(other.db);
          await sql`create table ${sql.id(churned, 't')} (a serial, b serial, c serial)`.execute(
            other.db,
          );
          await sql`drop schema ${sql.id(churned)} cascade`.execute(other.db);
          drops += 1;
        }
      })();
      try {
        for (let round = 0; round < 6; round += 1) {
          const database = await backend.open();
          try {
            const applied = await migrateToLatest(database.db);
            expect(applied.length).toBeGreaterThan(5);
          } finally {
            await database.close();
          }
        }
      } finally {
        stop = true;
        await churn;
        await other.close();
      }
      expect(drops).toBeGreaterThan(0);
    }, 120_000);
  },
);
