import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchStore } from '../../src/db/dispatch-store.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { replyStore } from '../../src/db/reply-store.js';
import { drainDue } from '../../src/engine/dispatcher-loop.js';
import type { DispatchDependencies } from '../../src/engine/dispatch.js';
import { enrolCohort } from '../../src/engine/enrol.js';
import { handleInbound, type ReplyDependencies } from '../../src/engine/replies.js';
import { readMessage } from '../../src/replies/read.js';
import { createSmtpTransport } from '../../src/mail/smtp-transport.js';
import { programmeCache } from '../../src/render/index.js';
import { computeReport, type LearnerReport, type Report } from '../../src/report/compute.js';
import { readReportData } from '../../src/report/snapshot.js';
import { exampleCohort, shippedProgrammes, testMail } from '../helpers/cohort.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';
import { answered, replyTo, type Answered } from '../inbound/reply-builder.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers.js';

/**
 * The report over a real run: the example cohort is enrolled, the dispatcher sends weeks 1 to 3
 * on a fake clock (a drain every evening), a few learners reply through the same path as the
 * IMAP listener, and the report's figures must match what happened.
 */

const programmes = shippedProgrammes;
const cohort = exampleCohort;
const mail = testMail;

/** Every evening at 23:30 UTC, from Monday 4 January 2027 (week 1) to Friday 22 January (week 3). */
const evening = (n: number) => new Date(Date.UTC(2027, 0, 4 + n, 23, 30));
const reportTime = new Date('2027-01-23T00:00:00Z');

