import { runWorkerWithoutMjml } from '../render/no-mjml/run-worker.js';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { precompileProgrammes, storedProgrammes } from '../../src/db/compiled-programmes.js';
import { createDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import type { Database } from '../../src/db/schema.js';
import type { LanguagePreference } from '../../src/language/languages.js';
import { templateContext } from '../../src/render/context.js';
import {
  compileProgramme,
  mjmlRunCount,
  renderInvite,
  renderStep,
  renderWelcome,
} from '../../src/render/index.js';
import type { Sequence } from '../../src/sequence/schema.js';
import { openMigrated, testBackends } from '../helpers/backends.js';
import { shippedProgrammes } from '../helpers/cohort.js';

/*
 * Compiled templates are data (#17): `gym enrol` and `gym migrate` compile a programme version's
 * emails once and store them; workers read them, fill them with Liquid alone, and never load
 * MJML.
 */

const learner = {
  id: 1,
  first_name: 'Zoë',
  last_name: 'O’Brien',
  email: 'zoe@example.gov.uk',
  role: null,
  organisation: null,
  time_zone: 'Europe/London',
};

async function storeVersion(
  db: Kysely<Database>,
  sequence: Sequence,
  languages: readonly LanguagePreference[],
): Promise<number> {
  await db
    .insertInto('sequences')
    .values({ id: sequence.id, title: sequence.title })
    .onConflict((oc) => oc.doNothing())
    .execute();
  const version = await db
    .insertInto('sequence_versions')
    .values({
      sequence_id: sequence.id,
      content_hash: `h-${sequence.id}`,
      definition: JSON.stringify(sequence),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const [n, language] of languages.entries()) {
    const person = await db
      .insertInto('learners')
      .values({
        email: `${sequence.id}-${n}@example.gov.uk`,
        first_name: 'Zoë',
        last_name: 'Test',
        time_zone: 'Europe/London',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('enrolments')
      .values({
        learner_id: person.id,
        sequence_version_id: version.id,
        starts_on: '2027-01-04',
        language,
      })
      .execute();
  }
  return version.id;
}

describe.each(testBackends())('compiled programmes stored on $name', (backend) => {
  it('are compiled once at enrol or migrate, and fill as a compile in the worker would', async () => {
    const database = await openMigrated(backend);
    try {
      const bilingual = shippedProgrammes.find((p) => p.sequence.languages !== undefined)!.sequence;
      const english = shippedProgrammes.find((p) => p.sequence.id !== bilingual.id)!.sequence;
      const versions = [
        {
          sequence: bilingual,
          id: await storeVersion(database.db, bilingual, ['cy', 'cy+en', 'cy']),
        },
        // An English-only programme is compiled once, whatever its learners asked for.
        { sequence: english, id: await storeVersion(database.db, english, ['en', 'cy', 'cy+en']) },
      ];
      expect(await precompileProgrammes(database.db, { validation: 'soft' })).toBe(3);
      expect(await precompileProgrammes(database.db, { validation: 'soft' })).toBe(0);
      const stored = await database.db
        .selectFrom('compiled_programmes')
        .select(['version_id', 'language'])
        .orderBy('version_id')
        .orderBy('language')
        .execute();
      expect(stored).toEqual([
        { version_id: versions[0]!.id, language: 'cy' },
        { version_id: versions[0]!.id, language: 'cy+en' },
        { version_id: versions[1]!.id, language: 'en' },
      ]);

      // A worker: no MJML run, and every email as a fresh compile renders it.
      const compiled = storedProgrammes(database.db, { validation: 'soft' });
      for (const [{ sequence, id }, language] of [
        [versions[0]!, 'cy+en'],
        [versions[0]!, 'cy'],
        [versions[1]!, 'en'],
      ] as const) {
        const runs = mjmlRunCount();
        const fromStore = await compiled(id, sequence, language);
        expect(mjmlRunCount(), 'no MJML run in the worker').toBe(runs);
        const fresh = await compileProgramme(sequence, { validation: 'soft', language });
        const links = { replyAddress: 'progress+t@gym.example.gov.uk', unsubscribeUrl: undefined };
        for (const week of sequence.weeks) {
          const context = templateContext(sequence, week.week, learner, undefined);
          for (const step of week.steps) {
            const render = (programme: typeof fresh) =>
              step.email
                ? renderStep(programme, week.week, step.id, context, {
                    ...links,
                    assignmentsDone: 1,
                  })
                : renderInvite(programme, week.week, step.id, context);
            expect(render(fromStore), `${sequence.id} ${language} ${step.id}`).toEqual(
              render(fresh),
            );
          }
        }
        const context = templateContext(sequence, 1, learner, undefined);
        expect(renderWelcome(fromStore, context, links)).toEqual(
          renderWelcome(fresh, context, links),
        );
      }
    } finally {
      await database.close();
    }
  }, 300_000);
});

describe('a worker sending from stored programmes', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** A database on disk with one learner's first email due, and its programme stored or not. */
  async function prepared(precompile: boolean) {
    const dir = mkdtempSync(join(tmpdir(), 'gym-no-mjml-'));
    dirs.push(dir);
    const database = await createDatabase({ kind: 'pglite', dataDir: join(dir, 'db') });
    try {
      await migrateToLatest(database.db);
      const sequence = shippedProgrammes.find((p) => p.sequence.languages === undefined)!.sequence;
      await storeVersion(database.db, sequence, ['en']);
      const enrolment = await database.db
        .selectFrom('enrolments')
        .select('id')
        .executeTakeFirstOrThrow();
      const step = sequence.weeks[0]!.steps.find((s) => s.email)!;
      await database.db
        .insertInto('deliveries')
        .values({
          enrolment_id: enrolment.id,
          step_key: `w01-${step.id}`,
          kind: 'email',
          week: 1,
          due_at: new Date('2027-01-04T09:00:00Z'),
          planned_local: '2027-01-04T09:00',
        })
        .execute();
      if (precompile) await precompileProgrammes(database.db, { validation: 'soft' });
    } finally {
      await database.close();
    }
    return dir;
  }

  function tick(dir: string) {
    return runWorkerWithoutMjml(dir, '2027-01-04T09:00:30Z');
  }

  it('sends without loading MJML', async () => {
    const dir = await prepared(true);
    const result = await tick(dir);
    expect(result.stderr).not.toContain('MJML was loaded');
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ counts: { sent: 1 } });
    expect(readdirSync(join(dir, 'outbox', 'new'))).toHaveLength(1);
  }, 120_000);

  it('(the check is real: without a stored programme the worker would load MJML, and cannot)', async () => {
    const dir = await prepared(false);
    const result = await tick(dir);
    expect(`${result.stdout}${result.stderr}`).toContain('MJML was loaded');
  }, 120_000);
});
