import MailComposer from 'nodemailer/lib/mail-composer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchStore } from '../../src/db/dispatch-store.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { replyStore } from '../../src/db/reply-store.js';
import { drainDue } from '../../src/engine/dispatcher-loop.js';
import type { DispatchDependencies } from '../../src/engine/dispatch.js';
import { enrolCohort } from '../../src/engine/enrol.js';
import { assignHeld, handleInbound, type ReplyDependencies } from '../../src/engine/replies.js';
import { readMessage } from '../../src/replies/read.js';
import { createSmtpTransport } from '../../src/mail/smtp-transport.js';
import { programmeCache } from '../../src/render/index.js';
import { exampleCohort, shippedProgrammes, testMail } from '../helpers/cohort.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';
import { answered, replyTo, type Answered } from '../inbound/reply-builder.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers.js';

const programmes = shippedProgrammes;
const cohort = exampleCohort;
const mail = testMail;

// Week 1 starts on Monday 4 January 2027; London learners' kickoff goes at 09:00 (UTC).
const monday = new Date('2027-01-04T09:05:00Z');

describe.each(testBackends())('replies become progress on $name', (backend) => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let dispatch: DispatchDependencies;
  let clock = monday;
  let replies: ReplyDependencies;

  const kickoffOf = async (email: string): Promise<Answered> => {
    for (const message of smtp.received) {
      const sent = await answered(message.data);
      if (sent.to === email && sent.subject.startsWith('Week 1')) return sent;
    }
    throw new Error(`no week 1 email to ${email}`);
  };
  const handle = (raw: Buffer) => handleInbound(replies, { raw, mailbox: 'INBOX', uid: undefined });
  const learner = (email: string) =>
    database.db
      .selectFrom('learners')
      .innerJoin('enrolments', 'enrolments.learner_id', 'learners.id')
      .select([
        'learners.id',
        'learners.status',
        'enrolments.id as enrolmentId',
        'enrolments.status as enrolmentStatus',
        'enrolments.paused_until',
      ])
      .where('learners.email', '=', email)
      .executeTakeFirstOrThrow();
  const events = async (email: string) =>
    (
      await database.db
        .selectFrom('progress_events')
        .innerJoin('enrolments', 'enrolments.id', 'progress_events.enrolment_id')
        .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
        .leftJoin('deliveries', 'deliveries.id', 'progress_events.delivery_id')
        .select(['progress_events.kind', 'progress_events.data', 'deliveries.step_key'])
        .where('learners.email', '=', email)
        .orderBy('progress_events.id')
        .execute()
    ).map((e) => ({ kind: e.kind, step: e.step_key, week: e.data.week }));
  const inbound = (messageId: string) =>
    database.db
      .selectFrom('inbound_messages')
      .select(['status', 'classification', 'reason', 'raw'])
      .where('message_id', '=', messageId)
      .executeTakeFirstOrThrow();
  const acknowledgementsTo = async (email: string) => {
    const out: Answered[] = [];
    for (const message of smtp.received) {
      const sent = await answered(message.data);
      if (sent.to === email && sent.subject.startsWith('Re:')) out.push(sent);
    }
    return out;
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
    replies = {
      store: replyStore(database.db),
      read: readMessage,
      secret: mail.secret,
      replyAddress: mail.replyAddress,
      now: () => clock,
    };
    await drainDue(dispatch, () => monday);
  });
  afterAll(async () => {
    await dispatch?.transport.close();
    await smtp?.close();
    await database?.close();
  });

  it('logs "done" against the week’s assignment once, and answers in the same thread', async () => {
    const kickoff = await kickoffOf('aisha.khan@businessandtrade.gov.uk');
    const reply = await replyTo(kickoff, 'Done! I tried all five sites.', {
      messageId: '<aisha-done@mail.example.test>',
      date: new Date('2027-01-04T11:00:00Z'),
    });
    clock = new Date('2027-01-04T11:00:00Z');
    expect(await handle(reply)).toBe('processed');
    // Read again (a restart, a rescan): nothing more happens.
    expect(await handle(reply)).toBe('processed');
    expect(await events('aisha.khan@businessandtrade.gov.uk')).toEqual([
      { kind: 'done', step: 'w01-kickoff', week: 1 },
    ]);
    expect((await inbound('<aisha-done@mail.example.test>')).status).toBe('processed');

    await drainDue(dispatch, () => clock);
    const acks = await acknowledgementsTo('aisha.khan@businessandtrade.gov.uk');
    expect(acks).toHaveLength(1);
    expect(acks[0]!.subject).toBe(`Re: ${kickoff.subject}`);
    expect(acks[0]!.text).toContain("Logged: week 1 done. That's 1 of 12.");
    const ackRaw = smtp.received.at(-1)!.data.toString('latin1');
    expect(ackRaw).toMatch(/^In-Reply-To: <aisha-done@mail\.example\.test>/m);
    expect(ackRaw).toMatch(/^Auto-Submitted: auto-replied/m);
  });

  it('pauses until a date on the learner’s clock, and resumes early', async () => {
    const kickoff = await kickoffOf('daniel.evans@businessandtrade.gov.uk');
    clock = new Date('2027-01-04T12:00:00Z');
    await handle(
      await replyTo(kickoff, 'pause until 25 January please', {
        messageId: '<daniel-pause@mail.example.test>',
        date: clock,
      }),
    );
    const paused = await learner('daniel.evans@businessandtrade.gov.uk');
    expect(paused.paused_until?.toISOString()).toBe('2027-01-25T00:00:00.000Z');
    // Wednesday's invite was already in his calendar: an update moves it.
    const updates = await database.db
      .selectFrom('deliveries')
      .select(['step_key', 'starts_at', 'invite_sequence'])
      .where('enrolment_id', '=', paused.enrolmentId)
      .where('step_key', 'like', '%.r%')
      .execute();
    expect(updates.map((u) => u.step_key)).toEqual(['w01-practice.r1']);
    expect(updates[0]!.starts_at!.getTime()).toBeGreaterThan(
      new Date('2027-01-25T00:00:00Z').getTime(),
    );

    clock = new Date('2027-01-05T08:00:00Z');
    await handle(
      await replyTo(kickoff, 'resume', {
        messageId: '<daniel-resume@mail.example.test>',
        date: clock,
      }),
    );
    const resumed = await learner('daniel.evans@businessandtrade.gov.uk');
    expect(resumed.paused_until).toBeNull();
    expect((await events('daniel.evans@businessandtrade.gov.uk')).map((e) => e.kind)).toEqual([
      'pause',
      'resume',
    ]);
  });

  it('holds a command that does not carry the learner’s token, and a token used by someone else', async () => {
    const kickoff = await kickoffOf('gareth.jones@cardiff.gov.uk');
    // Sent to the plain reply address (no token), matched only by thread and sender.
    await handle(
      await replyTo(kickoff, 'stop', {
        to: mail.replyAddress,
        messageId: '<gareth-stop-no-token@mail.example.test>',
      }),
    );
    const noToken = await inbound('<gareth-stop-no-token@mail.example.test>');
    expect(noToken.status).toBe('quarantined');
    expect(noToken.reason).toContain('gym inbox assign');
    expect(noToken.raw).not.toBeNull();

    // Someone forwards Gareth's email and replies "stop" from their own address.
    await handle(
      await replyTo(kickoff, 'stop', {
        from: 'prankster@example.test',
        messageId: '<prank-stop@mail.example.test>',
      }),
    );
    const prank = await inbound('<prank-stop@mail.example.test>');
    expect(prank.status).toBe('quarantined');
    expect(prank.reason).toContain('came from prankster@example.test');
    expect((await learner('gareth.jones@cardiff.gov.uk')).enrolmentStatus).toBe('active');
    expect(await events('gareth.jones@cardiff.gov.uk')).toEqual([]);
  });

  it('stops with the token: pending rows cancelled, the invite withdrawn, the stop confirmed', async () => {
    const kickoff = await kickoffOf('gareth.jones@cardiff.gov.uk');
    clock = new Date('2027-01-04T13:00:00Z');
    await handle(
      await replyTo(kickoff, 'STOP', { messageId: '<gareth-stop@mail.example.test>', date: clock }),
    );
    const gareth = await learner('gareth.jones@cardiff.gov.uk');
    expect(gareth.enrolmentStatus).toBe('stopped');
    const rows = await database.db
      .selectFrom('deliveries')
      .select(['step_key', 'status', 'method'])
      .where('enrolment_id', '=', gareth.enrolmentId)
      .where('kind', '!=', 'acknowledgement')
      .execute();
    expect(rows.filter((r) => r.status === 'pending').map((r) => r.step_key)).toEqual([
      'w01-practice.cancel',
    ]);
    await drainDue(dispatch, () => clock);
    const after = smtp.received.slice(-2).map((m) => m.data.toString('latin1'));
    expect(after.some((raw) => /METHOD:CANCEL/.test(raw))).toBe(true);
    expect((await acknowledgementsTo('gareth.jones@cardiff.gov.uk')).at(-1)!.text).toContain(
      'Stopped',
    );
    // The trainer looks at the held "stop" and vouches for it: nothing more to stop, logged once.
    const held = await database.db
      .selectFrom('inbound_messages')
      .select(['id', 'raw'])
      .where('message_id', '=', '<gareth-stop-no-token@mail.example.test>')
      .executeTakeFirstOrThrow();
    const outcome = await assignHeld(
      replies,
      { id: held.id, raw: held.raw! },
      'gareth.jones@cardiff.gov.uk',
    );
    expect(outcome).toEqual({ applied: 'stopped the programme' });
  });

  it('never answers or counts an out-of-office, and marks a hard bounce', async () => {
    const kickoff = await kickoffOf('siobhan.obrien@fcdo.gov.uk').catch(() => undefined);
    const target = kickoff ?? (await kickoffOf('aisha.khan@businessandtrade.gov.uk'));
    const before = smtp.received.length;
    await handle(
      await replyTo(target, 'I am out of the office until 11 January.', {
        subject: `Automatic reply: ${target.subject}`,
        headers: { 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' },
        messageId: '<ooo@mail.example.test>',
      }),
    );
    expect((await inbound('<ooo@mail.example.test>')).classification).toBe('auto_reply');
    expect((await inbound('<ooo@mail.example.test>')).status).toBe('processed');

    const bounce = dsn(target, '5.1.1', 'smtp; 550 5.1.1 user unknown');
    await handle(bounce);
    expect((await learner(target.to)).status).toBe('bounced');
    await drainDue(dispatch, () => clock);
    // Neither robot got an answer; the address that bounces gets nothing more.
    const after = await Promise.all(smtp.received.slice(before).map((m) => answered(m.data)));
    expect(after.filter((m) => m.to === target.to)).toEqual([]);
  });

  it('logs an RSVP against the invite, and parks mail from a stranger with its bytes', async () => {
    const invite = await inviteTo('james.okafor@businessandtrade.gov.uk').catch(() => undefined);
    const target = invite ?? (await firstInvite());
    await handle(rsvpFor(target, 'ACCEPTED'));
    expect((await inbound(`<rsvp-${target.uid}@mail.example.test>`)).status).toBe('processed');
    const rsvp = await database.db
      .selectFrom('progress_events')
      .select(['kind', 'data'])
      .where('kind', '=', 'rsvp')
      .executeTakeFirstOrThrow();
    expect(rsvp.data).toMatchObject({ partstat: 'ACCEPTED' });

    const stranger = new MailComposer({
      newline: 'windows',
      from: 'someone@elsewhere.example',
      to: mail.replyAddress,
      subject: 'hello',
      messageId: '<stranger@elsewhere.example>',
      text: 'done',
    });
    expect(await handle(await stranger.compile().build())).toBe('processed');
    const parked = await inbound('<stranger@elsewhere.example>');
    expect(parked.status).toBe('parked');
    expect(parked.raw).not.toBeNull();
  });

  it('answers at most three replies per learner a day, so two robots cannot loop', async () => {
    const kickoff = await kickoffOf('priya.sharma@fcdo.gov.uk').catch(() => undefined);
    const target = kickoff ?? (await kickoffOf('aisha.khan@businessandtrade.gov.uk'));
    clock = new Date('2027-01-06T10:00:00Z');
    for (let i = 0; i < 6; i += 1)
      await handle(
        await replyTo(target, `Thought number ${i}: short posts work better.`, {
          messageId: `<loop-${i}@mail.example.test>`,
          date: clock,
        }),
      );
    const acks = await database.db
      .selectFrom('deliveries')
      .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('learners.email', '=', target.to)
      .where('deliveries.kind', '=', 'acknowledgement')
      .where('deliveries.due_at', '>=', new Date('2027-01-06T00:00:00Z'))
      .executeTakeFirstOrThrow();
    expect(Number(acks.n)).toBe(3);
    expect((await events(target.to)).filter((e) => e.kind === 'reflection')).toHaveLength(6);
  });

  it('keeps the withdrawal a skip queued when a stop follows', async () => {
    const kickoff = await kickoffOf('priya.sharma@fcdo.gov.uk');
    clock = new Date('2027-01-05T06:00:00Z');
    for (const [body, id] of [
      ['skip', '<priya-skip@mail.example.test>'],
      ['stop', '<priya-stop@mail.example.test>'],
    ] as const)
      await handle(await replyTo(kickoff, body, { messageId: id, date: clock }));
    const priya = await learner('priya.sharma@fcdo.gov.uk');
    expect(priya.enrolmentStatus).toBe('stopped');
    const cancels = await database.db
      .selectFrom('deliveries')
      .select(['step_key', 'status', 'invite_sequence'])
      .where('enrolment_id', '=', priya.enrolmentId)
      .where('method', '=', 'CANCEL')
      .execute();
    expect(cancels).toEqual([
      { step_key: 'w01-practice.cancel', status: 'pending', invite_sequence: 1 },
    ]);
  });

  it('parks unreadable bytes and says "failed", so the mailbox files them aside', async () => {
    const verdict = await handle(Buffer.from('\u0000\u0001 not an email at all', 'latin1'));
    expect(['failed', 'processed']).toContain(verdict);
    const rows = await database.db
      .selectFrom('inbound_messages')
      .select(['status', 'raw'])
      .where('status', '=', 'parked')
      .execute();
    expect(rows.every((r) => r.raw !== null)).toBe(true);
  });

  it('counts the assignments a learner has done in the progress line of her next email', async () => {
    // Aisha said "done" to week 1 (the first test); Tom, in New York, has said nothing.
    await drainDue(dispatch, () => new Date('2027-01-11T15:00:00Z'));
    const weekTwoTo = async (email: string): Promise<Answered> => {
      for (const message of smtp.received) {
        const sent = await answered(message.data);
        if (sent.to === email && sent.subject.startsWith('Week 2')) return sent;
      }
      throw new Error(`no week 2 email to ${email}`);
    };
    expect((await weekTwoTo('aisha.khan@businessandtrade.gov.uk')).text).toContain(
      'Week 2 of 12 · 1 assignment done',
    );
    // Zero is left out, not printed as "0 assignments done".
    const tom = (await weekTwoTo('tom.fletcher@fcdo.gov.uk')).text;
    expect(tom).toContain('Week 2 of 12');
    expect(tom).not.toMatch(/assignments? done/);
  });

  // An invite we sent, with its UID, to answer as a calendar would.
  async function inviteTo(email: string) {
    const row = await database.db
      .selectFrom('deliveries')
      .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .select(['deliveries.invite_uid', 'learners.email'])
      .where('learners.email', '=', email)
      .where('deliveries.invite_uid', 'is not', null)
      .executeTakeFirstOrThrow();
    return { uid: row.invite_uid!, email: row.email };
  }
  async function firstInvite() {
    const row = await database.db
      .selectFrom('deliveries')
      .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .select(['deliveries.invite_uid', 'learners.email'])
      .where('deliveries.invite_uid', 'is not', null)
      .where('learners.status', '=', 'active')
      .executeTakeFirstOrThrow();
    return { uid: row.invite_uid!, email: row.email };
  }
});

