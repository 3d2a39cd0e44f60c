import type { Kysely } from 'kysely';
import type { Sequence } from '../sequence/schema.js';
import type { Database } from './schema.js';

/**
 * Reads a stored programme version, each once per process: versions never change once stored.
 * A failed read is not remembered, so the next call tries again.
 */
export function programmeVersions(
  db: Kysely<Database>,
  // Shared by the readers of several transactions: each reads through its own connection
  // (PGlite has only one), and all share what was read.
  programmes = new Map<number, Promise<Sequence>>(),
): (versionId: number) => Promise<Sequence> {
  return (versionId) => {
    let programme = programmes.get(versionId);
    if (programme === undefined) {
      programme = db
        .selectFrom('sequence_versions')
        .select('definition')
        .where('id', '=', versionId)
        .executeTakeFirstOrThrow()
        .then((row) => row.definition as Sequence);
      programme.catch(() => programmes.delete(versionId));
      programmes.set(versionId, programme);
    }
    return programme;
  };
}
