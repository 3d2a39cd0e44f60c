import MailComposer from 'nodemailer/lib/mail-composer';
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
 * Asking when unsure (#12 §2): a probable command changes nothing and is not filed as a
 * reflection; the acknowledgement asks with two one-tap buttons, and the learner's tap completes
 * it. Real reader, real database (both backends), real SMTP.
 */

const monday = new Date('2027-01-04T09:05:00Z');
const daniel = 'daniel.evans@businessandtrade.gov.uk';
const aisha = 'aisha.khan@businessandtrade.gov.uk';
const gareth = 'gareth.jones@cardiff.gov.uk';

/** What a mail client sends when the learner taps a `mailto:` button. */
function tap(from: string, mailto: string, messageId: string, date: Date): Promise<Buffer> {
  const url = new URL(mailto);
  return new MailComposer({
    newline: 'windows',
    from,
    to: decodeURIComponent(url.pathname),
    subject: url.searchParams.get('subject') ?? '',
    text: url.searchParams.get('body') ?? '',
    messageId,
    date,
  })
    .compile()
    .build();
}

describe.each(testBackends())('asking about a probable command on $name', (backend) => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let dispatch: DispatchDependencies;
  let replies: ReplyDependencies;
  let clock = monday;

  const handle = (raw: Buffer) => handleInbound(replies, { raw, mailbox: 'INBOX', uid: undefined });
  const kickoffOf = async (email: string): Promise<Answered> => {
    for (const message of smtp.received) {
      const sent = await answered(message.data);
      if (sent.to === email && sent.subject.startsWith('Week 1')) return sent;
    }
    throw new Error(`no week 1 email to ${email}`);
  };
  const lastAnswerTo = async (email: string): Promise<Answered> => {
    for (const message of [...smtp.received].reverse()) {
      const sent = await answered(message.data);
      if (sent.to === email && sent.subject.startsWith('Re:')) return sent;
    }
    throw new Error(`no acknowledgement to ${email}`);
  };
  const buttons = (ack: Answered) => ({
    yes: /^Yes, [^:\n]+: (mailto:\S+)$/m.exec(ack.text)?.[1],
    no: /^No, it was a note: (mailto:\S+)$/m.exec(ack.text)?.[1],
  });
  const enrolment = (email: string) =>
    database.db
      .selectFrom('enrolments')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .select(['enrolments.status', 'enrolments.paused_until', 'learners.status as learner'])
      .where('learners.email', '=', email)
      .executeTakeFirstOrThrow();
  const events = async (email: string) =>
    (
      await database.db
        .selectFrom('progress_events')
        .innerJoin('enrolments', 'enrolments.id', 'progress_events.enrolment_id')
        .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
        .innerJoin('inbound_messages', 'inbound_messages.id', 'progress_events.inbound_message_id')
        .select(['progress_events.kind', 'progress_events.data', 'inbound_messages.message_id'])
        .where('learners.email', '=', email)
        .orderBy('progress_events.id')
        .execute()
    ).map((e) => ({ kind: e.kind, messageId: e.message_id, data: e.data }));
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

  it('asks about a probable pause, changes nothing, and the learner’s "Yes" completes it', async () => {
    clock = new Date('2027-01-04T12:00:00Z');
    const kickoff = await kickoffOf(daniel);
    expect(
      await handle(
        await replyTo(kickoff, 'Thanks for this. I think I should pause for 2 weeks.', {
          messageId: '<daniel-maybe@mail.example.test>',
          date: clock,
        }),
      ),
    ).toBe('processed');
    // Neither acted on nor filed as a reflection.
    expect((await enrolment(daniel)).paused_until).toBeNull();
    expect(await events(daniel)).toEqual([]);
    expect((await inbound('<daniel-maybe@mail.example.test>')).reason).toBe(
      'asked: did you mean pause for 2 weeks? (nothing changed yet)',
    );

    await drainDue(dispatch, () => clock);
    const question = await lastAnswerTo(daniel);
    expect(question.subject).toBe(`Re: ${kickoff.subject}`);
    expect(question.text).toContain('Did you mean: pause for 2 weeks?');
    const { yes, no } = buttons(question);
    expect(yes).toMatch(/^mailto:progress\+y1[0-9a-z]+@gym\.example\.gov\.uk\?subject=/);
    expect(no).toMatch(/^mailto:progress\+n1[0-9a-z]+@gym\.example\.gov\.uk\?subject=/);

    clock = new Date('2027-01-04T13:00:00Z');
    expect(await handle(await tap(daniel, yes!, '<daniel-yes@mail.example.test>', clock))).toBe(
      'processed',
    );
    const paused = await enrolment(daniel);
    expect(paused.paused_until?.toISOString()).toBe('2027-01-18T13:00:00.000Z');
    // Recorded against the message that asked, with the learner's own words.
    expect(await events(daniel)).toMatchObject([
      {
        kind: 'pause',
        messageId: '<daniel-maybe@mail.example.test>',
        data: {
          week: 1,
          text: 'Thanks for this. I think I should pause for 2 weeks.',
          until: '2027-01-18T13:00:00.000Z',
        },
      },
    ]);
    await drainDue(dispatch, () => clock);
    expect((await lastAnswerTo(daniel)).text).toContain('Paused until Monday 18 January.');

    // A second tap, either button: nothing more changes.
    clock = new Date('2027-01-04T14:00:00Z');
    await handle(await tap(daniel, no!, '<daniel-no-later@mail.example.test>', clock));
    expect((await events(daniel)).map((e) => e.kind)).toEqual(['pause']);
    expect((await enrolment(daniel)).paused_until?.toISOString()).toBe('2027-01-18T13:00:00.000Z');
  });

  it('asks about a probable stop; a tap from someone else proves nothing; "No" keeps it as a note', async () => {
    clock = new Date('2027-01-05T10:00:00Z');
    const kickoff = await kickoffOf(aisha);
    await handle(
      await replyTo(kickoff, 'Thanks. Maybe I should stop for now.', {
        messageId: '<aisha-maybe-stop@mail.example.test>',
        date: clock,
      }),
    );
    expect((await enrolment(aisha)).status).toBe('active');
    await drainDue(dispatch, () => clock);
    const question = await lastAnswerTo(aisha);
    expect(question.text).toContain('Did you mean: stop this programme?');
    const { yes, no } = buttons(question);

    // The signed address forwarded to someone else: held, and nothing stops.
    await handle(await tap('prankster@example.test', yes!, '<prank-yes@mail.example.test>', clock));
    expect((await inbound('<prank-yes@mail.example.test>')).status).toBe('quarantined');
    expect((await enrolment(aisha)).status).toBe('active');

    // A "no" can never be turned into a "yes": the answer is part of what is signed.
    const forged = no!.replace('progress+n', 'progress+y');
    await handle(await tap(aisha, forged, '<aisha-forged@mail.example.test>', clock));
    // Not a verified answer: read as an ordinary reply from her ("no"), which changes nothing.
    expect((await inbound('<aisha-forged@mail.example.test>')).reason).not.toMatch(/answered/);
    expect((await enrolment(aisha)).status).toBe('active');

    await handle(await tap(aisha, no!, '<aisha-no@mail.example.test>', clock));
    expect((await enrolment(aisha)).status).toBe('active');
    const aboutTheQuestion = (await events(aisha)).filter(
      (e) => e.messageId === '<aisha-maybe-stop@mail.example.test>',
    );
    expect(aboutTheQuestion).toMatchObject([
      {
        kind: 'reflection',
        messageId: '<aisha-maybe-stop@mail.example.test>',
        data: { text: 'Thanks. Maybe I should stop for now.' },
      },
    ]);
  });

  it('answers a "resume" after a stop with how to rejoin, never silently', async () => {
    clock = new Date('2027-01-05T11:00:00Z');
    const kickoff = await kickoffOf(gareth);
    await handle(
      await replyTo(kickoff, 'STOP', { messageId: '<gareth-stop@mail.example.test>', date: clock }),
    );
    expect((await enrolment(gareth)).status).toBe('stopped');
    clock = new Date('2027-01-05T12:00:00Z');
    await handle(
      await replyTo(kickoff, 'resume', {
        messageId: '<gareth-resume@mail.example.test>',
        date: clock,
      }),
    );
    expect((await enrolment(gareth)).status).toBe('stopped');
    expect((await events(gareth)).at(-1)).toMatchObject({
      kind: 'resume',
      data: { rejoin: true, flagged: true },
    });
    await drainDue(dispatch, () => clock);
    const answer = await lastAnswerTo(gareth);
    expect(answer.text).toContain('Your programme was stopped, so a reply cannot restart it.');
    expect(answer.text).toContain('To rejoin, ask your trainer');
  });
});
