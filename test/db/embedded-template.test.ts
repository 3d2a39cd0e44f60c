import { PGlite } from '@electric-sql/pglite';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/database.js';
import {
  emptyDatabaseTemplate,
  installedPGliteVersion,
  templatePath,
  writeEmptyDatabase,
} from '../../src/db/embedded-template.js';
import { migrateToLatest } from '../../src/db/migrate.js';

/** What must be the same in a database PGlite's `initdb` makes and one made from the template. */
async function identity(pglite: PGlite) {
  const server = await pglite.query(
    'select version() as version, catalog_version_no, pg_control_version from pg_control_system()',
  );
  const databases = await pglite.query(
    'select datname, pg_encoding_to_char(encoding) as encoding, datcollate, datctype, datlocprovider' +
      ' from pg_database order by datname',
  );
  const roles = await pglite.query('select rolname, rolsuper from pg_roles order by rolname');
  return { server: server.rows, databases: databases.rows, roles: roles.rows };
}

describe('the empty embedded database shipped in db-template/', () => {
  it('is there for the installed PGlite', () => {
    // Upgrading @electric-sql/pglite without a new template makes every new embedded database
    // go through initdb again (713 MB on the first command, #16): write it and commit it.
    expect(
      existsSync(templatePath()),
      `no ${templatePath()} for @electric-sql/pglite ${installedPGliteVersion()}: run \`npm run db-template\` and commit the file`,
    ).toBe(true);
  });

  it('is the database the installed PGlite’s initdb makes', async () => {
    const made = await PGlite.create();
    const expected = await identity(made);
    await made.close();

    const loaded = await PGlite.create({ loadDataDir: emptyDatabaseTemplate() });
    try {
      expect(await identity(loaded)).toEqual(expected);
      // Nothing else in it: no tables of ours, nothing a dump of a used database would carry.
      const tables = await loaded.query(
        "select count(*)::int as count from pg_class where relnamespace = 'public'::regnamespace",
      );
      expect(tables.rows).toEqual([{ count: 0 }]);
    } finally {
      await loaded.close();
    }
  });

  it('fills a folder left half-written again, and opens it as a new database', async () => {
    // As if the first command had been killed while unpacking: PG_VERSION comes last, so the
    // folder is still new, and the next command unpacks again over what is there.
    const dataDir = join(mkdtempSync(join(tmpdir(), 'gym-template-')), 'db');
    expect(writeEmptyDatabase(dataDir)).toBe(true);
    rmSync(join(dataDir, 'PG_VERSION'));
    rmSync(join(dataDir, 'global'), { recursive: true });
    expect(readdirSync(dataDir)).not.toContain('global');

    const database = await createDatabase({ kind: 'pglite', dataDir });
    try {
      expect(await migrateToLatest(database.db)).toContain('0001-initial');
    } finally {
      await database.close();
    }
    expect(readdirSync(dataDir)).toEqual(expect.arrayContaining(['PG_VERSION', 'global']));
  });
});
