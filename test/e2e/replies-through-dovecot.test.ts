import { mkdtempSync, rmSync } from 'node:fs';
import MailComposer from 'nodemailer/lib/mail-composer';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import type { ProgressEventKind } from '../../src/db/schema.js';
import { enrolCohort } from '../../src/engine/enrol.js';
import { exampleCohort, shippedProgrammes } from '../helpers/cohort.js';
import { openMigrated, postgresBackend, type TestDatabase } from '../helpers/backends.js';
import { runGym, startGym } from '../helpers/cli.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { describeWithServers } from '../helpers/servers.js';
import { replyTo } from '../inbound/reply-builder.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers.js';
import {
  answerInvite,
  readSent,
  rewriteFixture,
  rfcDate,
  type Rewrite,
  type SentMail,
} from './helpers.js';

/*
 * The end-to-end proof of the reply side: a real PostgreSQL schema, a real smtp-server catching
 * what `gym run` sends, a real Dovecot holding the replies, and the real `gym run` as a child
 * process reading them over IMAP. Nothing in between is called in-process except the enrolment.
 */

const programmes = shippedProgrammes;
const cohort = exampleCohort;

const secret = 'an-end-to-end-secret-of-at-least-32-characters';

/**
 * Waits until `check` holds, looking again every quarter second. The limit is a safety net
 * against a hang on a loaded machine, not a timing: the test's own timeout is longer still.
 */