describe.each(testBackends())('the report over a three-week run on $name', (backend) => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let dispatch: DispatchDependencies;
  let clock = evening(0);
  let report: Report;
  const progress: [number, number][] = [];

  const emailTo = async (email: string, week: number): Promise<Answered> => {
    for (const message of smtp.received) {
      const sent = await answered(message.data);
      if (sent.to === email && sent.subject.startsWith(`Week ${week}:`)) return sent;
    }
    throw new Error(`no week ${week} email to ${email}`);
  };

  beforeAll(async () => {
    database = await openMigrated(backend);
    smtp = await startSmtpServer();
    await enrolCohort(enrolmentStore(database.db), cohort.rows, programmes, {
      dryRun: false,
      holidays: new Set(),
    });
    dispatch = {
      store: dispatchStore(database.db),
      transport: createSmtpTransport({ url: smtp.url }),
      mail,
      workerId: 'test-worker',
      retryDelay: () => 60_000,
      compiled: programmeCache({ validation: 'soft' }),
    };
    const replies: ReplyDependencies = {
      store: replyStore(database.db),
      read: readMessage,
      secret: mail.secret,
      replyAddress: mail.replyAddress,
      now: () => clock,
    };
    /** The learner answers the week's email an hour after the evening's sending. */
    const reply = async (email: string, week: number, body: string) => {
      const date = new Date(clock.getTime() + 60 * 60 * 1000);
      const raw = await replyTo(await emailTo(email, week), body, { date });
      expect(await handleInbound(replies, { raw, mailbox: 'INBOX', uid: undefined })).toBe(
        'processed',
      );
    };

    for (let n = 0; n <= 18; n += 1) {
      clock = evening(n);
      await drainDue(dispatch, () => clock);
      if (n === 0) await reply('aisha.khan@businessandtrade.gov.uk', 1, 'Done! All five sites.');
      if (n === 7) {
        await reply('aisha.khan@businessandtrade.gov.uk', 2, 'Done.');
        await reply('daniel.evans@businessandtrade.gov.uk', 2, 'pause until 1 February please');
      }
      if (n === 14) {
        await reply('priya.sharma@fcdo.gov.uk', 3, 'This one was too hard for me.');
        await reply(
          'siobhan.obrien@fcdo.gov.uk',
          2,
          'I could not stop thinking about how our audience reads posts on their phones.',
        );
      }
    }

    // A digest went to Rachel and she answered it: her engagement.
    const rachel = await database.db
      .selectFrom('managers')
      .select('id')
      .where('email', '=', 'rachel.green@businessandtrade.gov.uk')
      .executeTakeFirstOrThrow();
    const digest = await database.db
      .insertInto('manager_digests')
      .values({
        manager_id: rachel.id,
        period_starts_on: '2027-01-04',
        status: 'sent',
        message_id: '<digest-rachel@gym.example.gov.uk>',
        sent_at: new Date('2027-01-15T08:00:00Z'),
        learners: 3,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const inbound = await database.db
      .insertInto('inbound_messages')
      .values({
        message_id: '<rachel-talked@mail.example.test>',
        mailbox: 'INBOX',
        received_at: new Date('2027-01-16T10:00:00Z'),
        classification: 'reply',
        status: 'processed',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await database.db
      .insertInto('manager_replies')
      .values({
        manager_id: rachel.id,
        inbound_message_id: inbound.id,
        digest_id: digest.id,
        action: 'talked',
        text: 'Talked to Aisha',
        occurred_at: new Date('2027-01-16T10:00:00Z'),
      })
      .execute();

    const data = await readReportData(database.db, {
      now: reportTime,
      onProgress: (done, total) => progress.push([done, total]),
    });
    report = computeReport(data);
  });
  afterAll(async () => {
    await dispatch?.transport.close();
    await smtp?.close();
    await database?.close();
  });

  const learner = (email: string): LearnerReport => {
    const found = report.learners.find((l) => l.email === email);
    if (!found) throw new Error(`${email} is not in the report`);
    return found;
  };

  it('reports every learner, with progress', () => {
    expect(report.learners).toHaveLength(8);
    expect(progress.at(0)).toEqual([0, 8]);
    expect(progress.at(-1)).toEqual([8, 8]);
  });

  it('counts the assignments sent as due, the weeks said done as done', async () => {
    // Due, straight from the database: the kickoff emails (each week's assignment) sent.
    const kickoffs = await database.db
      .selectFrom('deliveries')
      .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .select(['learners.email', (eb) => eb.fn.countAll<number>().as('sent')])
      .where('deliveries.status', '=', 'sent')
      .where('deliveries.step_key', 'like', 'w__-kickoff')
      .groupBy('learners.email')
      .execute();
    const due = Object.fromEntries(report.learners.map((l) => [l.email, l.due]));
    expect(due).toEqual(
      Object.fromEntries(
        report.learners.map((l) => [
          l.email,
          Number(kickoffs.find((k) => k.email === l.email)?.sent ?? 0),
        ]),
      ),
    );
    // Started 4 January: weeks 1-3 sent; started 11 January: weeks 1-2; Daniel paused in week 2.
    expect(due).toEqual({
      'priya.sharma@fcdo.gov.uk': 3,
      'tom.fletcher@fcdo.gov.uk': 3,
      'siobhan.obrien@fcdo.gov.uk': 3,
      'aisha.khan@businessandtrade.gov.uk': 3,
      'daniel.evans@businessandtrade.gov.uk': 2,
      'james.okafor@businessandtrade.gov.uk': 2,
      'gareth.jones@cardiff.gov.uk': 3,
      'fiona.campbell@cardiff.gov.uk': 2,
    });
    const aisha = learner('aisha.khan@businessandtrade.gov.uk');
    expect(aisha).toMatchObject({ done: 2, currentWeek: 3, status: 'active' });
    expect(aisha.manager).toBe('Rachel Green');
    expect(aisha.programmeId).toBe('digital-engagement-for-policy');
    expect(aisha.lastReplyAt?.toISOString()).toBe('2027-01-12T00:30:00.000Z');
    expect(report.totals.done).toBe(2);
    expect(report.totals.due).toBe(21);
  });

  it('flags Priya stuck, Daniel paused, and the silent ones quiet', () => {
    expect(learner('priya.sharma@fcdo.gov.uk').flags).toEqual({
      stuck: true,
      quiet: false,
      paused: false,
      behind: true,
    });
    const daniel = learner('daniel.evans@businessandtrade.gov.uk');
    expect(daniel.status).toBe('paused');
    expect(daniel.flags.paused).toBe(true);
    expect(daniel.pausedUntil?.toISOString()).toBe('2027-02-01T00:00:00.000Z');
    // Siobhán's reflection was five days ago; everyone else has been silent ten days or more.
    const quiet = report.learners.filter((l) => l.flags.quiet).map((l) => l.email);
    expect(quiet.sort()).toEqual([
      'aisha.khan@businessandtrade.gov.uk',
      'fiona.campbell@cardiff.gov.uk',
      'gareth.jones@cardiff.gov.uk',
      'james.okafor@businessandtrade.gov.uk',
      'tom.fletcher@fcdo.gov.uk',
    ]);
    expect(report.totals.flags).toEqual({ stuck: 1, quiet: 5, paused: 1, behind: 6 });
  });

  it('gives each programme its funnel, reply rate and median days to done', () => {
    const policy = report.programmes.find(
      (p) => p.programmeId === 'digital-engagement-for-policy',
    )!;
    expect(policy.learners).toBe(3);
    expect(policy.funnel).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // Aisha and Daniel replied; James has not.
    expect([policy.repliers, policy.sentTo]).toEqual([2, 3]);
    // Each "done" came an hour after its email went out.
    expect(policy.medianDaysToDone).toBeCloseTo(1 / 24, 6);
    const comms = report.programmes.find((p) => p.programmeId === 'social-media-for-comms')!;
    expect([comms.learners, comms.repliers, comms.sentTo]).toEqual([3, 2, 3]);
    expect(comms.funnel.every((n) => n === 0)).toBe(true);
    expect(comms.medianDaysToDone).toBeUndefined();
    expect(report.totals.replyRate).toBe(4 / 8);
  });

  it('gives each manager their people and their engagement', () => {
    expect(
      report.managers.map((m) => [m.name, m.learners, m.done, m.due, m.digestsSent, m.replies]),
    ).toEqual([
      ['Helen Walsh', 3, 0, 9, 0, 0],
      ['Mark Davies', 2, 0, 5, 0, 0],
      ['Rachel Green', 3, 2, 7, 1, 1],
    ]);
    expect(report.managers[2]!.lastEngagementAt?.toISOString()).toBe('2027-01-16T10:00:00.000Z');
  });

  it('keeps to the cohort it is asked for', async () => {
    const none = await readReportData(database.db, { cohort: 'feb-2027', now: reportTime });
    expect(none.learners).toEqual([]);
    expect(none.managers).toEqual([]);
    const jan = await readReportData(database.db, { cohort: 'jan-2027', now: reportTime });
    expect(jan.learners).toHaveLength(8);
  });
});
