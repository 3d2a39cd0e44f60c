import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readCohortCsv } from '../../src/enrol/cohort-csv.js';
import type { ProgrammeVersion } from '../../src/engine/enrol.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';

/** The repository root, where `sequences/` and `test/fixtures/` are. */
export const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The shipped programmes, as `gym enrol` loads them. */
export const shippedProgrammes: ProgrammeVersion[] = loadSequenceFiles(
  ['sequences'],
  repositoryRoot,
).flatMap((r) => (r.ok ? [{ sequence: r.sequence, hash: r.hash }] : []));

const cohortFile = 'test/fixtures/cohorts/example.csv';

/**
 * The example cohort: 8 learners in 5 zones, 3 managers, starting on 4 and 11 January 2027. Read
 * as on 1 December 2026, so that its dates stay valid whatever day the tests run.
 */
export const exampleCohort = readCohortCsv(
  readFileSync(`${repositoryRoot}/${cohortFile}`, 'utf8'),
  cohortFile,
  { now: new Date('2026-12-01T12:00:00Z') },
);

/** The sender settings of the engine tests (no public URL: mail-only unsubscribe). */
export const testMail = {
  secret: 'a-test-secret-of-at-least-32-characters!',
  from: 'Digital Gym <gym@gym.example.gov.uk>',
  replyAddress: 'progress@gym.example.gov.uk',
  publicUrl: undefined,
};
