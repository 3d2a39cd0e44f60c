import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { gymServerStore } from '../../src/db/unsubscribe-store.js';
import { readCohortCsv } from '../../src/enrol/cohort-csv.js';
import { enrolCohort } from '../../src/engine/enrol.js';
import { startGymServer, type GymServer } from '../../src/http/gym-server.js';
import { signUnsubscribeToken } from '../../src/mail/tokens.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const secret = 'a-test-secret-of-at-least-32-characters!';
const programmes = loadSequenceFiles(['sequences'], root).flatMap((r) =>
  r.ok ? [{ sequence: r.sequence, hash: r.hash }] : [],
);
const file = 'test/fixtures/cohorts/example.csv';
const { rows } = readCohortCsv(readFileSync(`${root}/${file}`, 'utf8'), file, {
  now: new Date('2026-12-01T00:00:00Z'),
});

// Tom is a communications officer: every step of that programme waits to be sent.
// Every step of his programme, and the welcome and programme end around them.
const tomsSteps =
  programmes
    .find((p) => p.sequence.id === 'social-media-for-comms')!
    .sequence.weeks.reduce((n, w) => n + w.steps.length, 0) + 2;

describe.each(testBackends())('one-click unsubscribe and health on $name', (backend) => {
  let database: TestDatabase;
  let server: GymServer;
  let learnerId: number;

  beforeAll(async () => {
    database = await openMigrated(backend);
    await enrolCohort(enrolmentStore(database.db), rows, programmes, {
      dryRun: false,
      holidays: new Set(),
    });
    learnerId = (
      await database.db
        .selectFrom('learners')
        .select('id')
        .where('email', '=', 'tom.fletcher@fcdo.gov.uk')
        .executeTakeFirstOrThrow()
    ).id;
    server = await startGymServer({
      store: gymServerStore(database.db),
      secret,
      host: '127.0.0.1',
      port: 0,
      now: () => new Date('2027-01-05T10:00:00Z'),
      log: { info: () => {}, error: () => {} },
    });
  });
  afterAll(async () => {
    await server?.close();
    await database?.close();
  });

  const state = async () => {
    const learner = await database.db
      .selectFrom('learners')
      .select('status')
      .where('id', '=', learnerId)
      .executeTakeFirstOrThrow();
    const pending = await database.db
      .selectFrom('deliveries')
      .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('enrolments.learner_id', '=', learnerId)
      .where('deliveries.status', '=', 'pending')
      .executeTakeFirstOrThrow();
    return { status: learner.status, pending: Number(pending.n) };
  };
  const oneClick = (token: string) =>
    fetch(`${server.url}/unsubscribe/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
      redirect: 'manual',
    });

  it('answers /healthz when the database answers', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect([response.status, await response.text()]).toEqual([200, 'ok\n']);
  });

  it('changes nothing on a GET (link scanners fetch links), and offers a button that POSTs', async () => {
    const response = await fetch(
      `${server.url}/unsubscribe/${signUnsubscribeToken(secret, { learnerId })}`,
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<form method="post">');
    expect(await state()).toEqual({ status: 'active', pending: tomsSteps });
  });

  it('refuses a forged or altered token and changes nothing', async () => {
    const genuine = signUnsubscribeToken(secret, { learnerId });
    const altered = genuine.slice(0, -1) + (genuine.endsWith('a') ? 'b' : 'a');
    for (const token of [
      altered,
      signUnsubscribeToken('another-secret-of-at-least-32-chars!!', { learnerId }),
      'x1',
    ]) {
      const response = await oneClick(token);
      expect(response.status, token).toBe(400);
      expect(await response.text()).toContain('Nothing was changed');
    }
    expect(await state()).toEqual({ status: 'active', pending: tomsSteps });
  });

  it('unsubscribes on the one-click POST: no redirect, no cookie, nothing more is sent', async () => {
    const response = await oneClick(signUnsubscribeToken(secret, { learnerId }));
    expect(response.status).toBe(200);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(await response.text()).toContain('You are unsubscribed');
    expect(await state()).toEqual({ status: 'unsubscribed', pending: 0 });
    // Twice is the same as once.
    expect((await oneClick(signUnsubscribeToken(secret, { learnerId }))).status).toBe(200);
  });

  it('speaks the person’s language on the confirmation page and after the one-click (#15)', async () => {
    const priya = await database.db
      .selectFrom('learners')
      .select('id')
      .where('email', '=', 'priya.sharma@fcdo.gov.uk')
      .executeTakeFirstOrThrow();
    await database.db
      .updateTable('learners')
      .set({ language: 'cy+en' })
      .where('id', '=', priya.id)
      .execute();
    const token = signUnsubscribeToken(secret, { learnerId: priya.id });
    const confirm = await (await fetch(`${server.url}/unsubscribe/${token}`)).text();
    expect(confirm).toContain('<html lang="cy">');
    expect(confirm).toContain(
      '<h1>Dad-danysgrifio o Digital Gym? / Unsubscribe from Digital Gym?</h1>',
    );
    expect(confirm.indexOf('<p lang="cy">')).toBeLessThan(confirm.indexOf('<p lang="en-GB">'));
    expect(confirm).toContain('>Dad-danysgrifio / Unsubscribe</button>');
    const done = await (await oneClick(token)).text();
    expect(done).toContain('<h1>Rydych wedi dad-danysgrifio / You are unsubscribed</h1>');
  });
});
