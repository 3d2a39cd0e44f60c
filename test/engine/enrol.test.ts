import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { readCohortCsv, type CohortRow } from '../../src/enrol/cohort-csv.js';
import { enrolCohort, type EnrolmentStore, type ProgrammeVersion } from '../../src/engine/enrol.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const programmes: ProgrammeVersion[] = loadSequenceFiles(['sequences'], root).flatMap((r) =>
  r.ok ? [{ sequence: r.sequence, hash: r.hash }] : [],
);
const cohortFile = 'test/fixtures/cohorts/example.csv';
const { rows, problems } = readCohortCsv(
  readFileSync(`${root}/${cohortFile}`, 'utf8'),
  cohortFile,
  {
    now: new Date('2026-12-01T12:00:00Z'),
  },
);
const stepsOf = (id: string) =>
  programmes
    .find((p) => p.sequence.id === id)!
    .sequence.weeks.reduce((n, w) => n + w.steps.length, 0);
const options = { dryRun: false, holidays: new Set<string>() };

describe.each(testBackends())('enrolling a cohort on $name', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openMigrated(backend);
  });
  afterAll(() => database?.close());

  const count = async (table: 'learners' | 'managers' | 'enrolments' | 'deliveries') =>
    Number(
      (
        await database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('writes nothing on a dry run, and says what would happen', async () => {
    const results = await enrolCohort(enrolmentStore(database.db), rows, programmes, {
      ...options,
      dryRun: true,
    });
    expect(problems).toEqual([]);
    expect(results.map((r) => r.action)).toEqual(rows.map(() => 'would-enrol'));
    expect(await count('learners')).toBe(0);
  });

  it('gives each learner one enrolment on the programme that fits, with its plan', async () => {
    const results = await enrolCohort(enrolmentStore(database.db), rows, programmes, options);
    expect(results.every((r) => r.action === 'enrolled')).toBe(true);
    expect(await count('learners')).toBe(8);
    expect(await count('managers')).toBe(3);
    expect(await count('enrolments')).toBe(8);
    expect(await count('deliveries')).toBe(results.reduce((n, r) => n + stepsOf(r.programmeId), 0));
    const priya = await database.db
      .selectFrom('enrolments')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .innerJoin('sequence_versions', 'sequence_versions.id', 'enrolments.sequence_version_id')
      .select(['sequence_versions.sequence_id', 'enrolments.match_reason', 'learners.time_zone'])
      .where('learners.email', '=', 'priya.sharma@fcdo.gov.uk')
      .executeTakeFirstOrThrow();
    expect(priya).toEqual({
      sequence_id: 'social-media-for-comms',
      match_reason: 'role press-officer matched; priority 20 beat digital-foundations 0',
      time_zone: 'Asia/Kolkata',
    });
    // Her first email: Monday 4 January 2027, 09:00 in Kolkata (UTC+05:30).
    const first = await database.db
      .selectFrom('deliveries')
      .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .select(['deliveries.step_key', 'deliveries.due_at'])
      .where('learners.email', '=', 'priya.sharma@fcdo.gov.uk')
      .where('deliveries.kind', '=', 'email')
      .orderBy('deliveries.due_at')
      .executeTakeFirstOrThrow();
    expect(first).toEqual({ step_key: 'w01-kickoff', due_at: new Date('2027-01-04T03:30:00Z') });
  });

  it('updates instead of duplicating when the same file comes again', async () => {
    const before = await count('deliveries');
    const renamed = rows.map((r): CohortRow =>
      r.email === 'tom.fletcher@fcdo.gov.uk' ? { ...r, first_name: 'Thomas' } : r,
    );
    const results = await enrolCohort(enrolmentStore(database.db), renamed, programmes, options);
    expect(results.every((r) => r.action === 'kept')).toBe(true);
    expect(await count('enrolments')).toBe(8);
    expect(await count('deliveries')).toBe(before);
    const tom = await database.db
      .selectFrom('learners')
      .select('first_name')
      .where('email', '=', 'tom.fletcher@fcdo.gov.uk')
      .executeTakeFirstOrThrow();
    expect(tom.first_name).toBe('Thomas');
  });

  it('imports nothing when a row fails half-way', async () => {
    const newcomers = rows.map((r): CohortRow => ({ ...r, email: `new.${r.email}` }));
    const before = { learners: await count('learners'), deliveries: await count('deliveries') };
    // A store that breaks on the fifth learner, as a lost connection would.
    const breaking = (store: EnrolmentStore, seen = { n: 0 }): EnrolmentStore => ({
      ...store,
      transaction: (work) => store.transaction((tx) => work(breaking(tx, seen))),
      saveLearner: async (profile, managerId, language, organisationLanguage) => {
        if (++seen.n === 5) throw new Error('connection lost');
        return store.saveLearner(profile, managerId, language, organisationLanguage);
      },
    });
    await expect(
      enrolCohort(breaking(enrolmentStore(database.db)), newcomers, programmes, options),
    ).rejects.toThrow('connection lost');
    expect({ learners: await count('learners'), deliveries: await count('deliveries') }).toEqual(
      before,
    );
  });
});
