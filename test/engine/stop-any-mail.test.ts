import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchStore } from '../../src/db/dispatch-store.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { replyStore } from '../../src/db/reply-store.js';
import { drainDue } from '../../src/engine/dispatcher-loop.js';
import type { DispatchDependencies } from '../../src/engine/dispatch.js';
import { enrolCohort } from '../../src/engine/enrol.js';
import { handleInbound, type ReplyDependencies } from '../../src/engine/replies.js';
import { createSmtpTransport } from '../../src/mail/smtp-transport.js';
import { programmeCache } from '../../src/render/index.js';
import { readMessage } from '../../src/replies/read.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';
import { exampleCohort, shippedProgrammes, testMail } from '../helpers/cohort.js';
import { answered, replyTo, type Answered } from '../inbound/reply-builder.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers.js';

/*
 * Consent (#14): a "stop" or "unsubscribe" in answer to ANY mail we send a learner stops them,
 * not only an answer to a programme step: the welcome, an acknowledgement, a question with
 * buttons, the programme-end email. (A manager's answer to their introduction or a digest is in
 * test/engine/digests.test.ts.) Real reader, real database (both backends), real SMTP.
 */

const sunday = new Date('2027-01-03T09:05:00Z');
const monday = new Date('2027-01-04T09:05:00Z');
const who = {
  welcomeStop: 'priya.sharma@fcdo.gov.uk',
  welcomeUnsubscribe: 'daniel.evans@businessandtrade.gov.uk',
  ackStop: 'siobhan.obrien@fcdo.gov.uk',
  questionStop: 'aisha.khan@businessandtrade.gov.uk',
  endUnsubscribe: 'fiona.campbell@cardiff.gov.uk',
} as const;

