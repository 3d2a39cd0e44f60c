import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type GymDatabase } from '../../src/db/database.js';
import { runDemo, type DemoResult } from '../../src/demo/run-demo.js';
import { runGym } from '../helpers/cli.js';

describe('the demo: twelve weeks of the example cohort', () => {
  let result: DemoResult;
  let database: GymDatabase;
  const dir = join(mkdtempSync(join(tmpdir(), 'gym-demo-')), 'demo');

  // Twelve simulated weeks: well under a minute alone, but several minutes on a busy two-core
  // machine; the limit is a net against a hang, not a timing assertion.
  beforeAll(async () => {
    result = await runDemo({ dir });
    database = await createDatabase({ kind: 'pglite', dataDir: join(dir, 'db') });
  }, 600_000);
  afterAll(() => database?.close());

  const eventCounts = async () =>
    Object.fromEntries(
      (
        await database.db
          .selectFrom('progress_events')
          .select(['kind', (eb) => eb.fn.countAll<number>().as('n')])
          .groupBy('kind')
          .execute()
      ).map((r) => [r.kind, Number(r.n)]),
    );

  it('turns every simulated reply into the progress event it meant, and robots into none', async () => {
    const { replies } = result;
    expect(replies).toEqual({
      intake: 1,
      done: 65,
      reflection: 15,
      rating: 5,
      pause: 1,
      too_hard: 1,
      stop: 1,
      rsvp: 13,
      auto_reply: 1,
      manager: 1,
    });
    expect(await eventCounts()).toEqual({
      intake: replies.intake,
      done: replies.done,
      reflection: replies.reflection,
      rating: replies.rating,
      pause: replies.pause,
      too_hard: replies.too_hard,
      stop: replies.stop,
      rsvp: replies.rsvp,
    });
    const manager = await database.db.selectFrom('manager_replies').select(['action']).execute();
    expect(manager).toEqual([{ action: 'talked' }]);
    const inbound = await database.db
      .selectFrom('inbound_messages')
      .select(['classification', 'status'])
      .execute();
    const total = Object.values(replies).reduce((a, b) => a + b, 0);
    expect(inbound).toHaveLength(total);
    expect(inbound.filter((m) => m.status !== 'processed')).toEqual([]);
  });

  it('keeps every email, invite, acknowledgement and digest as an .eml in the outbox', async () => {
    const files = readdirSync(result.outbox);
    const { sent } = result;
    expect(files).toHaveLength(Object.values(sent).reduce((a, b) => a + b, 0));
    // Each human reply is acknowledged in its thread; robots and calendars are not answered.
    const human = Object.entries(result.replies)
      .filter(([kind]) => !['auto_reply', 'rsvp', 'manager'].includes(kind))
      .reduce((n, [, count]) => n + count, 0);
    expect(sent.acknowledgement).toBe(human);
    // Gareth stopped in week 3: his week 3 invite was withdrawn. Siobhán's pause moved one.
    expect(sent['invite cancel']).toBe(1);
    expect(sent['invite update']).toBe(1);
    // 3 managers, one digest a fortnight while their people are on a programme.
    expect(sent.digest).toBe(21);
    const learnerMail = await database.db
      .selectFrom('deliveries')
      .select(['kind', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', '=', 'sent')
      .groupBy('kind')
      .execute();
    expect(Object.fromEntries(learnerMail.map((r) => [r.kind, Number(r.n)]))).toEqual({
      email: sent.email,
      invite: sent.invite + sent['invite update'] + sent['invite cancel'],
      acknowledgement: sent.acknowledgement,
      welcome: sent.welcome,
      programme_end: sent.programme_end,
    });
  });

  it("moves Fiona to the comms programme by her answers to the welcome's questions, before week 1", async () => {
    expect(result.intakeMoves).toBe(1);
    const fiona = await database.db
      .selectFrom('enrolments')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .innerJoin('sequence_versions', 'sequence_versions.id', 'enrolments.sequence_version_id')
      .select(['sequence_versions.sequence_id', 'enrolments.status', 'learners.role'])
      .where('learners.email', '=', 'fiona.campbell@cardiff.gov.uk')
      .orderBy('enrolments.id')
      .execute();
    expect(fiona).toEqual([
      { sequence_id: 'digital-foundations', status: 'stopped', role: 'comms-officer' },
      { sequence_id: 'social-media-for-comms', status: 'completed', role: 'comms-officer' },
    ]);
  });

  it('sends the trainer one alert: Tom said too hard', async () => {
    expect(result.sent.trainer_alert).toBe(1);
    const texts = await Promise.all(
      readdirSync(result.outbox).map(async (name) => {
        const mail = await simpleParser(readFileSync(join(result.outbox, name)));
        return { to: mail.to, text: mail.text ?? '' };
      }),
    );
    const alerts = texts.filter((m) => JSON.stringify(m.to).includes(result.trainerAddress));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.text).toContain('Tom Fletcher');
  });

  it('welcomes each learner once, introduces each manager once, and sees the programme out', async () => {
    const { sent } = result;
    // 8 learners, 3 managers; Gareth stopped in week 3, so 7 finish and get the programme end.
    expect(sent.welcome).toBe(8);
    expect(sent.introduction).toBe(3);
    expect(sent.programme_end).toBe(7);
    // The welcome comes before anything else of the plan; the end after everything else.
    // By learner: Fiona's welcome is on the programme she was moved from.
    const order = await database.db
      .selectFrom('deliveries')
      .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
      .select([
        'enrolments.learner_id',
        (eb) => eb.fn.min('sent_at').filterWhere('kind', '=', 'welcome').as('welcome'),
        (eb) => eb.fn.min('sent_at').filterWhere('kind', 'in', ['email', 'invite']).as('first'),
        (eb) => eb.fn.max('sent_at').filterWhere('kind', 'in', ['email', 'invite']).as('last'),
        (eb) => eb.fn.max('sent_at').filterWhere('kind', '=', 'programme_end').as('end'),
      ])
      .where('deliveries.status', '=', 'sent')
      .groupBy('enrolments.learner_id')
      .execute();
    expect(order).toHaveLength(8);
    for (const row of order) {
      expect(new Date(row.welcome!).getTime()).toBeLessThan(new Date(row.first!).getTime());
      if (row.end !== null)
        expect(new Date(row.end).getTime()).toBeGreaterThan(new Date(row.last!).getTime());
    }
    const introductions = await database.db
      .selectFrom('manager_introductions')
      .innerJoin(
        'manager_digests',
        'manager_digests.manager_id',
        'manager_introductions.manager_id',
      )
      .select([
        'manager_introductions.sent_at as introduced',
        (eb) => eb.fn.min('manager_digests.sent_at').as('firstDigest'),
      ])
      .where('manager_introductions.status', '=', 'sent')
      .groupBy(['manager_introductions.manager_id', 'manager_introductions.sent_at'])
      .execute();
    expect(introductions).toHaveLength(3);
    for (const row of introductions)
      expect(row.introduced!.getTime()).toBeLessThan(new Date(row.firstDigest!).getTime());
  });

  it("tells Gareth's manager once that he stopped, and quotes Priya's own words back at the end", async () => {
    const texts = await Promise.all(
      readdirSync(result.outbox).map(
        async (name) => (await simpleParser(readFileSync(join(result.outbox, name)))).text ?? '',
      ),
    );
    expect(texts.filter((t) => t.includes('Gareth Jones stopped in week 3.'))).toHaveLength(1);
    const ends = texts.filter((t) => t.includes('YOU HAVE FINISHED'));
    expect(ends).toHaveLength(7);
    const priya = ends.find((t) => t.includes('YOU HAVE FINISHED, Priya'));
    expect(priya).toContain('You did 12 of the 12 assignments and sent 3 reflections.');
    expect(priya).toContain('> Short posts with one clear ask got three times the replies');
    expect(priya).toContain('Reply with a score such as "4/5"');
    // Daniel never said done: the end says so instead of congratulating him on nothing.
    expect(ends.find((t) => t.includes('YOU HAVE FINISHED, Daniel'))).toContain(
      'You did not tell us you had done any of the 12 assignments.',
    );
  });

  it('ends with a report whose numbers are the simulated replies', () => {
    const { totals } = result.report;
    expect(totals.learners).toBe(8);
    expect(totals.done).toBe(result.replies.done);
    expect(result.report.managers.find((m) => m.name === 'Helen Walsh')?.replies).toBe(1);
  });

  it('refuses to wipe a folder it did not make', async () => {
    const other = mkdtempSync(join(tmpdir(), 'gym-not-a-demo-'));
    writeFileSync(join(other, 'precious.txt'), 'keep me');
    const run = await runGym(['demo', '--dir', other]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('was not made by gym demo');
    expect(readdirSync(other)).toEqual(['precious.txt']);
  });
});