/** A Postfix-style delivery status notification for a message we sent. */
function dsn(original: Answered, status: string, diagnostic: string): Buffer {
  const boundary = 'dsn-boundary';
  return Buffer.from(
    [
      'From: MAILER-DAEMON@mx.example.test (Mail Delivery System)',
      'To: progress@gym.example.gov.uk',
      'Subject: Undelivered Mail Returned to Sender',
      'Message-ID: <bounce-1@mx.example.test>',
      'Date: Mon, 04 Jan 2027 12:00:00 +0000',
      'Auto-Submitted: auto-replied',
      'MIME-Version: 1.0',
      `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain',
      '',
      'I could not deliver your message.',
      `--${boundary}`,
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example.test',
      '',
      `Final-Recipient: rfc822; ${original.to}`,
      'Action: failed',
      `Status: ${status}`,
      `Diagnostic-Code: ${diagnostic}`,
      '',
      `--${boundary}`,
      'Content-Type: text/rfc822-headers',
      '',
      `Message-ID: ${original.messageId}`,
      `To: ${original.to}`,
      `Subject: ${original.subject}`,
      '',
      `--${boundary}--`,
      '',
    ].join('\r\n'),
  );
}

/** An Outlook-style calendar reply (iTIP METHOD:REPLY) to one of our invites. */
function rsvpFor(invite: { uid: string; email: string }, partstat: string): Buffer {
  const ics = [
    'BEGIN:VCALENDAR',
    'PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN',
    'VERSION:2.0',
    'METHOD:REPLY',
    'BEGIN:VEVENT',
    `ATTENDEE;PARTSTAT=${partstat}:mailto:${invite.email}`,
    `UID:${invite.uid}`,
    'SEQUENCE:0',
    'DTSTAMP:20270104T120000Z',
    'DTSTART:20270106T140000Z',
    'END:VEVENT',
    'END:VCALENDAR',
  ].join('\r\n');
  return Buffer.from(
    [
      `From: ${invite.email}`,
      'To: progress@gym.example.gov.uk',
      'Subject: Accepted: Digital Gym practice',
      `Message-ID: <rsvp-${invite.uid}@mail.example.test>`,
      'Date: Mon, 04 Jan 2027 12:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/calendar; charset="utf-8"; method=REPLY',
      '',
      ics,
      '',
    ].join('\r\n'),
  );
}
