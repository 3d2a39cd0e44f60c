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
    // Every step, and the welcome and programme end around them.
    expect(await count('deliveries')).toBe(
      results.reduce((n, r) => n + stepsOf(r.programmeId) + 2, 0),
    );
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
    // One welcome per enrolment, whatever the number of imports: it is never sent twice.
    const welcomes = await database.db
      .selectFrom('deliveries')
      .select(['enrolment_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('kind', '=', 'welcome')
      .groupBy('enrolment_id')
      .execute();
    expect(welcomes.map((w) => Number(w.n))).toEqual(Array(8).fill(1));
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

  it("gives a manager their own zone, else their organisation's, never silently a learner's", async () => {
    const file = [
      'email,first_name,last_name,time_zone,role,organisation,manager_email,manager_name,start_date,manager_time_zone,organisation_time_zone',
      'zara.ali@zones.example.gov.uk,Zara,Ali,Asia/Kolkata,press-officer,Zones Office,own@zones.example.gov.uk,Own Zone,2027-01-04,America/New_York,',
      'yusuf.ali@zones.example.gov.uk,Yusuf,Ali,Asia/Kolkata,press-officer,Zones Office,org@zones.example.gov.uk,Org Zone,2027-01-04,,Europe/London',
      'xena.ali@elsewhere.example.gov.uk,Xena,Ali,Australia/Sydney,press-officer,Elsewhere Office,none@elsewhere.example.gov.uk,No Zone,2027-01-04,,',
      'will.ali@elsewhere.example.gov.uk,Will,Ali,Asia/Tokyo,press-officer,Elsewhere Office,none@elsewhere.example.gov.uk,No Zone,2027-01-04,,',
    ].join('\n');
    const cohort = readCohortCsv(file, 'zones.csv', { now: new Date('2026-12-01T12:00:00Z') });
    expect(cohort.problems).toEqual([]);
    const results = await enrolCohort(
      enrolmentStore(database.db),
      cohort.rows,
      programmes,
      options,
    );
    const zoneOf = async (email: string) =>
      (
        await database.db
          .selectFrom('managers')
          .select('time_zone')
          .where('email', '=', email)
          .executeTakeFirstOrThrow()
      ).time_zone;
    expect(await zoneOf('own@zones.example.gov.uk')).toBe('America/New_York');
    expect(await zoneOf('org@zones.example.gov.uk')).toBe('Europe/London');
    // Neither given: the first learner's zone, said once for that manager, on that row.
    expect(await zoneOf('none@elsewhere.example.gov.uk')).toBe('Australia/Sydney');
    expect(results.map((r) => r.zoneNotice !== undefined)).toEqual([false, false, true, false]);
    expect(results[2]!.zoneNotice).toContain(
      'manager none@elsewhere.example.gov.uk has no time zone',
    );
    // The organisation's zone is kept: a later file without the column still uses it, and a
    // manager's own zone given later replaces a fallback.
    const later = readCohortCsv(
      [
        'email,first_name,last_name,time_zone,role,organisation,manager_email,manager_name,start_date,manager_time_zone',
        'vic.ali@zones.example.gov.uk,Vic,Ali,Asia/Tokyo,press-officer,Zones Office,new@zones.example.gov.uk,New Zone,2027-01-04,',
        'xena.ali@elsewhere.example.gov.uk,Xena,Ali,Australia/Sydney,press-officer,Elsewhere Office,none@elsewhere.example.gov.uk,No Zone,2027-01-04,Europe/Dublin',
      ].join('\n'),
      'later.csv',
      { now: new Date('2026-12-01T12:00:00Z') },
    );
    const again = await enrolCohort(enrolmentStore(database.db), later.rows, programmes, options);
    expect(again.map((r) => r.zoneNotice)).toEqual([undefined, undefined]);
    expect(await zoneOf('new@zones.example.gov.uk')).toBe('Europe/London');
    expect(await zoneOf('none@elsewhere.example.gov.uk')).toBe('Europe/Dublin');
  });
});
