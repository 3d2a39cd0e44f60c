import { PGlite } from '@electric-sql/pglite';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/**
 * A new embedded database starts as a copy of an empty one that ships with Digital Gym, so that
 * PGlite never runs `initdb` on a user's machine. Its `initdb` starts a second PostgreSQL and a
 * third WebAssembly program beside the first, and the first command on a fresh `.gym/db` peaked
 * at 713 MB resident for that alone, where every later command needs about 200 MB (#16 enrol
 * memory). Unpacking the copy into the new folder is what PGlite itself does with what its
 * `initdb` made (it untars a dump of it there), without making it.
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

/** The template for the installed PGlite, gzipped; undefined when there is none for it. */
function templateBytes(): Buffer | undefined {
  try {
    return readFileSync(templatePath());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The empty database for PGlite's `loadDataDir` option, for a database in memory; undefined
 * without a template for the installed PGlite.
 */
export function emptyDatabaseTemplate(): Blob | undefined {
  const bytes = templateBytes();
  // PGlite gunzips what it is told is gzip (by type or by a `.tar.gz` file name).
  return bytes === undefined ? undefined : new Blob([bytes], { type: 'application/gzip' });
}

/**
 * Writes the empty database's files into the folder `dataDir`, where PGlite will find a database
 * and open it. False, writing nothing, without a template for the installed PGlite.
 *
 * Not through `loadDataDir`: PGlite copies the archive four times over on its way into the
 * folder, and the first command on a new database peaked at 290 MB with it, 221 MB without:
 * here the 40 MB archive is unpacked before PGlite starts, and freed.
 * PG_VERSION is written last: a folder with it holds a database for PGlite (and for
 * openPGlite), so one cut short before the end is filled again next time, not opened half-made.
 */
export function writeEmptyDatabase(dataDir: string): boolean {
  const bytes = templateBytes();
  if (bytes === undefined) return false;
  const archive = gunzipSync(bytes);
  const root = resolve(dataDir);
  let marker: { path: string; data: Buffer; mode: number } | undefined;
  // A tar archive (ustar, as PGlite's dumpDataDir writes it): a 512-byte header per entry, its
  // data padded to 512 bytes, and blocks of zeros at the end.
  for (let at = 0; at + 512 <= archive.length;) {
    const header = archive.subarray(at, at + 512);
    const name = text(header, 345, 155) + text(header, 0, 100);
    if (name === '') break;
    const mode = Number.parseInt(text(header, 100, 8), 8) & 0o777;
    const size = Number.parseInt(text(header, 124, 12), 8);
    const type = String.fromCharCode(header[156] ?? 0);
    const data = archive.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;

    const path = resolve(root, `.${name.startsWith('/') ? '' : '/'}${name}`);
    if (!path.startsWith(`${root}/`))
      throw new Error(`${templatePath()}: entry ${name} is outside the data folder`);
    if (type === '5') {
      mkdirSync(path, { recursive: true, mode });
    } else if (type === '0' || type === '\0') {
      if (path === join(root, 'PG_VERSION')) {
        marker = { path, data, mode };
        continue;
      }
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, data, { mode });
    }
  }
  if (marker === undefined) throw new Error(`${templatePath()} has no PG_VERSION`);
  writeFileSync(marker.path, marker.data, { mode: marker.mode });
  return true;
}

/** A NUL-terminated text field of a tar header. */
function text(header: Buffer, offset: number, length: number): string {
  const field = header.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field
    .subarray(0, end === -1 ? length : end)
    .toString('utf8')
    .trim();
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
