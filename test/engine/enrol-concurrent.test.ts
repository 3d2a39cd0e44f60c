import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { readCohortCsv } from '../../src/enrol/cohort-csv.js';
import { enrolCohort, type ProgrammeVersion } from '../../src/engine/enrol.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import { openMigrated, postgresBackend } from '../helpers/backends.js';
import { describeWithServers } from '../helpers/servers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const programmes: ProgrammeVersion[] = loadSequenceFiles(['sequences'], root).flatMap((r) =>
  r.ok ? [{ sequence: r.sequence, hash: r.hash }] : [],
);
const header =
  'email,first_name,last_name,time_zone,role,organisation,manager_email,manager_name,start_date';

/**
 * A cohort of `learners` people of `prefix`, whose managers (shared with the other cohort) come
 * in the order given: two files that list the same managers in opposite orders lock the same
 * rows in opposite orders.
 */
function cohort(prefix: string, managers: readonly number[], learners: number) {
  const lines = [header];
  for (let i = 0; i < learners; i++) {
    const m = managers[i % managers.length]!;
    lines.push(
      `${prefix}.${i}@example.gov.uk,Learner,${prefix}${i},Europe/London,press-officer,Home Office,manager.${m}@example.gov.uk,Manager ${m},2027-01-04`,
    );
  }
  const read = readCohortCsv(`${lines.join('\n')}\n`, `${prefix}.csv`, {
    now: new Date('2026-12-01T12:00:00Z'),
  });
  expect(read.problems).toEqual([]);
  return read.rows;
}

// PGlite has one connection: two enrols there are one after the other by construction.
describeWithServers(['postgres'], 'Two enrols at once on PostgreSQL', () => {
  const backend = postgresBackend();
  {
    it('Two enrols at once that share managers both finish, each learner enrolled once', async () => {
      const database = await openMigrated(backend);
      const other = await database.connectAgain();
      try {
        const managers = Array.from({ length: 40 }, (_, i) => i);
        const forward = cohort('north', managers, 120);
        const backward = cohort('south', [...managers].reverse(), 120);
        const options = { dryRun: false, holidays: new Set<string>() };
        const [a, b] = await Promise.all([
          enrolCohort(enrolmentStore(database.db), forward, programmes, options),
          enrolCohort(enrolmentStore(other.db), backward, programmes, options),
        ]);
        expect(a.every((r) => r.action === 'enrolled')).toBe(true);
        expect(b.every((r) => r.action === 'enrolled')).toBe(true);
        const count = async (table: 'learners' | 'managers' | 'enrolments') =>
          Number(
            (
              await database.db
                .selectFrom(table)
                .select((eb) => eb.fn.countAll().as('n'))
                .executeTakeFirstOrThrow()
            ).n,
          );
        expect(await count('learners')).toBe(240);
        expect(await count('enrolments')).toBe(240);
        expect(await count('managers')).toBe(40);
      } finally {
        await other.close();
        await database.close();
      }
    }, 240_000);
  }
});
