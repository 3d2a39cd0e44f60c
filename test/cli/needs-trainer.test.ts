import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/database.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { enrolCohort } from '../../src/engine/enrol.js';
import { runGym } from '../helpers/cli.js';
import { exampleCohort, shippedProgrammes } from '../helpers/cohort.js';

/*
 * "Too hard", "how do I…?" and a "resume" after a stop ask for a person (#12 §2): `gym inbox` and
 * `gym report` list them, with the learner's own words, printed without control characters.
 */
describe('the "needs the trainer" list', () => {
  let dataDir: string;
  const esc = '\u001b';

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gym-needs-trainer-'));
    const database = await createDatabase({ kind: 'pglite', dataDir: join(dataDir, 'db') });
    try {
      await migrateToLatest(database.db);
      await enrolCohort(enrolmentStore(database.db), exampleCohort.rows, shippedProgrammes, {
        dryRun: false,
        holidays: new Set(),
      });
      const enrolment = async (email: string) =>
        (
          await database.db
            .selectFrom('enrolments')
            .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
            .select('enrolments.id')
            .where('learners.email', '=', email)
            .executeTakeFirstOrThrow()
        ).id;
      // Recorded as the reply handler records them; the list reads the last 14 days of the real clock.
      const recent = new Date(Date.now() - 60 * 60 * 1000);
      const old = new Date(Date.now() - 20 * 24 * 60 * 60 * 1000);
      await database.db
        .insertInto('progress_events')
        .values([
          {
            enrolment_id: await enrolment('aisha.khan@businessandtrade.gov.uk'),
            kind: 'help',
            data: JSON.stringify({ week: 2, flagged: true, text: `How do I start${esc}[2J?` }),
            occurred_at: recent,
          },
          {
            enrolment_id: await enrolment('daniel.evans@businessandtrade.gov.uk'),
            kind: 'too_hard',
            data: JSON.stringify({ week: 1, flagged: true, text: 'I am out of my depth' }),
            occurred_at: old,
          },
          {
            enrolment_id: await enrolment('gareth.jones@cardiff.gov.uk'),
            kind: 'reflection',
            data: JSON.stringify({ week: 1, text: 'Nice one' }),
            occurred_at: recent,
          },
        ])
        .execute();
    } finally {
      await database.close();
    }
  });
  afterAll(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('gym inbox lists who asked for the trainer in the last 14 days, with their words', async () => {
    const result = await runGym(['inbox'], { GYM_DATA_DIR: dataDir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^Needs the trainer \(last 14 days\):\n {2}\S+ Aisha Khan <aisha\.khan@businessandtrade\.gov\.uk> asked for help, week 2\n {4}says: How do I start/m,
    );
    // Older than the window, or not a request for a person: not listed.
    expect(result.stdout).not.toContain('Daniel');
    expect(result.stdout).not.toContain('Nice one');
    // eslint-disable-next-line no-control-regex
    expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(result.stdout).toContain('Nothing is held for review.');
  });

  it('gym report shows the same list, and --json carries it', async () => {
    const table = await runGym(['report'], { GYM_DATA_DIR: dataDir });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(
      /Needs the trainer \(last 14 days\)\n {2}\S+ Aisha Khan <aisha\.khan@businessandtrade\.gov\.uk> asked for help, week 2\n {4}"How do I start/,
    );
    // eslint-disable-next-line no-control-regex
    expect(table.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    const json = await runGym(['report', '--json'], { GYM_DATA_DIR: dataDir });
    const report = JSON.parse(json.stdout) as { needsTrainer: { email: string; kind: string }[] };
    expect(report.needsTrainer.map((n) => [n.email, n.kind])).toEqual([
      ['aisha.khan@businessandtrade.gov.uk', 'help'],
    ]);
  });
});
