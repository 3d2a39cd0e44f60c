import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchStore } from '../../src/db/dispatch-store.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { learnerRecord } from '../../src/db/learner-record.js';
import { replyStore } from '../../src/db/reply-store.js';
import { drainDue } from '../../src/engine/dispatcher-loop.js';
import type { DispatchDependencies } from '../../src/engine/dispatch.js';
import { enrolCohort } from '../../src/engine/enrol.js';
import { handleInbound, type ReplyDependencies } from '../../src/engine/replies.js';
import { createSmtpTransport } from '../../src/mail/smtp-transport.js';
import { readMessage } from '../../src/replies/read.js';
import { programmeCache } from '../../src/render/index.js';
import { formatLearnerView, learnerView } from '../../src/report/learner-view.js';
import type { Sequence } from '../../src/sequence/schema.js';
import { exampleCohort, shippedProgrammes, testMail } from '../helpers/cohort.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';
import { answered, replyTo, type Answered } from '../inbound/reply-builder.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers.js';

// Fiona (housing officer, week 1 on 11 January) and Gareth (library assistant, week 1 on
// 4 January) follow digital-foundations, the bilingual default programme, which asks role,
// confidence and barriers in its welcome.
const fiona = 'fiona.campbell@cardiff.gov.uk';
const gareth = 'gareth.jones@cardiff.gov.uk';
const enrolledAt = new Date('2027-01-01T08:00:00Z');