describe.each(testBackends())('a stop in answer to any mail we send, on $name', (backend) => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let dispatch: DispatchDependencies;
  let replies: ReplyDependencies;
  let clock = monday;

  const handle = (raw: Buffer) => handleInbound(replies, { raw, mailbox: 'INBOX', uid: undefined });
  const mailTo = async (email: string): Promise<Answered[]> => {
    const out: Answered[] = [];
    for (const message of smtp.received) {
      const sent = await answered(message.data);
      if (sent.to === email) out.push(sent);
    }
    return out;
  };
  const find = async (email: string, what: (m: Answered) => boolean): Promise<Answered> => {
    const found = (await mailTo(email)).filter(what).at(-1);
    if (found === undefined) throw new Error(`no such mail to ${email}`);
    return found;
  };
  const state = async (email: string) => {
    const row = await database.db
      .selectFrom('enrolments')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .select(['enrolments.status', 'learners.status as learner'])
      .where('learners.email', '=', email)
      .executeTakeFirstOrThrow();
    const scopes = await database.db
      .selectFrom('suppressions')
      .select('scope')
      .where('address', '=', email)
      .where('lifted_at', 'is', null)
      .execute();
    return { ...row, scopes: scopes.map((s) => s.scope).sort() };
  };
  const inbound = (messageId: string) =>
    database.db
      .selectFrom('inbound_messages')
      .select(['status', 'reason'])
      .where('message_id', '=', messageId)
      .executeTakeFirstOrThrow();

  beforeAll(async () => {
    database = await openMigrated(backend);
    smtp = await startSmtpServer();
    await enrolCohort(enrolmentStore(database.db), exampleCohort.rows, shippedProgrammes, {
      dryRun: false,
      holidays: new Set(),
      now: sunday,
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
    };
    await drainDue(dispatch, () => monday);
  });
  afterAll(async () => {
    await dispatch?.transport.close();
    await smtp?.close();
    await database?.close();
  });

  const isWelcome = (m: Answered) => m.subject.startsWith('Welcome to');

  it('stops the programme on "stop" in answer to the welcome', async () => {
    const welcome = await find(who.welcomeStop, isWelcome);
    expect(await handle(await replyTo(welcome, 'stop', { messageId: '<w-stop@x.test>' }))).toBe(
      'processed',
    );
    expect(await inbound('<w-stop@x.test>')).toMatchObject({ status: 'processed' });
    const { status, scopes } = await state(who.welcomeStop);
    expect(status).toBe('stopped');
    expect(scopes).toEqual([expect.stringMatching(/^programme:/)]);
  });

  it('unsubscribes on "unsubscribe" in answer to the welcome', async () => {
    const welcome = await find(who.welcomeUnsubscribe, isWelcome);
    await handle(await replyTo(welcome, 'Unsubscribe', { messageId: '<w-unsub@x.test>' }));
    const { status, scopes } = await state(who.welcomeUnsubscribe);
    expect(status).toBe('stopped');
    expect(scopes).toContain('all');
  });

  it('stops the programme on "stop" in answer to an acknowledgement', async () => {
    const kickoff = await find(who.ackStop, (m) => m.subject.startsWith('Week 1'));
    await handle(await replyTo(kickoff, 'done', { messageId: '<a-done@x.test>' }));
    await drainDue(dispatch, () => clock);
    const ack = await find(who.ackStop, (m) => m.subject.startsWith('Re:'));
    expect(ack.text).toContain('Logged: week 1 done');
    await handle(await replyTo(ack, 'STOP', { messageId: '<a-stop@x.test>' }));
    expect(await inbound('<a-stop@x.test>')).toMatchObject({
      status: 'processed',
      reason: 'stopped the programme',
    });
    expect((await state(who.ackStop)).status).toBe('stopped');
  });

  it('stops the programme on "stop" in answer to a question with buttons', async () => {
    const kickoff = await find(who.questionStop, (m) => m.subject.startsWith('Week 1'));
    await handle(
      await replyTo(kickoff, 'Thanks. Maybe I should stop for now.', { messageId: '<q@x.test>' }),
    );
    await drainDue(dispatch, () => clock);
    const question = await find(who.questionStop, (m) => m.subject.startsWith('Re:'));
    expect(question.text).toContain('Did you mean: stop this programme?');
    expect((await state(who.questionStop)).status).toBe('active');
    // Not a tap on a button: a plain answer to the question, which says stop.
    await handle(await replyTo(question, 'stop', { messageId: '<q-stop@x.test>' }));
    expect((await state(who.questionStop)).status).toBe('stopped');
  });

  it('unsubscribes on "unsubscribe" in answer to the programme-end email', async () => {
    // Her programme ends today: its last row, the end email, falls due now.
    await database.db
      .updateTable('deliveries')
      .set({ due_at: clock })
      .where('kind', '=', 'programme_end')
      .where(
        'enrolment_id',
        'in',
        database.db
          .selectFrom('enrolments')
          .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
          .select('enrolments.id')
          .where('learners.email', '=', who.endUnsubscribe),
      )
      .execute();
    await drainDue(dispatch, () => clock);
    const end = await find(who.endUnsubscribe, (m) => m.subject.startsWith('You have finished'));
    await handle(await replyTo(end, 'Please unsubscribe me', { messageId: '<e-unsub@x.test>' }));
    expect(await inbound('<e-unsub@x.test>')).toMatchObject({ status: 'processed' });
    expect((await state(who.endUnsubscribe)).scopes).toContain('all');
  });

  it('sends none of them anything more but the confirmation of their stop', async () => {
    const before = new Map<string, number>();
    for (const email of Object.values(who)) before.set(email, (await mailTo(email)).length);
    clock = new Date('2027-02-01T09:05:00Z');
    await drainDue(dispatch, () => clock);
    for (const email of Object.values(who)) {
      const after = (await mailTo(email)).slice(before.get(email));
      // A withdrawn practice slot (METHOD:CANCEL) and the stop's own acknowledgement are the
      // only mail a stop can still cause; no programme step, no welcome.
      expect(
        after.filter((m) => !m.subject.startsWith('Re:') && !m.subject.startsWith('Cancelled')),
        email,
      ).toEqual([]);
    }
  });
});
