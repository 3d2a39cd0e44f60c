import { sql } from 'kysely';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import { openMigrated, postgresBackend, type TestDatabase } from '../helpers/backends.js';
import { describeWithServers } from '../helpers/servers.js';
import { runGym } from '../helpers/cli.js';
import {
  headerValues,
  parseHeaders,
  startSmtpServer,
  type TestSmtpServer,
} from '../mail/helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const [programme] = loadSequenceFiles(['sequences/social-media-for-comms.yaml'], root).flatMap(
  (r) => (r.ok ? [{ sequence: r.sequence, hash: r.hash }] : []),
);
const steps = programme!.sequence.weeks.flatMap((w) =>
  w.steps.map((s) => ({
    key: `w${String(w.week).padStart(2, '0')}-${s.id}`,
    week: w.week,
    kind: s.email ? 'email' : 'invite',
  })),
);
const wave = 5_000;
const learners = Math.ceil(wave / steps.length);

/** 5,000 deliveries of the real programme, for as many learners as it takes, all due at 08:59 UTC. */
async function seedWave(database: TestDatabase): Promise<void> {
  const versionId = await enrolmentStore(database.db).saveProgrammeVersion(programme!);
  await sql`
    insert into learners (email, first_name, last_name, time_zone)
    select 'learner' || n || '@example.gov.uk', 'Learner', 'Number ' || n, 'Europe/London'
    from generate_series(1, ${learners}) as n`.execute(database.db);
  await sql`
    insert into enrolments (learner_id, sequence_version_id, starts_on)
    select id, ${versionId}, '2027-01-04' from learners`.execute(database.db);
  const values = sql.join(
    steps.map((s, i) => sql`(${s.key}, ${s.week}::int, ${s.kind}, ${i}::int)`),
  );
  await sql`
    insert into deliveries (enrolment_id, step_key, week, kind, due_at, starts_at, planned_local)
    select e.id, s.key, s.week, s.kind, '2027-03-01T08:59:00Z',
      case when s.kind = 'invite' then '2027-03-03T14:00:00Z'::timestamptz end, '2027-03-01T08:59'
    from enrolments e cross join (values ${values}) as s (key, week, kind, n)
    where (e.id - 1) * ${steps.length} + s.n < ${wave}`.execute(database.db);
}

// Several processes need a server: PGlite is one process's own database.
describeWithServers(['postgres'], 'four gym run workers on one PostgreSQL', () => {
  const backend = postgresBackend();
  let database: TestDatabase;
  let smtp: TestSmtpServer;

  beforeAll(async () => {
    database = await openMigrated(backend);
    smtp = await startSmtpServer();
    await seedWave(database);
  });
  afterAll(async () => {
    await smtp?.close();
    await database?.close();
  });

  it('send a 5,000-delivery wave with no row sent twice and none left behind', async () => {
    const env = {
      DATABASE_URL: database.url!,
      SMTP_URL: smtp.url,
      GYM_SECRET: 'a-test-secret-of-at-least-32-characters!',
    };
    const workers = await Promise.all(
      ['a', 'b', 'c', 'd'].map((name) =>
        runGym(['run', '--once', '--clock', '2027-03-01T09:00:00Z', '--worker', name], env),
      ),
    );
    expect(workers.map((w) => w.code)).toEqual([0, 0, 0, 0]);
    const sentBy = workers.map((w) => Number(/"sent":(\d+)/.exec(w.stderr)?.[1] ?? -1));
    // Together all of the wave, and SKIP LOCKED spread it over more than one worker.
    expect(sentBy.reduce((a, b) => a + b, 0)).toBe(wave);
    expect(sentBy.filter((n) => n > 0).length).toBeGreaterThan(1);

    expect(smtp.received).toHaveLength(wave);
    const ids = new Set(
      smtp.received.map((m) => headerValues(parseHeaders(m.data), 'Message-ID')[0]),
    );
    expect(ids.size).toBe(wave);
    const statuses = await database.db
      .selectFrom('deliveries')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    expect(statuses.map((s) => [s.status, Number(s.n)])).toEqual([['sent', wave]]);
  });
});
