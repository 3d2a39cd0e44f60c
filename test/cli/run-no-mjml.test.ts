import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/database.js';
import { runGym } from '../helpers/cli.js';

/*
 * Compiled templates are data (#17): `gym enrol` compiles and stores the programmes and the
 * layouts of acknowledgements and digests, so that `gym run` sends all of them without loading
 * MJML. Here the worker runs where MJML cannot be loaded (test/render/no-mjml/hook.js).
 */
describe('gym run after gym enrol', () => {
  const env = { GYM_DATA_DIR: mkdtempSync(join(tmpdir(), 'gym-run-no-mjml-')), GYM_HTTP_PORT: '0' };

  beforeAll(async () => {
    const enrolled = await runGym(
      ['enrol', 'test/fixtures/cohorts/example.csv', '--clock', '2026-12-01T12:00:00Z'],
      env,
    );
    expect(enrolled.code, enrolled.stderr).toBe(0);
    // A reply's acknowledgement, due as the worker starts.
    const database = await createDatabase({
      kind: 'pglite',
      dataDir: join(env.GYM_DATA_DIR, 'db'),
    });
    try {
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
          due_at: new Date('2027-01-04T11:59:00Z'),
          planned_local: '',
          payload: JSON.stringify({
            message: 'Logged: a note.',
            subject: 'Week 1: welcome',
            inReplyTo: '<reply@example.gov.uk>',
            references: [],
          }),
        })
        .execute();
    } finally {
      await database.close();
    }
  }, 120_000);
  afterAll(() => rmSync(env.GYM_DATA_DIR, { recursive: true, force: true }));

  it('sends acknowledgements, introductions and digests without loading MJML', async () => {
    const run = await runGym(['run', '--once', '--clock', '2027-01-04T12:00:00Z'], {
      ...env,
      NODE_OPTIONS: '--import ./test/render/no-mjml/register.js',
    });
    expect(run.stderr).not.toContain('MJML was loaded');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/"digests":\{"sent":3,.*"introduced":3\}/);
    const outbox = join(env.GYM_DATA_DIR, 'outbox', 'new');
    const subjects = readdirSync(outbox).map(
      (f) => /^Subject: (.*)$/m.exec(readFileSync(join(outbox, f), 'utf8'))![1],
    );
    expect(subjects).toContain('Re: Week 1: welcome');
    expect(subjects.filter((s) => s!.startsWith('Your team this fortnight'))).toHaveLength(3);
    expect(subjects.filter((s) => s === 'Your team is starting Digital Gym')).toHaveLength(3);
  }, 120_000);

  it('gym migrate stores the layouts again when they are missing (after an upgrade)', async () => {
    const dataDir = join(env.GYM_DATA_DIR, 'db');
    const rows = async (clear: boolean) => {
      const database = await createDatabase({ kind: 'pglite', dataDir });
      try {
        if (clear) await database.db.deleteFrom('compiled_layouts').execute();
        return (await database.db.selectFrom('compiled_layouts').select('layouts').execute())
          .length;
      } finally {
        await database.close();
      }
    };
    expect(await rows(true)).toBe(0);
    const migrated = await runGym(['migrate'], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(await rows(false)).toBe(1);
  }, 120_000);
});
