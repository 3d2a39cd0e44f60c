import { runWorkerWithoutMjml } from '../render/no-mjml/run-worker.js';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { precompileLayouts, storedLayouts } from '../../src/db/compiled-layouts.js';
import { layoutsDigest, precompileProgrammes } from '../../src/db/compiled-programmes.js';
import { createDatabase } from '../../src/db/database.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { enrolCohort } from '../../src/engine/enrol.js';
import { languagePreferences } from '../../src/language/languages.js';
import { renderAcknowledgement } from '../../src/render/acknowledgement.js';
import {
  compileLayouts,
  mjmlRunCount,
  readLayoutSources,
  type CompiledLayouts,
  type RenderedEmail,
} from '../../src/render/index.js';
import { layoutsSkeletonFormat } from '../../src/render/layouts.js';
import { renderManagerDigest } from '../../src/render/manager-digest.js';
import { renderManagerIntroduction } from '../../src/render/manager-introduction.js';
import { openMigrated, testBackends } from '../helpers/backends.js';
import { exampleCohort, shippedProgrammes } from '../helpers/cohort.js';
import { enrolledLearner } from '../helpers/fixtures.js';
import { team } from '../render/digest-fixtures.js';

/*
 * Compiled templates are data (#17), for the emails of no programme: acknowledgements, manager
 * digests and introductions are compiled by MJML once and stored; workers read them, fill them
 * with Liquid alone, and never load MJML.
 */

const links = { replyAddress: 'progress+t0k3n@gym.example.gov.uk' };

/** Every programme-less email a worker sends, in every language preference, filled. */
function everyEmail(layouts: CompiledLayouts): [string, RenderedEmail][] {
  return languagePreferences.flatMap((language): [string, RenderedEmail][] => [
    [
      `acknowledgement (${language})`,
      renderAcknowledgement(
        layouts,
        {
          replyToSubject: 'Re: Week 3: short sentences',
          firstName: 'Nia',
          message: 'Logged: week 3 done. That’s 3 of 12.',
          kind: 'done',
          facts: { week: 3, done: 3, total: 12 },
          progress: { week: 3, totalWeeks: 12, assignmentsDone: 3 },
          language,
        },
        links,
      ),
    ],
    [
      `question (${language})`,
      renderAcknowledgement(
        layouts,
        {
          replyToSubject: 'Re: Week 3: short sentences',
          firstName: 'Priya',
          message: 'Did you mean: pause for 2 weeks?',
          detail: 'Nothing has changed yet.',
          question: {
            proposal: 'pause for 2 weeks',
            yes: { label: 'Yes, pause', address: 'progress+y1abc@gym.example.gov.uk' },
            no: { label: 'No, it was a note', address: 'progress+n1abc@gym.example.gov.uk' },
          },
          language,
        },
        links,
      ),
    ],
    [`digest (${language})`, renderManagerDigest(layouts, team(12), links, { language })],
    [
      `introduction (${language})`,
      renderManagerIntroduction(
        layouts,
        {
          manager: { firstName: 'Alex' },
          learners: [
            { firstName: 'Aisha', lastName: 'Khan', programmeTitle: 'Plain English' },
            { firstName: 'Tom', lastName: 'Evans', programmeTitle: 'Plain English' },
          ],
          firstDigest: { at: new Date('2027-01-04T08:00:00Z'), zone: 'Europe/London' },
          language,
        },
        links,
      ),
    ],
  ]);
}

