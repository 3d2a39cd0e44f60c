import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { readCohortCsv } from '../../src/enrol/cohort-csv.js';
import { enrolCohort } from '../../src/engine/enrol.js';
import { openMigrated, postgresBackend, type TestDatabase } from '../helpers/backends.js';
import { runGym } from '../helpers/cli.js';
import { shippedProgrammes } from '../helpers/cohort.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { describeWithServers } from '../helpers/servers.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers.js';
import { readSent, type SentMail } from './helpers.js';

/*
 * #15 "Done when: Reply", end to end: a Welsh learner answers her Welsh week-1 email with "Wedi
 * gorffen" from Gmail in Welsh (its quote header "Ar ddydd Llun, ... ysgrifennodd:" above the
 * quoted email), the reply sits in a real Dovecot, the real `gym run --once` reads it over IMAP,
 * logs a done event and sends a Welsh acknowledgement through a real smtp-server. Set up as
 * test/e2e/replies-through-dovecot.test.ts is.
 */

const secret = 'an-end-to-end-secret-of-at-least-32-characters';
const gymFrom = 'Digital Gym <gym@gym.example.gov.uk>';
const replyAddress = 'progress@gym.example.gov.uk';
const sian = { name: 'Siân Jones', email: 'sian.jones@sir.example.gov.uk' };

const csv = `email,first_name,last_name,time_zone,role,organisation,manager_email,manager_name,start_date,language,manager_language
${sian.email},Siân,Jones,Europe/London,officer,Cyngor Sir Enghraifft,rhys.evans@sir.example.gov.uk,Rhys Evans,2027-01-04,cy,cy
`;

const postgres = postgresBackend();

/** A reply as Gmail set to Welsh writes one: the answer, its Welsh attribution line, the quote. */
async function gmailInWelsh(answered: SentMail, body: string, messageId: string, date: Date) {
  const quoted = answered.text
    .split(/\r?\n/)
    .map((line) => (line === '' ? '>' : `> ${line}`))
    .join('\n');
  // Gmail's Welsh attribution: "Ar ddydd Llun, 4 Ion 2027 am 09:05, Enw <x@y> ysgrifennodd:"
  // (src/replies/quote-headers.ts [BRIEF]).
  const attribution = `Ar ddydd Llun, 4 Ion 2027 am 09:05, Digital Gym <gym@gym.example.gov.uk> ysgrifennodd:`;
  const html =
    `<div dir="ltr">${body}</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">` +
    `${attribution.replace(/</g, '&lt;').replace(/>/g, '&gt;')}<br></div>` +
    `<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">` +
    `${answered.text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/\r?\n/g, '<br>')}</blockquote></div>`;
  const composer = new MailComposer({
    from: `${sian.name} <${sian.email}>`,
    to: `Digital Gym <${answered.replyTo}>`,
    subject: `Re: ${answered.subject}`,
    messageId,
    date,
    inReplyTo: answered.messageId,
    references: [answered.messageId],
    text: `${body}\n\n${attribution}\n\n${quoted}\n`,
    html,
    headers: { 'X-Mailer': undefined as unknown as string },
  });
  return composer.compile().build();
}

describeWithServers(
  ['postgres', 'dovecot'],
  'a Welsh reply through a real Dovecot and the real gym run (#15)',
  () => {
    let database: TestDatabase;
    let smtp: TestSmtpServer;
    let dovecot: Dovecot;
    let dataDir: string;

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
    const runOnce = async (clock: string) => {
      const before = smtp.received.length;
      const result = await runGym(['run', '--once', '--clock', clock], env());
      if (result.code !== 0)
        throw new Error(`gym run --once exited ${result.code}:\n${result.stderr}`);
      return { stderr: result.stderr, received: smtp.received.slice(before) };
    };

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'gym-e2e-cy-'));
      database = await openMigrated(postgres);
      smtp = await startSmtpServer();
      dovecot = await startDovecot();
      const cohort = readCohortCsv(csv, 'cohort.csv', { now: new Date('2026-12-01T12:00:00Z') });
      expect(cohort.problems).toEqual([]);
      const results = await enrolCohort(
        enrolmentStore(database.db),
        cohort.rows,
        shippedProgrammes,
        { dryRun: false, holidays: new Set() },
      );
      expect(results.map((r) => [r.programmeId, r.language])).toEqual([
        ['digital-foundations', 'cy'],
      ]);
    });
    afterAll(async () => {
      await dovecot?.stop();
      await smtp?.close();
      await database?.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('turns "Wedi gorffen" from Gmail in Welsh into a done event and a Welsh acknowledgement', async () => {
      // Monday 4 January 2027, 09:05 UTC: Siân's week 1, in Welsh.
      const first = await runOnce('2027-01-04T09:05:00Z');
      const mail = await Promise.all(first.received.map(readSent));
      const kickoff = mail.find((m) => m.to === sian.email && m.subject.startsWith('Wythnos 1'));
      expect(kickoff, mail.map((m) => m.subject).join('\n')).toBeDefined();
      // The Welsh email asks for Welsh replies.
      expect(kickoff!.text).toContain('"wedi gorffen"');
      expect(kickoff!.text).not.toContain('"done"');

      const messageId = '<cy-done-1@mail.gmail.example>';
      await dovecot.deliver(
        await gmailInWelsh(
          kickoff!,
          'Wedi gorffen, diolch!',
          messageId,
          new Date('2027-01-04T15:00:00Z'),
        ),
      );
      expect(await dovecot.count('INBOX')).toBe(1);

      const second = await runOnce('2027-01-04T16:00:00Z');
      expect(second.stderr).toContain('"replies":1');
      expect(await dovecot.count('INBOX')).toBe(0);
      expect(await dovecot.messageIds('Processed')).toEqual([messageId]);

      // Read as Welsh, cut at the Welsh quote header: only her own words are kept.
      const row = await database.db
        .selectFrom('inbound_messages')
        .leftJoin('progress_events', 'progress_events.inbound_message_id', 'inbound_messages.id')
        .select([
          'inbound_messages.classification',
          'inbound_messages.status',
          'inbound_messages.summary',
          'progress_events.kind',
        ])
        .where('inbound_messages.message_id', '=', messageId)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ classification: 'reply', status: 'processed', kind: 'done' });
      const summary = row.summary as { text: string; language: string; confidence: string };
      expect(summary.language).toBe('cy');
      expect(summary.confidence).toBe('clear');
      expect(summary.text.trim()).toBe('Wedi gorffen, diolch!');

      // The acknowledgement: threaded on her reply, in Welsh, marked lang="cy".
      const acks = second.received.filter((m) =>
        m.data.toString('latin1').includes('auto-replied'),
      );
      expect(acks).toHaveLength(1);
      const ack = await simpleParser(acks[0]!.data);
      expect(ack.inReplyTo).toBe(messageId);
      expect(ack.subject).toBe(`Re: ${kickoff!.subject}`);
      expect(ack.text).toContain('Diolch, Siân.');
      expect(ack.text).toContain('Wedi’i gofnodi: wythnos 1 wedi’i gwneud. Dyna 1 o ');
      expect(ack.text).not.toMatch(/Logged|Thanks/);
      const html = typeof ack.html === 'string' ? ack.html : '';
      expect(html).toMatch(/<html[^>]* lang="cy"/);
      expect(html).toContain('<div lang="cy">');
      expect(html).not.toContain('lang="en');
    });
  },
);