describe.each(testBackends())('intake answers in a reply to the welcome on $name', (backend) => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let dispatch: DispatchDependencies;
  let replies: ReplyDependencies;
  let clock = enrolledAt;

  const welcomeOf = async (email: string): Promise<Answered> => {
    for (const message of smtp.received) {
      const sent = await answered(message.data);
      if (sent.to === email && sent.subject.startsWith('Welcome')) return sent;
    }
    throw new Error(`no welcome to ${email}`);
  };
  const reply = async (email: string, text: string, id: string) => {
    const raw = await replyTo(await welcomeOf(email), text, {
      messageId: `<${id}@mail.example.test>`,
      date: clock,
    });
    expect(await handleInbound(replies, { raw, mailbox: 'INBOX', uid: undefined })).toBe(
      'processed',
    );
  };
  const learner = (email: string) =>
    database.db
      .selectFrom('learners')
      .select(['id', 'role', 'profile'])
      .where('email', '=', email)
      .executeTakeFirstOrThrow();
  const enrolments = (email: string) =>
    database.db
      .selectFrom('enrolments')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .innerJoin('sequence_versions', 'sequence_versions.id', 'enrolments.sequence_version_id')
      .select([
        'enrolments.id',
        'sequence_versions.sequence_id as programme',
        'enrolments.status',
        'enrolments.starts_on',
        'enrolments.match_reason',
      ])
      .where('learners.email', '=', email)
      .orderBy('enrolments.id')
      .execute();
  const intakeEvents = (email: string) =>
    database.db
      .selectFrom('progress_events')
      .innerJoin('enrolments', 'enrolments.id', 'progress_events.enrolment_id')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .select(['progress_events.kind', 'progress_events.data'])
      .where('learners.email', '=', email)
      .orderBy('progress_events.id')
      .execute();
  const lastAcknowledgement = async (email: string) => {
    const row = await database.db
      .selectFrom('deliveries')
      .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .select('deliveries.payload')
      .where('learners.email', '=', email)
      .where('deliveries.kind', '=', 'acknowledgement')
      .orderBy('deliveries.id', 'desc')
      .executeTakeFirstOrThrow();
    return row.payload!;
  };
  const show = async (email: string) => {
    const record = await learnerRecord(database.db, email, testMail.secret);
    const definitions = new Map<number, Sequence>();
    for (const e of record.enrolments) {
      const row = await database.db
        .selectFrom('sequence_versions')
        .select('definition')
        .where('id', '=', Number(e.sequence_version_id))
        .executeTakeFirstOrThrow();
      definitions.set(Number(e.sequence_version_id), row.definition as Sequence);
    }
    return formatLearnerView(learnerView(record, definitions));
  };

  beforeAll(async () => {
    database = await openMigrated(backend);
    smtp = await startSmtpServer();
    await enrolCohort(enrolmentStore(database.db), exampleCohort.rows, shippedProgrammes, {
      dryRun: false,
      holidays: new Set(),
      now: enrolledAt,
    });
    dispatch = {
      store: dispatchStore(database.db),
      transport: createSmtpTransport({ url: smtp.url }),
      mail: testMail,
      workerId: 'test-worker',
      retryDelay: () => 60_000,
      compiled: programmeCache({ validation: 'soft' }),
    };
    replies = {
      store: replyStore(database.db),
      read: readMessage,
      secret: testMail.secret,
      replyAddress: testMail.replyAddress,
      now: () => clock,
      programmes: () => Promise.resolve(shippedProgrammes),
    };
    clock = new Date('2027-01-01T09:05:00Z');
    await drainDue(dispatch, () => clock);
  });
  afterAll(async () => {
    await dispatch?.transport.close();
    await smtp?.close();
    await database?.close();
  });

  it('the welcome asks the questions, numbered, with how to answer', async () => {
    const welcome = await welcomeOf(fiona);
    expect(welcome.text).toContain('1. Which is closest to your work?');
    expect(welcome.text).toContain('(a number from 1 to 5)');
    expect(welcome.text).toContain('For example: 1: Communications or press, 2: 3,');
  });

  it('answers before week 1 update the profile and move the learner to the programme they now match', async () => {
    clock = new Date('2027-01-01T10:00:00Z');
    await reply(
      fiona,
      '1. I do the comms for our housing team 2) 2\n3 - time, mostly',
      'fiona-intake',
    );

    const after = await learner(fiona);
    expect(after.role).toBe('comms-officer');
    expect(after.profile).toMatchObject({ confidence: 2, barriers: ['no-time'] });
    const [old, moved] = await enrolments(fiona);
    expect(old).toMatchObject({ programme: 'digital-foundations', status: 'stopped' });
    expect(moved).toMatchObject({ programme: 'social-media-for-comms', status: 'active' });
    expect(String(moved!.starts_on).slice(0, 10)).toBe('2027-01-11');
    expect(moved!.match_reason).toContain(
      'intake answers (role comms-officer; confidence 2; barriers no-time)',
    );
    expect(moved!.match_reason).toContain('moved from digital-foundations');
    // The new plan: week 1 onwards and the programme end; the welcome is not sent twice.
    const rows = await database.db
      .selectFrom('deliveries')
      .select(['kind', 'step_key'])
      .where('enrolment_id', '=', moved!.id)
      .execute();
    expect(rows.some((r) => r.step_key.startsWith('w01-'))).toBe(true);
    expect(rows.filter((r) => r.kind === 'programme_end')).toHaveLength(1);
    expect(rows.filter((r) => r.kind === 'welcome')).toHaveLength(0);

    const [event] = await intakeEvents(fiona);
    expect(event).toMatchObject({
      kind: 'intake',
      data: { from: 'digital-foundations', to: 'social-media-for-comms', moved: true },
    });
    const ack = await lastAcknowledgement(fiona);
    expect(ack.kind).toBe('intake');
    expect(ack.message).toBe(
      'Thank you: we recorded your answers: 1: Communications or press, 2: 2, 3: Time.',
    );
    expect(ack.detail).toContain(
      '"Social media for communications and press officers" suits you better',
    );
    expect(await show(fiona)).toMatch(
      /intake .*role comms-officer; confidence 2; barriers no-time: moved from digital-foundations to social-media-for-comms \(the matcher chose social-media-for-comms: role comms-officer matched/,
    );
  });

  it('after week 1 was sent, answers (here partial, and in Welsh) update the profile but do not move', async () => {
    clock = new Date('2027-01-04T09:05:00Z');
    await drainDue(dispatch, () => clock);
    clock = new Date('2027-01-04T12:00:00Z');
    await reply(gareth, '1. Polisi\n2. 4', 'gareth-intake');

    const after = await learner(gareth);
    expect(after.role).toBe('policy-officer');
    // Question 3 unanswered: the cohort file's barriers stay.
    expect(after.profile).toMatchObject({
      confidence: 4,
      barriers: ['no-time', 'fear-of-mistakes'],
    });
    const all = await enrolments(gareth);
    expect(all.map((e) => [e.programme, e.status])).toEqual([['digital-foundations', 'active']]);
    const [event] = await intakeEvents(gareth);
    expect(event).toMatchObject({
      kind: 'intake',
      data: {
        moved: false,
        from: 'digital-foundations',
        reason: 'week 1 had already been sent, so the programme was kept',
      },
    });
    expect(await show(gareth)).toContain(
      'role policy-officer; confidence 4: kept digital-foundations (week 1 had already been sent, so the programme was kept)',
    );
  });

  it('a reply that answers and says stop stops, and keeps no answers: consent first', async () => {
    clock = new Date('2027-01-04T13:00:00Z');
    await reply(gareth, 'Stop\n\n1. comms\n2. 5', 'gareth-stop');
    const [enrolment] = await enrolments(gareth);
    expect(enrolment!.status).toBe('stopped');
    expect((await learner(gareth)).profile).toMatchObject({ confidence: 4 });
    expect((await intakeEvents(gareth)).map((e) => e.kind)).toEqual(['intake', 'stop']);
  });
});