describe.each(testBackends())('compiled layouts stored on $name', (backend) => {
  it('are compiled once at enrol or migrate, and fill as a compile in the worker would', async () => {
    const database = await openMigrated(backend);
    try {
      // Nothing to acknowledge or summarise before anyone is enrolled.
      expect(await precompileLayouts(database.db, { validation: 'soft' })).toBe(false);
      await enrolledLearner(database.db);
      expect(await precompileLayouts(database.db, { validation: 'soft' })).toBe(true);
      expect(await precompileLayouts(database.db, { validation: 'soft' })).toBe(false);
      const rows = await database.db.selectFrom('compiled_layouts').select('layouts').execute();
      expect(rows).toEqual([{ layouts: layoutsDigest(await readLayoutSources()) }]);

      // A worker: no MJML run, and every email in every language as a fresh compile fills it.
      const runs = mjmlRunCount();
      const fromStore = await storedLayouts(database.db, { validation: 'soft' })();
      expect(mjmlRunCount(), 'no MJML run in the worker').toBe(runs);
      const fresh = await compileLayouts({ validation: 'soft' });
      const stored = everyEmail(fromStore);
      const expected = everyEmail(fresh);
      expect(stored).toHaveLength(4 * 3);
      for (const [i, [name, email]] of stored.entries())
        expect(email, name).toEqual(expected[i]![1]);
      // Each language its own email: a store that kept one language for all would not pass.
      const html = (language: string) =>
        stored.find(([name]) => name === `acknowledgement (${language})`)![1].html;
      expect(html('cy')).not.toEqual(html('en'));
      expect(html('cy+en')).not.toEqual(html('cy'));
    } finally {
      await database.close();
    }
  }, 120_000);

  it('are compiled again when the layout files change, never sent stale', async () => {
    const database = await openMigrated(backend);
    try {
      const shipped = await readLayoutSources();
      const changed = {
        ...shipped,
        'partials/footer.txt': `${shipped['partials/footer.txt']!}A changed footer.\n`,
      };
      const ack = (layouts: CompiledLayouts) =>
        renderAcknowledgement(
          layouts,
          { replyToSubject: 'Week 1', firstName: 'Sam', message: 'Logged.' },
          links,
        ).text;
      const before = await storedLayouts(database.db, { layouts: shipped })();
      expect(ack(before)).not.toContain('A changed footer.');
      // An upgrade changes `emails/`: the next worker compiles and stores the new layouts.
      const runs = mjmlRunCount();
      const after = await storedLayouts(database.db, { layouts: changed })();
      expect(mjmlRunCount(), 'compiled again').toBeGreaterThan(runs);
      expect(ack(after)).toContain('A changed footer.');
      const rows = await database.db
        .selectFrom('compiled_layouts')
        .select(['layouts', 'format'])
        .orderBy('created_at')
        .execute();
      expect(new Set(rows.map((r) => r.layouts))).toEqual(
        new Set([layoutsDigest(shipped), layoutsDigest(changed)]),
      );
      // And a worker of the upgrade reads the new ones back, not the old.
      const again = mjmlRunCount();
      expect(ack(await storedLayouts(database.db, { layouts: changed })())).toContain(
        'A changed footer.',
      );
      expect(mjmlRunCount()).toBe(again);

      // A skeleton of another form (stored by an older release) is not read: compiled again.
      await database.db.deleteFrom('compiled_layouts').execute();
      await database.db
        .insertInto('compiled_layouts')
        .values({
          layouts: layoutsDigest(shipped),
          format: layoutsSkeletonFormat - 1,
          skeleton: JSON.stringify({ languages: {} }),
        })
        .execute();
      expect(ack(await storedLayouts(database.db, { layouts: shipped })())).toEqual(ack(before));
    } finally {
      await database.close();
    }
  }, 120_000);

  it('are stored once when workers compile them at the same time', async () => {
    const database = await openMigrated(backend);
    const other = await database.connectAgain();
    try {
      const [a, b] = await Promise.all([
        storedLayouts(database.db, { validation: 'soft' })(),
        storedLayouts(other.db, { validation: 'soft' })(),
      ]);
      expect(everyEmail(a)).toEqual(everyEmail(b));
      const rows = await database.db.selectFrom('compiled_layouts').select('layouts').execute();
      expect(rows).toHaveLength(1);
    } finally {
      await other.close();
      await database.close();
    }
  }, 120_000);
});

describe('a worker sending acknowledgements and digests from stored layouts', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A database on disk with the example cohort enrolled (3 managers), an acknowledgement due
   * for one learner, and the programmes stored; the layouts stored or not.
   */
  async function prepared(precompile: boolean) {
    const dir = mkdtempSync(join(tmpdir(), 'gym-no-mjml-layouts-'));
    dirs.push(dir);
    const database = await createDatabase({ kind: 'pglite', dataDir: join(dir, 'db') });
    try {
      await migrateToLatest(database.db);
      await enrolCohort(enrolmentStore(database.db), exampleCohort.rows, shippedProgrammes, {
        dryRun: false,
        holidays: new Set(),
      });
      const enrolment = await database.db
        .selectFrom('enrolments')
        .select('id')
        .orderBy('id')
        .executeTakeFirstOrThrow();
      await database.db
        .insertInto('deliveries')
        .values({
          enrolment_id: enrolment.id,
          step_key: 'ack-test',
          week: 1,
          kind: 'acknowledgement',
          due_at: new Date('2027-01-03T00:00:00Z'),
          planned_local: '',
          payload: JSON.stringify({
            message: 'Logged: a note.',
            subject: 'Week 1: welcome',
            inReplyTo: '<reply@example.gov.uk>',
            references: [],
          }),
        })
        .execute();
      await precompileProgrammes(database.db, { validation: 'soft' });
      if (precompile) await precompileLayouts(database.db, { validation: 'soft' });
    } finally {
      await database.close();
    }
    return dir;
  }

  function run(dir: string) {
    // Sunday: the acknowledgement and the managers' introductions; Monday: the digests.
    return runWorkerWithoutMjml(dir, '2027-01-03T00:00:30Z,2027-01-04T12:00:00Z');
  }

  it('sends them without loading MJML', async () => {
    const dir = await prepared(true);
    const result = await run(dir);
    expect(result.stderr).not.toContain('MJML was loaded');
    const { ticks } = JSON.parse(result.stdout.trim()) as {
      ticks: { counts: { sent: number }; digests: { sent: number; introduced: number } }[];
    };
    expect(ticks[0]!.counts.sent, 'the acknowledgement').toBe(1);
    expect(ticks[0]!.digests.introduced, 'the managers’ introductions').toBe(3);
    expect(ticks[1]!.digests.sent, 'the managers’ digests').toBe(3);
    const subjects = readdirSync(join(dir, 'outbox', 'new')).map(
      (file) => /^Subject: (.*)$/m.exec(readFileSync(join(dir, 'outbox', 'new', file), 'utf8'))![1],
    );
    expect(subjects).toContain('Re: Week 1: welcome');
    expect(subjects.filter((s) => s?.startsWith('Your team this fortnight'))).toHaveLength(3);
  }, 180_000);

  it('(the check is real: without stored layouts the worker would load MJML, and cannot)', async () => {
    const dir = await prepared(false);
    const result = await run(dir);
    expect(`${result.stdout}${result.stderr}`).toContain('MJML was loaded');
  }, 180_000);
});