async function waitUntil(what: () => string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 480_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up after 480 s waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
const gymFrom = 'Digital Gym <gym@gym.example.gov.uk>';
const replyAddress = 'progress@gym.example.gov.uk';

const people = {
  aisha: { name: 'Aisha Khan', email: 'aisha.khan@businessandtrade.gov.uk' },
  daniel: { name: 'Daniel Evans', email: 'daniel.evans@businessandtrade.gov.uk' },
  siobhan: { name: 'Siobhan OBrien', email: 'siobhan.obrien@fcdo.gov.uk' },
  priya: { name: 'Priya Sharma', email: 'priya.sharma@fcdo.gov.uk' },
  gareth: { name: 'Gareth Jones', email: 'gareth.jones@cardiff.gov.uk' },
  tom: { name: 'Tom Fletcher', email: 'tom.fletcher@fcdo.gov.uk' },
  james: { name: 'James Okafor', email: 'james.okafor@businessandtrade.gov.uk' },
  fiona: { name: 'Fiona Campbell', email: 'fiona.campbell@cardiff.gov.uk' },
} as const;
type Who = keyof typeof people;

// The gym child processes need a DATABASE_URL: PGlite is one process's own database.
const postgres = postgresBackend();

/** What one reply must end as. */
interface Case {
  readonly label: string;
  readonly who: Who | 'stranger' | 'prankster';
  readonly messageId: string;
  readonly raw: Buffer;
  readonly classification: 'reply' | 'auto_reply' | 'bounce' | 'rsvp';
  readonly status: 'processed' | 'parked' | 'quarantined';
  /** The progress event it logs (none when undefined). */
  readonly event?: ProgressEventKind;
  readonly data?: Record<string, unknown>;
  /** Whether an acknowledgement answers it (at most three per learner a day). */
  readonly ack: boolean;
  readonly reason?: RegExp;
}

describeWithServers(
  ['postgres', 'dovecot'],
  'replies through a real Dovecot and the real gym run',
  () => {
    let database: TestDatabase;
    let smtp: TestSmtpServer;
    let dovecot: Dovecot;
    let dataDir: string;
    const sent: SentMail[] = [];

    const env = () => ({
      DATABASE_URL: database.url!,
      SMTP_URL: smtp.url,
      IMAP_URL: dovecot.url,
      GYM_SECRET: secret,
      GYM_FROM: gymFrom,
      GYM_REPLY_ADDRESS: replyAddress,
      GYM_DATA_DIR: dataDir,
      GYM_HTTP_PORT: '0',
    });

    /** `gym run --once` as a child process; resolves with the messages it sent. */
    const runOnce = async (clock: string): Promise<{ stderr: string; mail: SentMail[] }> => {
      const before = smtp.received.length;
      const result = await runGym(['run', '--once', '--clock', clock], env());
      if (result.code !== 0)
        throw new Error(`gym run --once exited ${result.code}:\n${result.stderr}`);
      const mail = await Promise.all(smtp.received.slice(before).map(readSent));
      sent.push(...mail);
      return { stderr: result.stderr, mail };
    };

    const programmeMailTo = (who: Who) =>
      sent.filter((m) => m.to === people[who].email && m.autoSubmitted !== 'auto-replied');
    const kickoffOf = (who: Who): SentMail => {
      const found = programmeMailTo(who).find((m) => m.subject.startsWith('Week 1'));
      if (found === undefined) throw new Error(`no week 1 email to ${people[who].email}`);
      return found;
    };
    const inviteOf = (who: Who): SentMail => {
      const found = programmeMailTo(who).find((m) => m.calendarMethod === 'REQUEST');
      if (found === undefined) throw new Error(`no invite to ${people[who].email}`);
      return found;
    };
    const inviteUidOf = async (who: Who): Promise<string> => {
      const row = await database.db
        .selectFrom('deliveries')
        .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
        .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
        .select('deliveries.invite_uid')
        .where('learners.email', '=', people[who].email)
        .where('deliveries.step_key', '=', 'w01-practice')
        .executeTakeFirstOrThrow();
      return row.invite_uid!;
    };
    const learner = (who: Who) =>
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
        .where('learners.email', '=', people[who].email)
        .executeTakeFirstOrThrow();
    const deliveryIdOf = async (messageId: string) =>
      (
        await database.db
          .selectFrom('deliveries')
          .select('id')
          .where('message_id', '=', messageId)
          .executeTakeFirstOrThrow()
      ).id;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'gym-e2e-'));
      database = await openMigrated(postgres);
      smtp = await startSmtpServer();
      dovecot = await startDovecot();
      await enrolCohort(enrolmentStore(database.db), cohort.rows, programmes, {
        dryRun: false,
        holidays: new Set(),
      });
    });
    afterAll(async () => {
      await dovecot?.stop();
      await smtp?.close();
      await database?.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('sends week 1 from the real gym run --once, with signed Reply-To tokens', async () => {
      // Monday 4 January 2027, 09:05 UTC: London, Dublin and Kolkata mornings have begun.
      const first = await runOnce('2027-01-04T09:05:00Z');
      expect(first.stderr).toMatch(/"inbox":"imap engine@example\.test@127\.0\.0\.1:\d+\/INBOX"/);
      const kickoffs = first.mail.filter((m) => m.subject.startsWith('Week 1'));
      expect(kickoffs.map((m) => m.to).sort()).toEqual(
        [people.aisha, people.daniel, people.siobhan, people.priya, people.gareth]
          .map((p) => p.email)
          .sort(),
      );
      expect(first.mail.filter((m) => m.calendarMethod === 'REQUEST')).toHaveLength(5);
      for (const m of kickoffs)
        expect(m.replyTo).toMatch(/^progress\+1[0-9a-z]+@gym\.example\.gov\.uk$/);

      // 14:05 UTC is 09:05 in New York: Tom's week 1 goes, nothing goes twice.
      const second = await runOnce('2027-01-04T14:05:00Z');
      expect(second.mail.map((m) => m.to)).toEqual([people.tom.email, people.tom.email]);
      expect(kickoffOf('tom').subject).toMatch(/^Week 1/);
    });

    it('turns a reply of each kind, from each client style, into the right progress event and effect', async () => {
      const cases: Case[] = [];
      let n = 0;
      const at = (i: number) => new Date(Date.parse('2027-01-04T15:00:00Z') + i * 60_000);
      const add = (
        fixture: string,
        who: Case['who'],
        expected: Omit<Case, 'label' | 'who' | 'messageId' | 'raw'>,
        build: (messageId: string, date: Date) => Rewrite,
      ) => {
        n += 1;
        const messageId = `<e2e-${n}-${fixture.replace(/\.eml$/, '')}@client.example>`;
        const raw = rewriteFixture(fixture, build(messageId, at(n)));
        cases.push({ label: `${fixture} from ${who}`, who, messageId, raw, ...expected });
      };
      /** A learner's reply to one of our messages, as their client wrote it. */
      const human =
        (
          who: Who,
          options: { to?: 'kickoff' | 'invite'; token?: string; body?: Rewrite['body'] } = {},
        ) =>
        (messageId: string, date: Date): Rewrite => {
          const answered = options.to === 'invite' ? inviteOf(who) : kickoffOf(who);
          return {
            headers: {
              From: `${people[who].name} <${people[who].email}>`,
              To: `Digital Gym <${options.token ?? answered.replyTo}>`,
              Cc: undefined,
              'Reply-To': undefined,
              Sender: undefined,
              'Message-ID': messageId,
              Date: rfcDate(date),
              'In-Reply-To': answered.messageId,
              References: answered.messageId,
            },
            subject: answered.subject,
            ...(options.body === undefined ? {} : { body: options.body }),
          };
        };
      const rsvp =
        (who: Who, uid: string, fixtureAttendee: string) =>
        (messageId: string, date: Date): Rewrite => ({
          ...human(who, { to: 'invite' })(messageId, date),
          calendar: answerInvite(uid, people[who].email, fixtureAttendee),
        });
      /** A DSN about one of our messages: the MTA's own headers stay, the returned ones are ours. */
      const bounce =
        (original: SentMail, replacements: [string, string][], threaded = false) =>
        (messageId: string, date: Date): Rewrite => ({
          headers: {
            To: 'gym@gym.example.gov.uk',
            'Message-ID': messageId,
            Date: rfcDate(date),
            // Exchange threads its NDR on the message it returns; Postfix does not.
            ...(threaded
              ? { 'In-Reply-To': original.messageId, References: original.messageId }
              : {}),
          },
          body: [
            ...replacements.map(([from, to]) => [from, to] as const),
            ['progress+194gno34lahcb2ivadw@gym.example.test', original.replyTo] as const,
          ],
        });
      const tokenOf = (who: Who) => kickoffOf(who).replyTo;
      const forged = (who: Who) => {
        const real = tokenOf(who);
        const [local, domain] = real.split('@') as [string, string];
        const last = local.at(-1) === 'a' ? 'b' : 'a';
        return `${local.slice(0, -1)}${last}@${domain}`;
      };

      const uids = {
        aisha: await inviteUidOf('aisha'),
        daniel: await inviteUidOf('daniel'),
        priya: await inviteUidOf('priya'),
      };

      type Expected = Omit<Case, 'label' | 'who' | 'messageId' | 'raw'>;
      const logged = (event: ProgressEventKind, ack: boolean, data?: Case['data']): Expected => ({
        classification: 'reply',
        status: 'processed',
        event,
        ack,
        ...(data === undefined ? {} : { data }),
      });
      const robot: Expected = { classification: 'auto_reply', status: 'processed', ack: false };
      const answer = (partstat: string, who: Who): Expected => ({
        classification: 'rsvp',
        status: 'processed',
        event: 'rsvp',
        data: { partstat, attendee: people[who].email },
        ack: false,
      });
      const returned = (reason: RegExp): Expected => ({
        classification: 'bounce',
        status: 'processed',
        ack: false,
        reason,
      });
      const held = (status: 'parked' | 'quarantined', reason: RegExp): Expected => ({
        classification: 'reply',
        status,
        ack: false,
        reason,
      });

      // In delivery order, which is UID order, which is the order gym run reads them in. "ack" is
      // whether an acknowledgement answers it: at most three per learner a day.

      // Aisha: Gmail "done", Apple Mail reflection, a rating, then a 4th reply (no 4th ack).
      add('gmail-done.eml', 'aisha', logged('done', true), human('aisha'));
      add('apple-mail.eml', 'aisha', logged('reflection', true), human('aisha'));
      add('rating.eml', 'aisha', logged('rating', true, { rating: 4 }), human('aisha'));
      add('thunderbird.eml', 'aisha', logged('done', false), human('aisha'));
      add('ooo-german-abwesenheitsnotiz.eml', 'aisha', robot, human('aisha'));
      add(
        'rsvp-apple-tentative.eml',
        'aisha',
        answer('TENTATIVE', 'aisha'),
        rsvp('aisha', uids.aisha, 'Zoe.Turner@iCloud.example'),
      );
      // Someone else answers with Aisha's signed address: held, Aisha's record untouched.
      add(
        'gmail-html-only.eml',
        'prankster',
        held('quarantined', /came from prankster@example\.test/),
        (id, date) => {
          const base = human('aisha')(id, date);
          return { ...base, headers: { ...base.headers, From: 'Pat <prankster@example.test>' } };
        },
      );

      // Daniel: Outlook "too hard", two skips (Gmail, then Outlook in Dutch), German "too hard",
      // an Exchange out-of-office, and Outlook accepting the Wednesday invite.
      add(
        'outlook-desktop-too-hard.eml',
        'daniel',
        logged('too_hard', true, { flagged: true }),
        human('daniel'),
      );
      add('skip.eml', 'daniel', logged('skip', true), human('daniel'));
      // Nothing is left of week 1 to skip the second time.
      add('outlook-dutch.eml', 'daniel', logged('skip', true, { skipped: 0 }), human('daniel'));
      add('gmail-german.eml', 'daniel', logged('too_hard', false), human('daniel'));
      add('ooo-exchange.eml', 'daniel', robot, human('daniel'));
      add(
        'rsvp-outlook-accepted.eml',
        'daniel',
        answer('ACCEPTED', 'daniel'),
        rsvp('daniel', uids.daniel, 'Ravi.Kumar@Contoso.example'),
      );

      // Siobhán, on an iPhone: pause until a date (the fixture's "3 Jan" would be a year away),
      // on her own clock (Dublin).
      add(
        'iphone-pause-until.eml',
        'siobhan',
        logged('pause', true, { until: '2027-01-25T00:00:00.000Z' }),
        human('siobhan', { body: [['pause until 3 Jan', 'pause until 25 Jan']] }),
      );
      // A "stop" whose token was tampered with: not matched by token, so the command is held.
      add(
        'stop.eml',
        'siobhan',
        held('quarantined', /matched by thread/),
        human('siobhan', { token: forged('siobhan') }),
      );
      add('ooo-french-reponse-automatique.eml', 'siobhan', robot, human('siobhan'));
      add('help.eml', 'siobhan', logged('help', true, { flagged: true }), human('siobhan'));
      add('gmail-swedish.eml', 'siobhan', logged('done', true), human('siobhan'));
      add('base64-utf8.eml', 'siobhan', logged('done', false), human('siobhan'));

      // Priya: Outlook on the web "pause for 2 weeks", "resume", two reflections, an empty reply.
      add('outlook-web-divrplyfwdmsg.eml', 'priya', logged('pause', true), human('priya'));
      add('resume.eml', 'priya', logged('resume', true), human('priya'));
      add('reflection-on-monday.eml', 'priya', logged('reflection', true), human('priya'));
      add('outlook-original-message.eml', 'priya', logged('reflection', false), human('priya'));
      add('empty-quote-only.eml', 'priya', logged('empty', false), human('priya'));
      add('ooo-gmail-vacation.eml', 'priya', robot, human('priya'));
      add(
        'rsvp-google-declined.eml',
        'priya',
        answer('DECLINED', 'priya'),
        rsvp('priya', uids.priya, 'nora.ahmed@example.com'),
      );

      // Gareth: two "done"s (Spanish Gmail, Latin-1 Thunderbird), then "stop"; robots after.
      add('gmail-spanish.eml', 'gareth', logged('done', true), human('gareth'));
      add('qp-latin1.eml', 'gareth', logged('done', true), human('gareth'));
      add('stop.eml', 'gareth', logged('stop', true), human('gareth'));
      add('x-autoreply-only.eml', 'gareth', robot, human('gareth'));
      add(
        'bounce-mailbox-full-4.2.2.eml',
        'gareth',
        returned(/^soft bounce 4\.2\.2/),
        bounce(kickoffOf('gareth'), [
          ['d333.l4imjf6ecnc4q@gym.example.test', kickoffOf('gareth').messageId.slice(1, -1)],
          ['k.brown@example.net', people.gareth.email],
        ]),
      );

      // Tom's address is gone: a Postfix DSN for his week 1 email, an Exchange NDR for his invite.
      add(
        'bounce-postfix-5.1.1.eml',
        'tom',
        returned(/^hard bounce 5\.1\.1/),
        bounce(kickoffOf('tom'), [
          ['d328.pzkmlsvfyytz6@gym.example.test', kickoffOf('tom').messageId.slice(1, -1)],
          ['J.Smith@example.com', people.tom.email],
        ]),
      );
      add(
        'bounce-exchange-ndr-5.1.10.eml',
        'tom',
        returned(/^hard bounce 5\.1\.10/),
        bounce(
          inviteOf('tom'),
          [
            ['d329.v4ou7uxg7xrni@gym.example.test', inviteOf('tom').messageId.slice(1, -1)],
            ['m.jones@contoso.example', people.tom.email],
          ],
          true,
        ),
      );

      // A stranger writes to the bare reply address, in no thread of ours.
      add(
        'outlook-french.eml',
        'stranger',
        held('parked', /no learner at camille\.martin@exemple\.example/),
        (id, date) => ({
          headers: {
            To: `Digital Gym <${replyAddress}>`,
            'Message-ID': id,
            Date: rfcDate(date),
            'In-Reply-To': undefined,
            References: undefined,
          },
        }),
      );

      for (const c of cases) await dovecot.deliver(c.raw);
      expect(await dovecot.count('INBOX')).toBe(cases.length);

      const run = await runOnce('2027-01-04T16:00:00Z');
      expect(run.stderr).toContain(`"replies":${cases.length}`);

      // The mailbox: every reply filed in Processed, none left, none failed.
      expect(await dovecot.count('INBOX')).toBe(0);
      expect(await dovecot.count('Failed')).toBe(0);
      expect((await dovecot.messageIds('Processed')).sort()).toEqual(
        cases.map((c) => c.messageId).sort(),
      );

      // Each message: its row, its event, nothing else.
      const rows = await database.db
        .selectFrom('inbound_messages')
        .leftJoin('progress_events', 'progress_events.inbound_message_id', 'inbound_messages.id')
        .select([
          'inbound_messages.message_id',
          'inbound_messages.classification',
          'inbound_messages.status',
          'inbound_messages.reason',
          'inbound_messages.raw',
          'progress_events.kind',
          'progress_events.data',
        ])
        .execute();
      expect(rows).toHaveLength(cases.length);
      for (const c of cases) {
        const row = rows.find((r) => r.message_id === c.messageId);
        const label = `${c.label} (${c.messageId})`;
        expect.soft(row, label).toBeDefined();
        if (row === undefined) continue;
        expect.soft({ classification: row.classification, status: row.status }, label).toEqual({
          classification: c.classification,
          status: c.status,
        });
        expect.soft(row.kind ?? undefined, `${label}: ${row.reason}`).toBe(c.event);
        if (c.data !== undefined) expect.soft(row.data, label).toMatchObject(c.data);
        if (c.reason !== undefined) expect.soft(row.reason, label).toMatch(c.reason);
        // What is held for a person keeps its bytes.
        if (c.status !== 'processed') expect.soft(row.raw, label).not.toBeNull();
      }

      // Aisha's "done" marks the week's assignment.
      const aishaDone = await database.db
        .selectFrom('progress_events')
        .innerJoin('inbound_messages', 'inbound_messages.id', 'progress_events.inbound_message_id')
        .innerJoin('deliveries', 'deliveries.id', 'progress_events.delivery_id')
        .select('deliveries.step_key')
        .where('inbound_messages.message_id', '=', cases[0]!.messageId)
        .executeTakeFirstOrThrow();
      expect(aishaDone.step_key).toBe('w01-kickoff');
      expect((await learner('aisha')).status).toBe('active');

      // Daniel skipped week 1: nothing of it is left to send, and the Wednesday slot he had
      // accepted is withdrawn with a CANCEL that goes out.
      const daniel = await learner('daniel');
      const danielWeek1 = await database.db
        .selectFrom('deliveries')
        .select(['step_key', 'status', 'method', 'reason'])
        .where('enrolment_id', '=', daniel.enrolmentId)
        .where('week', '=', 1)
        .where('kind', '!=', 'acknowledgement')
        .orderBy('id')
        .execute();
      expect(danielWeek1.filter((d) => d.status === 'pending')).toEqual([]);
      // The second "skip" of the week (the Dutch one) leaves the CANCEL the first one queued.
      expect
        .soft(
          danielWeek1.find((d) => d.step_key === 'w01-practice.cancel'),
          'the CANCEL queued by the first skip survives the second skip',
        )
        .toMatchObject({ status: 'sent', method: 'CANCEL' });
      expect
        .soft(
          run.mail.filter((m) => m.to === people.daniel.email && m.calendarMethod === 'CANCEL'),
          'a CANCEL for the skipped week 1 practice went to Daniel',
        )
        .toHaveLength(1);
      expect(daniel.enrolmentStatus).toBe('active');

      // Siobhán is paused until Monday 25 January on her own clock, her invite moved; the forged
      // "stop" changed nothing.
      const siobhan = await learner('siobhan');
      expect(siobhan.paused_until?.toISOString()).toBe('2027-01-25T00:00:00.000Z');
      expect(siobhan.enrolmentStatus).not.toBe('stopped');
      const moved = await database.db
        .selectFrom('deliveries')
        .select(['step_key', 'starts_at', 'status'])
        .where('enrolment_id', '=', siobhan.enrolmentId)
        .where('step_key', '=', 'w01-practice.r1')
        .executeTakeFirstOrThrow();
      expect(moved.starts_at!.getTime()).toBeGreaterThan(Date.parse('2027-01-25T00:00:00Z'));
      expect(moved.status).toBe('sent');

      // Priya paused and came back.
      const priya = await learner('priya');
      expect(priya.paused_until).toBeNull();
      expect(priya.enrolmentStatus).toBe('active');

      // Gareth stopped: his Wednesday slot withdrawn with a CANCEL that went out; a soft bounce
      // did not mark his address.
      const gareth = await learner('gareth');
      expect(gareth.enrolmentStatus).toBe('stopped');
      expect(gareth.status).toBe('active');
      const garethRows = await database.db
        .selectFrom('deliveries')
        .select(['step_key', 'status', 'method'])
        .where('enrolment_id', '=', gareth.enrolmentId)
        .where('kind', '!=', 'acknowledgement')
        .execute();
      expect(garethRows.filter((d) => d.status === 'pending')).toEqual([]);
      expect(garethRows).toContainEqual({
        step_key: 'w01-practice.cancel',
        status: 'sent',
        method: 'CANCEL',
      });
      expect(
        run.mail.filter((m) => m.to === people.gareth.email && m.calendarMethod === 'CANCEL'),
      ).toHaveLength(1);

      // Tom bounced, found through the Message-IDs in the returned headers.
      expect((await learner('tom')).status).toBe('bounced');
      const tomBounces = await database.db
        .selectFrom('inbound_messages')
        .select(['message_id', 'delivery_id'])
        .where('classification', '=', 'bounce')
        .where(
          'message_id',
          'in',
          cases.filter((c) => c.who === 'tom').map((c) => c.messageId),
        )
        .orderBy('id')
        .execute();
      expect(tomBounces.map((b) => b.delivery_id)).toEqual([
        await deliveryIdOf(kickoffOf('tom').messageId),
        await deliveryIdOf(inviteOf('tom').messageId),
      ]);

      // Acknowledgements: one per human reply that earns one (three a day at most), threaded
      // on the learner's own Message-ID; none for a robot, a bounce, an RSVP or held mail.
      const acks = run.mail.filter((m) => m.autoSubmitted === 'auto-replied');
      const expectedAcks = cases.filter((c) => c.ack);
      expect(acks.map((a) => a.inReplyTo).sort()).toEqual(
        expectedAcks.map((c) => c.messageId).sort(),
      );
      for (const c of expectedAcks) {
        const ack = acks.find((a) => a.inReplyTo === c.messageId);
        expect.soft(ack?.to, c.label).toBe(people[c.who as Who].email);
      }
      expect(acks.find((a) => a.inReplyTo === cases[0]!.messageId)?.text).toContain(
        "Logged: week 1 done. That's 1 of 12.",
      );
      expect(
        acks.find((a) => a.to === people.gareth.email && /Stopped/.test(a.text)),
      ).toBeDefined();
      expect(acks.filter((a) => a.to === people.tom.email)).toEqual([]);
    });

    // 240 replies in six waves, with the connection killed in each wave once gym run has been
    // seen filing part of it: every kill lands mid-drain, while messages are still arriving.
    // That is what the test is about (no reply lost, none counted twice, across reconnects); the
    // 500 replies with a kill every 300 ms it used before proved no more, and on a loaded two-core
    // machine took longer than the 180 s a test may take. Its own limit is generous all the same:
    // a safety net against a hang, not a timing.
    it('loses none and counts none twice when the IMAP connection is killed mid-burst of replies', async () => {
      // A week on: James (Sydney) and Fiona (Cardiff) start, Tom's and the others' week 2 goes,
      // so that all eight learners have real messages of ours to answer.
      await runOnce('2027-01-11T15:00:00Z');
      const everyone = Object.keys(people) as Who[];
      const answerable = new Map(
        everyone.map((who) => [
          who,
          programmeMailTo(who).filter(
            (m) => m.replyTo.startsWith('progress+') && m.calendarMethod !== 'CANCEL',
          ),
        ]),
      );
      for (const who of everyone) expect(answerable.get(who)!.length, who).toBeGreaterThan(0);

      const total = 240;
      const waves = 6;
      const clock = Date.parse('2027-01-11T15:05:00Z');
      const burst = await Promise.all(
        Array.from({ length: total }, async (_, i) => {
          const who = everyone[i % everyone.length]!;
          const choices = answerable.get(who)!;
          const answered = choices[Math.floor(i / everyone.length) % choices.length]!;
          const messageId = `<burst-${i}-${who}@client.example>`;
          const raw = await replyTo(
            answered,
            `Reflection ${i} from ${people[who].name}: we tried writing the team update as three ` +
              `short posts, and note ${i} is that people actually read them.`,
            { messageId, date: new Date(clock + i * 1000) },
          );
          return { messageId, raw };
        }),
      );
      const burstIds = burst.map((b) => b.messageId);

      const gym = startGym(['run', '--clock', '2027-01-11T15:05:00Z'], env());
      let stopped = false;
      try {
        await gym.waitForLog(/"msg":"this worker reads the mailbox"/);
        const started = Date.now();
        const filedSoFar = async () =>
          (await dovecot.messageIds('Processed')).filter((id) => id.startsWith('<burst-')).length;
        let kicks = 0;
        let kicksThatHit = 0;
        const perWave = Math.ceil(total / waves);
        for (let wave = 0; wave < waves; wave += 1) {
          const before = await filedSoFar();
          // Two at a time, as a busy MTA hands them over, while gym run drains them.
          const arriving = dovecot.deliverAll(
            burst.slice(wave * perWave, (wave + 1) * perWave).map((b) => b.raw),
            2,
          );
          // Once gym run has filed a reply of this wave, it is connected and mid-drain: kill it.
          await waitUntil(
            () => `gym run to file a reply of wave ${wave + 1} (${before} filed before it)`,
            async () => (await filedSoFar()) > before,
          );
          kicks += 1;
          if (await dovecot.kick()) kicksThatHit += 1;
          await arriving;
        }
        const delivered = Date.now() - started;

        let filed = new Set<string>();
        let left = -1;
        await waitUntil(
          () => `all ${total} replies in Processed: ${filed.size} there, ${left} left in INBOX`,
          async () => {
            const processed = await dovecot.messageIds('Processed');
            filed = new Set(processed.filter((id) => id.startsWith('<burst-')));
            left = await dovecot.count('INBOX');
            return filed.size === total && left === 0;
          },
        );
        const drained = Date.now() - started;

        const result = await gym.stop('SIGTERM');
        stopped = true;
        expect(result.code, result.stderr.slice(-3000)).toBe(0);
        expect(result.stderr).toContain('"msg":"stopped"');
        const connected = result.stderr.match(/"msg":"IMAP connected; listening for replies"/g);
        const lost = result.stderr.match(/"msg":"IMAP connection lost"/g);

        expect(await dovecot.count('Failed')).toBe(0);
        const inbound = await database.db
          .selectFrom('inbound_messages')
          .select(['message_id', 'status', 'classification'])
          .where('message_id', 'in', burstIds)
          .execute();
        const events = await database.db
          .selectFrom('progress_events')
          .innerJoin(
            'inbound_messages',
            'inbound_messages.id',
            'progress_events.inbound_message_id',
          )
          .select(['inbound_messages.message_id', 'progress_events.kind'])
          .where('inbound_messages.message_id', 'in', burstIds)
          .execute();
        const reflections = events.filter((e) => e.kind === 'reflection');
        const perMessage = new Map<string, number>();
        for (const e of reflections)
          perMessage.set(e.message_id, (perMessage.get(e.message_id) ?? 0) + 1);
        const countedTwice = [...perMessage].filter(([, count]) => count > 1);

        // eslint-disable-next-line no-console
        console.log(
          `burst through gym run: ${total} replies delivered in ${delivered} ms, all filed after ` +
            `${drained} ms; ${kicks} kicks (${kicksThatHit} hit a live session); ` +
            `${connected?.length ?? 0} IMAP connections, ${lost?.length ?? 0} lost ` +
            `(${(connected?.length ?? 1) - 1} reconnects); ${inbound.length} inbound rows, ` +
            `${reflections.length} reflection events, ${countedTwice.length} counted twice; ` +
            `Processed holds ${(await dovecot.messageIds('Processed')).filter((id) => id.startsWith('<burst-')).length} burst copies`,
        );

        expect(inbound).toHaveLength(total);
        expect(new Set(inbound.map((r) => r.message_id)).size).toBe(total);
        expect(
          inbound.filter((r) => r.status !== 'processed' || r.classification !== 'reply'),
        ).toEqual([]);
        expect(events.filter((e) => e.kind !== 'reflection')).toEqual([]);
        expect(reflections).toHaveLength(total);
        expect(new Set(reflections.map((e) => e.message_id))).toEqual(new Set(burstIds));
        expect(countedTwice).toEqual([]);
        expect(kicksThatHit).toBeGreaterThan(0);
        expect(connected?.length ?? 0).toBeGreaterThan(1);
      } finally {
        if (!stopped) await gym.stop('SIGTERM');
      }
    }, 600_000);

    it('asks about a probable pause and a probable stop, and the learner’s one-tap "Yes" completes each', async () => {
      // Two days after the burst, whose replies used up everyone's answers for that day.
      const latest = (who: Who) =>
        programmeMailTo(who)
          .filter((m) => m.replyTo.startsWith('progress+') && m.calendarMethod !== 'CANCEL')
          .at(-1)!;
      const maybe = [
        {
          who: 'priya',
          text: 'Thanks for this. I think I should pause for 2 weeks.',
          proposal: 'pause for 2 weeks',
        },
        {
          who: 'fiona',
          text: 'Thanks. Maybe I should stop for now.',
          proposal: 'stop this programme',
        },
      ] as const;
      for (const [i, m] of maybe.entries())
        await dovecot.deliver(
          await replyTo(latest(m.who), m.text, {
            messageId: `<maybe-${m.who}@client.example>`,
            date: new Date(Date.parse('2027-01-13T09:00:00Z') + i * 60_000),
          }),
        );
      const asked = await runOnce('2027-01-13T09:05:00Z');
      expect(await dovecot.count('INBOX')).toBe(0);
      // Nothing changed yet.
      expect((await learner('priya')).paused_until).toBeNull();
      expect((await learner('fiona')).enrolmentStatus).toBe('active');

      const taps: Buffer[] = [];
      for (const m of maybe) {
        const question = asked.mail.find(
          (mail) =>
            mail.to === people[m.who].email && mail.inReplyTo === `<maybe-${m.who}@client.example>`,
        );
        expect(question?.autoSubmitted, m.who).toBe('auto-replied');
        expect(question!.text).toContain(`Did you mean: ${m.proposal}?`);
        const yes = /^Yes, [^:\n]+: (mailto:\S+)$/m.exec(question!.text)?.[1];
        expect(yes, m.who).toMatch(/^mailto:progress\+y1[0-9a-z]+@gym\.example\.gov\.uk\?/);
        // What the learner's mail client sends when the button is tapped.
        const url = new URL(yes!);
        taps.push(
          await new MailComposer({
            newline: 'windows',
            from: `${people[m.who].name} <${people[m.who].email}>`,
            to: decodeURIComponent(url.pathname),
            subject: url.searchParams.get('subject') ?? '',
            text: url.searchParams.get('body') ?? '',
            messageId: `<yes-${m.who}@client.example>`,
            date: new Date('2027-01-13T09:30:00Z'),
          })
            .compile()
            .build(),
        );
      }
      for (const raw of taps) await dovecot.deliver(raw);
      const done = await runOnce('2027-01-13T09:35:00Z');
      expect(await dovecot.count('Failed')).toBe(0);

      const priya = await learner('priya');
      // Two weeks from the tap being read (gym run's clock starts at --clock and runs on).
      const until = priya.paused_until?.getTime() ?? 0;
      expect(until).toBeGreaterThanOrEqual(Date.parse('2027-01-27T09:35:00Z'));
      expect(until).toBeLessThan(Date.parse('2027-01-27T10:35:00Z'));
      expect((await learner('fiona')).enrolmentStatus).toBe('stopped');
      const acks = done.mail.filter((m) => m.autoSubmitted === 'auto-replied');
      expect(acks.find((a) => a.to === people.priya.email)?.text).toContain('Paused until');
      expect(acks.find((a) => a.to === people.fiona.email)?.text).toContain('Stopped');
      // Recorded once, against the message that was asked about.
      const events = await database.db
        .selectFrom('progress_events')
        .innerJoin('inbound_messages', 'inbound_messages.id', 'progress_events.inbound_message_id')
        .select(['inbound_messages.message_id', 'progress_events.kind'])
        .where('inbound_messages.message_id', 'in', [
          ...maybe.map((m) => `<maybe-${m.who}@client.example>`),
          ...maybe.map((m) => `<yes-${m.who}@client.example>`),
        ])
        .orderBy('inbound_messages.message_id')
        .execute();
      expect(events).toEqual([
        { message_id: '<maybe-fiona@client.example>', kind: 'stop' },
        { message_id: '<maybe-priya@client.example>', kind: 'pause' },
      ]);
    });
    it('ends a manager’s digests when they answer their introduction "remove me", read over IMAP', async () => {
      // The introduction went on the first run; its Reply-To is the plain mailbox, so only its
      // thread (In-Reply-To) says what the answer is about.
      const introduction = sent.find(
        (m) =>
          m.to === 'mark.davies@cardiff.gov.uk' &&
          m.subject === 'Your team is starting Digital Gym',
      );
      expect(introduction?.replyTo).toBe(replyAddress);
      await dovecot.deliver(
        await new MailComposer({
          newline: 'windows',
          from: 'Mark Davies <mark.davies@cardiff.gov.uk>',
          to: replyAddress,
          subject: `Re: ${introduction!.subject}`,
          inReplyTo: introduction!.messageId,
          references: [introduction!.messageId],
          messageId: '<mark-remove-me@cardiff.example>',
          date: new Date('2027-01-13T10:00:00Z'),
          text: 'Please remove me from these emails.\n\nOn Sun, Digital Gym wrote:\n> Your team',
        })
          .compile()
          .build(),
      );
      await runOnce('2027-01-13T10:05:00Z');
      expect(await dovecot.count('INBOX')).toBe(0);
      const row = await database.db
        .selectFrom('inbound_messages')
        .select(['status', 'reason'])
        .where('message_id', '=', '<mark-remove-me@cardiff.example>')
        .executeTakeFirstOrThrow();
      expect(row).toEqual({
        status: 'processed',
        reason: 'the manager replied stop to their introduction: no more digests',
      });
      const suppressions = await database.db
        .selectFrom('suppressions')
        .select(['scope', 'how'])
        .where('address', '=', 'mark.davies@cardiff.gov.uk')
        .execute();
      expect(suppressions).toEqual([{ scope: 'digests', how: 'reply' }]);
    });
  },
);
