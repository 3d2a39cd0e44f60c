import { PGlite } from '@electric-sql/pglite';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A new embedded database starts as a copy of an empty one that ships with Digital Gym, so that
 * PGlite never runs `initdb` on a user's machine. Its `initdb` starts a second PostgreSQL and a
 * third WebAssembly program beside the first, and the first command on a fresh `.gym/db` peaked
 * at 713 MB resident for that alone, where every later command needs about 200 MB (#16 enrol
 * memory). Loading the copy is what PGlite itself does with what its `initdb` made (it untars a
 * dump of it into the new folder), without making it.
 *
 * The copy belongs to one PGlite release, whose version is in its name: another release may
 * bring another PostgreSQL, whose files it cannot read. Without the copy for the installed
 * release, a new database is made by `initdb` as before (it works, and peaks once); a test fails
 * until `npm run db-template` writes the copy for the new release.
 */
const templateFolder = fileURLToPath(new URL('../../db-template/', import.meta.url));

/** `db-template/pglite-0.5.17.tar.gz`: PGlite's `dumpDataDir('gzip')` of an empty database. */
export function templatePath(version = installedPGliteVersion()): string {
  return join(templateFolder, `pglite-${version}.tar.gz`);
}

/** The installed `@electric-sql/pglite` version (its exports hide package.json from `import`). */
export function installedPGliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const manifest = join(dirname(entry), '..', 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/**
 * The empty database for the installed PGlite, for its `loadDataDir` option; undefined when this
 * copy of Digital Gym has none for it.
 */
export function emptyDatabaseTemplate(): Blob | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(templatePath());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // PGlite gunzips what it is told is gzip (by type or by a `.tar.gz` file name).
  return new Blob([bytes], { type: 'application/gzip' });
}

/**
 * Makes the empty database with the installed PGlite's own `initdb` and writes it as the
 * template, replacing those of other releases. `npm run db-template`.
 */
export async function writeEmptyDatabaseTemplate(): Promise<string> {
  const pglite = await PGlite.create();
  try {
    // The dump is a copy of the files as they are: a checkpoint first puts everything `initdb`
    // and the start wrote into the data files, so that the copy needs no recovery when it opens.
    await pglite.exec('CHECKPOINT');
    const dump = await pglite.dumpDataDir('gzip');
    const path = templatePath();
    mkdirSync(templateFolder, { recursive: true });
    for (const old of readdirSync(templateFolder)) {
      if (old.startsWith('pglite-') && join(templateFolder, old) !== path)
        rmSync(join(templateFolder, old));
    }
    writeFileSync(path, Buffer.from(await dump.arrayBuffer()));
    return path;
  } finally {
    await pglite.close();
  }
}
