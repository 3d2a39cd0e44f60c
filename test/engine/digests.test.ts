import MailComposer from 'nodemailer/lib/mail-composer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestStore } from '../../src/db/digest-store.js';
import { dispatchStore } from '../../src/db/dispatch-store.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { replyStore } from '../../src/db/reply-store.js';
import { digestTick } from '../../src/engine/digests.js';
import type { DispatchDependencies } from '../../src/engine/dispatch.js';
import { drainDue } from '../../src/engine/dispatcher-loop.js';
import { enrolCohort } from '../../src/engine/enrol.js';
import { handleInbound } from '../../src/engine/replies.js';
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
const managers = [
  'helen.walsh@fcdo.gov.uk',
  'rachel.green@businessandtrade.gov.uk',
  'mark.davies@cardiff.gov.uk',
];
const hour = 60 * 60 * 1000;
const isDigest = (m: Answered) => m.subject.startsWith('Your team this fortnight');
const isIntroduction = (m: Answered) => m.subject === 'Your team is starting Digital Gym';

describe.each(testBackends())('manager digests on $name', (backend) => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  const workers: DispatchDependencies[] = [];

  const digestsTo = async (email: string): Promise<Answered[]> => {
    const out: Answered[] = [];
    for (const message of smtp.received) {
      const sent = await answered(message.data);
      if (sent.to === email) out.push(sent);
    }
    return out;
  };
  // Every hour of the clock: learners' emails, then both workers race for the digests.
  const runUntil = async (from: Date, to: Date) => {
    for (let t = from.getTime(); t <= to.getTime(); t += hour) {
      const now = new Date(t);
      await drainDue(workers[0]!, () => now);
      await Promise.all(workers.map((w) => digestTick(w, w.digests!, now)));
    }
  };

  beforeAll(async () => {
    database = await openMigrated(backend);
    smtp = await startSmtpServer();
    await enrolCohort(enrolmentStore(database.db), cohort.rows, programmes, {
      dryRun: false,
      holidays: new Set(),
    });
    const other = await database.connectAgain();
    for (const [name, db] of [
      ['worker-a', database.db],
      ['worker-b', other.db],
    ] as const) {
      workers.push({
        store: dispatchStore(db),
        transport: createSmtpTransport({ url: smtp.url }),
        mail,
        workerId: name,
        retryDelay: () => 60_000,
        compiled: programmeCache({ validation: 'soft' }),
        digests: digestStore(db),
      });
    }
  });
  afterAll(async () => {
    for (const w of workers) await w.transport.close();
    await smtp?.close();
    await database?.close();
  });

  it('sends each manager one digest a fortnight, on a working-day morning in their zone', async () => {
    await runUntil(new Date('2027-01-03T00:00:00Z'), new Date('2027-01-19T23:00:00Z'));
    for (const manager of managers) {
      const digests = (await digestsTo(manager)).filter((m) => isDigest(m));
      // Week 1 and week 3, whichever of the two workers got there first.
      expect(
        digests.map((d) => d.subject),
        manager,
      ).toHaveLength(2);
    }
    const rows = await database.db
      .selectFrom('manager_digests')
      .select(['status', 'period_starts_on', 'learners'])
      .orderBy('manager_id')
      .orderBy('period_starts_on')
      .execute();
    expect(rows.map((r) => [r.status, r.period_starts_on])).toEqual([
      ['sent', '2027-01-04'],
      ['sent', '2027-01-18'],
      ['sent', '2027-01-04'],
      ['sent', '2027-01-18'],
      ['sent', '2027-01-04'],
      ['sent', '2027-01-18'],
    ]);
    // Rachel manages Aisha, Daniel and James (who starts a week later, but is enrolled).
    expect(rows[2]!.learners).toBe(3);
  });

  it("introduces each manager once, before their first digest and their people's first step", async () => {
    for (const manager of managers) {
      const mail = await digestsTo(manager);
      const introductions = mail.filter(isIntroduction);
      expect(introductions, manager).toHaveLength(1);
      // Before the first digest, and before the learners' first emails of Monday 4 January.
      expect(mail.indexOf(introductions[0]!), manager).toBeLessThan(mail.findIndex(isDigest));
    }
    const rows = await database.db
      .selectFrom('manager_introductions')
      .innerJoin('managers', 'managers.id', 'manager_introductions.manager_id')
      .select(['managers.email', 'managers.time_zone', 'manager_introductions.sent_at'])
      .where('manager_introductions.status', '=', 'sent')
      .orderBy('managers.email')
      .execute();
    // The example cohort gives no manager zone: each got their first learner's, and was told so.
    // Their time (08:00 on Friday 1 January) had passed when the clock started on Sunday 3
    // January: each went at the first tick, the day before the first digest.
    expect(rows.map((r) => [r.email, r.time_zone, r.sent_at?.toISOString()])).toEqual([
      ['helen.walsh@fcdo.gov.uk', 'Asia/Kolkata', '2027-01-03T00:00:00.000Z'],
      ['mark.davies@cardiff.gov.uk', 'Europe/London', '2027-01-03T00:00:00.000Z'],
      ['rachel.green@businessandtrade.gov.uk', 'Europe/London', '2027-01-03T00:00:00.000Z'],
    ]);
    const rachel = (await digestsTo('rachel.green@businessandtrade.gov.uk')).find(isIntroduction)!;
    expect(rachel.text).toContain('3 people you manage are starting a Digital Gym programme');
    expect(rachel.text).toContain('- Aisha Khan: Digital engagement for policy officials');
    expect(rachel.text).toContain('the first on Monday 4 January');
    expect(rachel.text).toContain('Protect their 30 minutes of practice each week.');
  });

  it('names each learner, their week and a tip, with a one-tap "I\'ve talked to" reply', async () => {
    const [, second] = (await digestsTo('rachel.green@businessandtrade.gov.uk')).filter((m) =>
      isDigest(m),
    );
    expect(second!.text).toContain('AISHA KHAN');
    expect(second!.text).toMatch(/Week 3 of 12/);
    expect(second!.text).toContain('For the next fortnight:');
    expect(second!.text).toContain('Reply "Talked to Aisha Khan"');
  });

  it('flags who needs a word: Aisha and Daniel, two weeks behind and quiet since week 1; not James', async () => {
    const [, second] = (await digestsTo('rachel.green@businessandtrade.gov.uk')).filter((m) =>
      isDigest(m),
    );
    const text = second!.text;
    expect(text).toContain('2 could use a word from you this fortnight.');
    const block = (name: string) => text.slice(text.indexOf(name)).split('\nTalked to')[0]!;
    for (const name of ['AISHA KHAN', 'DANIEL EVANS']) {
      expect(block(name), name).toContain('· 0 of 2 assignments done');
      // Nobody replied: 13 days since their first email on 4 January, to the morning of the 18th.
      expect(
        block(name)
          .split('\n')
          .filter((line) => line.startsWith('* ')),
        name,
      ).toEqual([
        '* Behind on assignments. Could you protect 30 minutes in their diary this week for practice?',
        '* Quiet for 13 days. A quick "how is it going?" at your next one-to-one often gets things moving again.',
      ]);
    }
    // James started a week later: one assignment due, nothing to flag yet.
    expect(block('JAMES OKAFOR')).toContain('· 0 of 1 assignment done');
    expect(block('JAMES OKAFOR')).not.toMatch(/^\* /m);
  });

  it('logs a manager’s "Talked to Aisha" as engagement about Aisha', async () => {
    const [, second] = (await digestsTo('rachel.green@businessandtrade.gov.uk')).filter((m) =>
      isDigest(m),
    );
    const reply = await new MailComposer({
      newline: 'windows',
      from: 'Rachel Green <rachel.green@businessandtrade.gov.uk>',
      to: mail.replyAddress,
      subject: `Re: ${second!.subject}`,
      inReplyTo: second!.messageId,
      messageId: '<rachel-talked@businessandtrade.gov.uk>',
      text: 'Talked to Aisha Khan\n\nOn Mon, 18 Jan 2027, Digital Gym wrote:\n> Your team',
    })
      .compile()
      .build();
    const verdict = await handleInbound(
      {
        store: replyStore(database.db),
        read: readMessage,
        secret: mail.secret,
        replyAddress: mail.replyAddress,
        now: () => new Date('2027-01-18T12:00:00Z'),
      },
      { raw: reply, mailbox: 'INBOX', uid: undefined },
    );
    expect(verdict).toBe('processed');
    const engagement = await database.db
      .selectFrom('manager_replies')
      .innerJoin('learners', 'learners.id', 'manager_replies.learner_id')
      .select(['manager_replies.action', 'learners.first_name', 'manager_replies.digest_id'])
      .executeTakeFirstOrThrow();
    expect(engagement.action).toBe('talked');
    expect(engagement.first_name).toBe('Aisha');
    expect(engagement.digest_id).not.toBeNull();
  });

  it('sends a manager whose people have all stopped one last digest that tells of it, and tells of a stop once', async () => {
    // Tom stops on 20 January, in week 3: Helen's next digest says so, and only that one.
    await database.db
      .updateTable('enrolments')
      .set({ status: 'stopped', ended_at: new Date('2027-01-20T00:00:00Z') })
      .where(
        'learner_id',
        'in',
        database.db
          .selectFrom('learners')
          .select('id')
          .where('email', '=', 'tom.fletcher@fcdo.gov.uk'),
      )
      .execute();
    await database.db
      .updateTable('enrolments')
      .set({ status: 'stopped', ended_at: new Date('2027-01-20T00:00:00Z') })
      .where(
        'learner_id',
        'in',
        database.db
          .selectFrom('learners')
          .innerJoin('managers', 'managers.id', 'learners.manager_id')
          .select('learners.id')
          .where('managers.email', '=', 'mark.davies@cardiff.gov.uk'),
      )
      .execute();
    await runUntil(new Date('2027-01-20T00:00:00Z'), new Date('2027-02-02T12:00:00Z'));
    const digests = (await digestsTo('mark.davies@cardiff.gov.uk')).filter((m) => isDigest(m));
    // 4 and 18 January, then one last on 1 February: nobody is left, and it says who stopped when.
    expect(digests).toHaveLength(3);
    const last = digests[2]!.text;
    expect(last).toContain('Gareth Jones stopped in week 3.');
    expect(last).toMatch(/Fiona Campbell stopped in week \d+\./);
    expect(last).toContain('Nobody you manage is on a programme at the moment');
    expect(digests[1]!.text).not.toContain('stopped in week');
    const row = await database.db
      .selectFrom('manager_digests')
      .innerJoin('managers', 'managers.id', 'manager_digests.manager_id')
      .select(['manager_digests.status', 'manager_digests.learners'])
      .where('managers.email', '=', 'mark.davies@cardiff.gov.uk')
      .where('period_starts_on', '=', '2027-02-01')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'sent', learners: 0 });
    const helen = (await digestsTo('helen.walsh@fcdo.gov.uk')).filter((m) => isDigest(m));
    expect(helen).toHaveLength(3);
    expect(helen.map((d) => d.text.includes('Tom Fletcher stopped in week 3.'))).toEqual([
      false,
      false,
      true,
    ]);
    expect(helen[2]!.text).not.toContain('TOM FLETCHER');
  });

  it('quotes a reflection only of a learner who agreed to share it with their manager', async () => {
    // Aisha said yes to sharing with her manager in the cohort file, Daniel said no.
    const reflect = async (email: string, text: string, id: string) => {
      const week1 = (await digestsTo(email)).find((m) => m.subject.startsWith('Week 1'))!;
      const raw = await replyTo(week1, text, {
        messageId: id,
        date: new Date('2027-02-08T12:00:00Z'),
      });
      const verdict = await handleInbound(
        {
          store: replyStore(database.db),
          read: readMessage,
          secret: mail.secret,
          replyAddress: mail.replyAddress,
          now: () => new Date('2027-02-08T12:00:00Z'),
        },
        { raw, mailbox: 'INBOX', uid: undefined },
      );
      expect(verdict).toBe('processed');
    };
    await reflect(
      'aisha.khan@businessandtrade.gov.uk',
      'Mapping who talks about export controls showed me three trade bodies we never brief.',
      '<aisha-reflection@mail.example.test>',
    );
    await reflect(
      'daniel.evans@businessandtrade.gov.uk',
      'Honestly the listening post made me realise how little our team hears from small firms.',
      '<daniel-reflection@mail.example.test>',
    );
    const before = (await digestsTo('rachel.green@businessandtrade.gov.uk')).length;
    await runUntil(new Date('2027-02-09T00:00:00Z'), new Date('2027-02-16T12:00:00Z'));
    const next = (await digestsTo('rachel.green@businessandtrade.gov.uk'))
      .slice(before)
      .filter((m) => isDigest(m));
    expect(next).toHaveLength(1);
    expect(next[0]!.text).toContain('> Mapping who talks about export controls');
    expect(next[0]!.text).not.toContain('listening post made me realise');
    expect(next[0]!.text).not.toContain('Daniel shared this');
    // Tom's stop was told in the digest after it, never again.
    const helen = (await digestsTo('helen.walsh@fcdo.gov.uk')).filter(isDigest);
    expect(helen).toHaveLength(4);
    expect(helen[3]!.text).not.toContain('Tom Fletcher stopped');
    // Mark's last digest was the last: nothing more to tell, nothing more sent.
    expect((await digestsTo('mark.davies@cardiff.gov.uk')).filter(isDigest)).toHaveLength(3);
  });

  it('reads a manager’s "remove me" in answer to a digest as a digest opt-out, not a learner’s stop', async () => {
    // Her first digest: not her introduction ("Your team is starting Digital Gym"), which came
    // before it and whose thread is not a digest's.
    const digest = (await digestsTo('helen.walsh@fcdo.gov.uk')).filter(isDigest)[0]!;
    const reply = await new MailComposer({
      newline: 'windows',
      from: 'Helen Walsh <helen.walsh@fcdo.gov.uk>',
      to: digest.replyTo,
      subject: `Re: ${digest.subject}`,
      inReplyTo: digest.messageId,
      messageId: '<helen-remove-me@fcdo.gov.uk>',
      text: 'Could you please remove me from these emails? Thanks\n\nOn Mon, Digital Gym wrote:\n> Your team',
    })
      .compile()
      .build();
    const verdict = await handleInbound(
      {
        store: replyStore(database.db),
        read: readMessage,
        secret: mail.secret,
        replyAddress: mail.replyAddress,
        now: () => new Date('2027-02-16T13:00:00Z'),
      },
      { raw: reply, mailbox: 'INBOX', uid: undefined },
    );
    expect(verdict).toBe('processed');
    const suppressions = await database.db
      .selectFrom('suppressions')
      .select(['address', 'scope', 'how'])
      .where('address', '=', 'helen.walsh@fcdo.gov.uk')
      .execute();
    expect(suppressions).toEqual([
      { address: 'helen.walsh@fcdo.gov.uk', scope: 'digests', how: 'reply' },
    ]);
    // Her people's programmes go on (Tom stopped on 20 January, before her reply), and her "no"
    // is not counted as engagement.
    const team = await database.db
      .selectFrom('enrolments')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .innerJoin('managers', 'managers.id', 'learners.manager_id')
      .select(['learners.email', 'enrolments.status', 'enrolments.ended_at'])
      .where('managers.email', '=', 'helen.walsh@fcdo.gov.uk')
      .orderBy('learners.email')
      .execute();
    expect(team.map((e) => [e.email, e.status, e.ended_at?.toISOString() ?? null])).toEqual([
      ['priya.sharma@fcdo.gov.uk', 'active', null],
      ['siobhan.obrien@fcdo.gov.uk', 'active', null],
      ['tom.fletcher@fcdo.gov.uk', 'stopped', '2027-01-20T00:00:00.000Z'],
    ]);
    const replies = await database.db
      .selectFrom('manager_replies')
      .innerJoin('inbound_messages', 'inbound_messages.id', 'manager_replies.inbound_message_id')
      .select('manager_replies.id')
      .where('inbound_messages.message_id', '=', '<helen-remove-me@fcdo.gov.uk>')
      .execute();
    expect(replies).toEqual([]);
  });
  it('reads a manager’s "stop sending these" in answer to their introduction as a digest opt-out', async () => {
    const introduction = (await digestsTo('rachel.green@businessandtrade.gov.uk')).find(
      isIntroduction,
    )!;
    // The introduction's Reply-To is the plain mailbox: only its thread says what it answers.
    expect(introduction.replyTo).toBe(mail.replyAddress);
    const answer = async (from: string, messageId: string) =>
      handleInbound(
        {
          store: replyStore(database.db),
          read: readMessage,
          secret: mail.secret,
          replyAddress: mail.replyAddress,
          now: () => new Date('2027-02-16T14:00:00Z'),
        },
        {
          raw: await new MailComposer({
            newline: 'windows',
            from,
            to: introduction.replyTo,
            subject: `Re: ${introduction.subject}`,
            inReplyTo: introduction.messageId,
            references: [introduction.messageId],
            messageId,
            text: 'Please stop sending these.\n\nOn Fri, Digital Gym wrote:\n> Your team is starting',
          })
            .compile()
            .build(),
          mailbox: 'INBOX',
          uid: undefined,
        },
      );
    // Another manager quoting Rachel's introduction proves nothing about Rachel, nor about
    // themselves: held for a person, nothing changed.
    expect(await answer('Mark Davies <mark.davies@cardiff.gov.uk>', '<mark-intro@x.test>')).toBe(
      'processed',
    );
    const held = await database.db
      .selectFrom('inbound_messages')
      .select(['status', 'reason'])
      .where('message_id', '=', '<mark-intro@x.test>')
      .executeTakeFirstOrThrow();
    expect(held.status).toBe('quarantined');
    expect(
      await database.db
        .selectFrom('suppressions')
        .select('address')
        .where('address', '=', 'mark.davies@cardiff.gov.uk')
        .execute(),
    ).toEqual([]);

    expect(
      await answer('Rachel Green <rachel.green@businessandtrade.gov.uk>', '<rachel-intro@x.test>'),
    ).toBe('processed');
    const row = await database.db
      .selectFrom('inbound_messages')
      .select(['status', 'reason'])
      .where('message_id', '=', '<rachel-intro@x.test>')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({
      status: 'processed',
      reason: 'the manager replied stop to their introduction: no more digests',
    });
    const suppressions = await database.db
      .selectFrom('suppressions')
      .select(['address', 'scope', 'how'])
      .where('address', '=', 'rachel.green@businessandtrade.gov.uk')
      .execute();
    expect(suppressions).toEqual([
      { address: 'rachel.green@businessandtrade.gov.uk', scope: 'digests', how: 'reply' },
    ]);
    // Her people's programmes go on; her digests stop.
    const before = (await digestsTo('rachel.green@businessandtrade.gov.uk')).length;
    await runUntil(new Date('2027-02-16T15:00:00Z'), new Date('2027-03-02T12:00:00Z'));
    expect((await digestsTo('rachel.green@businessandtrade.gov.uk')).length).toBe(before);
    expect((await digestsTo('aisha.khan@businessandtrade.gov.uk')).length).toBeGreaterThan(0);
    const team = await database.db
      .selectFrom('enrolments')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .select('enrolments.status')
      .where('learners.email', '=', 'aisha.khan@businessandtrade.gov.uk')
      .executeTakeFirstOrThrow();
    expect(team.status).toBe('active');
  });
});
