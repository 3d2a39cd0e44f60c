import { simpleParser } from 'mailparser';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestStore } from '../../src/db/digest-store.js';
import { dispatchStore } from '../../src/db/dispatch-store.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { readCohortCsv } from '../../src/enrol/cohort-csv.js';
import { dispatchTick, type DispatchDependencies } from '../../src/engine/dispatch.js';
import { digestTick } from '../../src/engine/digests.js';
import { enrolCohort, type EnrolResult, type ProgrammeVersion } from '../../src/engine/enrol.js';
import { createSmtpTransport } from '../../src/mail/smtp-transport.js';
import { programmeCache } from '../../src/render/index.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers.js';

/**
 * A Welsh body's cohort (#15): learners who asked for Welsh, English and both, enrolled on a
 * bilingual programme (and one on an English-only programme), then their week-3 mail and their
 * Welsh-speaking manager's digest, sent over SMTP and read back as a mail client would.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const programmes: ProgrammeVersion[] = loadSequenceFiles(
  ['sequences', 'test/fixtures/sequences/bilingual'],
  root,
).flatMap((r) => (r.ok ? [{ sequence: r.sequence, hash: r.hash }] : []));

const csv = `email,first_name,last_name,time_zone,role,organisation,manager_email,manager_name,start_date,language,manager_language
sian.jones@sir.example.gov.uk,Siân,Jones,Europe/London,officer,Cyngor Sir Enghraifft,rhys.evans@sir.example.gov.uk,Rhys Evans,2027-01-04,cy,cy
tom.price@sir.example.gov.uk,Tom,Price,Europe/London,officer,Cyngor Sir Enghraifft,rhys.evans@sir.example.gov.uk,Rhys Evans,2027-01-04,en,
elin.hughes@sir.example.gov.uk,Elin,Hughes,Europe/London,officer,Cyngor Sir Enghraifft,rhys.evans@sir.example.gov.uk,Rhys Evans,2027-01-04,Cymraeg a Saesneg,
dafydd.lewis@sir.example.gov.uk,Dafydd,Lewis,Europe/London,officer,Cyngor Sir Enghraifft,mair.owen@sir.example.gov.uk,Mair Owen,2027-01-04,,
gareth.morgan@other.example.gov.uk,Gareth,Morgan,Europe/London,press-officer,Other Council,mair.owen@sir.example.gov.uk,Mair Owen,2027-01-04,cy,
`;
const cohort = readCohortCsv(csv, 'cohort.csv', { now: new Date('2026-12-01T12:00:00Z') });

const mail = {
  secret: 'a-test-secret-of-at-least-32-characters!',
  from: 'Digital Gym <gym@gym.example.gov.uk>',
  replyAddress: 'progress@gym.example.gov.uk',
  publicUrl: 'https://gym.example.gov.uk',
};

/** An iCalendar property, unfolded (RFC 5545 folds long lines) and unescaped. */
function icsProperty(ics: string, name: string): string | undefined {
  const unfolded = ics.replace(/\r?\n[ \t]/g, '');
  const line = unfolded.split(/\r?\n/).find((l) => l.startsWith(`${name}:`));
  return line
    ?.slice(name.length + 1)
    .replace(/\\n/gi, '\n')
    .replace(/\\([,;\\])/g, '$1');
}

describe.each(testBackends())('a bilingual cohort on $name', (backend) => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let deps: DispatchDependencies;
  let results: EnrolResult[];

  beforeAll(async () => {
    database = await openMigrated(backend);
    smtp = await startSmtpServer();
    deps = {
      store: dispatchStore(database.db),
      transport: createSmtpTransport({ url: smtp.url }),
      mail,
      workerId: 'test-worker',
      retryDelay: () => 60_000,
      compiled: programmeCache(),
      digests: digestStore(database.db),
    };
    expect(cohort.problems).toEqual([]);
    results = await enrolCohort(enrolmentStore(database.db), cohort.rows, programmes, {
      dryRun: false,
      holidays: new Set(),
      // What a Welsh public body gives: both languages, Welsh first, for anyone who did not say.
      defaultLanguage: 'cy+en',
    });
    // Monday of week 3, 12:00 in Cardiff: the week's email, its practice invite and the
    // fortnight's digest are due; weeks 1 and 2 are long past (missed, not sent late).
    await dispatchTick(deps, new Date('2027-01-18T12:00:00Z'));
    await digestTick(deps, deps.digests!, new Date('2027-01-18T12:00:00Z'));
  });
  afterAll(async () => {
    await deps?.transport.close();
    await smtp?.close();
    await database?.close();
  });

  const received = async (to: string, kind: 'email' | 'invite') => {
    const raw = smtp.received.filter(
      (m) => m.to[0] === to && m.data.includes('text/calendar') === (kind === 'invite'),
    );
    expect(raw, `${kind} to ${to}`).toHaveLength(1);
    return simpleParser(raw[0]!.data);
  };

  it('enrols cy, en and cy+en learners, keeping each preference and the organisation default', async () => {
    expect(results.map((r) => [r.email, r.action, r.programmeId, r.language])).toEqual([
      ['sian.jones@sir.example.gov.uk', 'enrolled', 'bilingual-basics', 'cy'],
      ['tom.price@sir.example.gov.uk', 'enrolled', 'bilingual-basics', 'en'],
      ['elin.hughes@sir.example.gov.uk', 'enrolled', 'bilingual-basics', 'cy+en'],
      ['dafydd.lewis@sir.example.gov.uk', 'enrolled', 'bilingual-basics', 'cy+en'],
      ['gareth.morgan@other.example.gov.uk', 'enrolled', 'social-media-for-comms', 'en'],
    ]);
    // A preference the programme cannot meet is said, with the line, never silently dropped.
    expect(results[4]!.line).toBe(6);
    expect(results[4]!.languageNotice).toBe(
      'prefers Welsh (cy), but social-media-for-comms is in English (en) only; gets English (en)',
    );
    const learners = await database.db
      .selectFrom('learners')
      .innerJoin('enrolments', 'enrolments.learner_id', 'learners.id')
      .select(['learners.email', 'learners.language as wanted', 'enrolments.language as gets'])
      .orderBy('learners.id')
      .execute();
    expect(learners.map((l) => [l.email.split('.')[0], l.wanted, l.gets])).toEqual([
      ['sian', 'cy', 'cy'],
      ['tom', 'en', 'en'],
      ['elin', 'cy+en', 'cy+en'],
      ['dafydd', 'cy+en', 'cy+en'],
      ['gareth', 'cy', 'en'],
    ]);
    const managers = await database.db
      .selectFrom('managers')
      .select(['email', 'language'])
      .orderBy('email')
      .execute();
    expect(managers).toEqual([
      { email: 'mair.owen@sir.example.gov.uk', language: 'cy+en' },
      { email: 'rhys.evans@sir.example.gov.uk', language: 'cy' },
    ]);
    const organisations = await database.db
      .selectFrom('organisations')
      .select(['name', 'language'])
      .orderBy('name')
      .execute();
    expect(organisations).toEqual([
      { name: 'Cyngor Sir Enghraifft', language: 'cy+en' },
      { name: 'Other Council', language: 'cy+en' },
    ]);
  });

  it('sends a cy+en learner one email, Welsh first, with a bilingual subject and preheader', async () => {
    const email = await received('elin.hughes@sir.example.gov.uk', 'email');
    expect(email.subject).toBe('Wythnos 3 / Week 3: darllen cyn postio / read before you post');
    const html = String(email.html);
    expect(html).toMatch(/<html[^>]* lang="cy"/);
    expect(html).toContain('Tri deg munud yr wythnos, dim jargon. / Thirty minutes a week');
    const welsh = html.indexOf('Croeso i wythnos 3 o Sylfeini digidol');
    const english = html.indexOf('Welcome to week 3 of Digital basics');
    expect(welsh).toBeGreaterThan(0);
    expect(english).toBeGreaterThan(welsh);
    expect(html).toContain('href="#en"');
    // Plain text in the same order.
    const text = email.text!;
    expect(text.indexOf('==== CYMRAEG ====')).toBeLessThan(text.indexOf('==== ENGLISH ===='));
    expect(text.indexOf('Helo Elin')).toBeLessThan(text.indexOf('Hello Elin'));
    expect(text).toContain('Wythnos 3 o 12 / Week 3 of 12');
  });

  it('sends a cy learner Welsh only and an en learner English only', async () => {
    const welsh = await received('sian.jones@sir.example.gov.uk', 'email');
    expect(welsh.subject).toBe('Wythnos 3: darllen cyn postio');
    expect(String(welsh.html)).toMatch(/<html[^>]* lang="cy"/);
    expect(welsh.text).toContain('Helo Siân. Croeso i wythnos 3 o Sylfeini digidol');
    expect(welsh.text).toContain('(erbyn Dydd Gwener)');
    expect(welsh.text).toContain('Dad-danysgrifio');
    expect(welsh.text).not.toContain('Welcome to week');
    const english = await received('tom.price@sir.example.gov.uk', 'email');
    expect(english.subject).toBe('Week 3: read before you post');
    expect(String(english.html)).toMatch(/<html[^>]* lang="en-GB"/);
    expect(english.text).not.toMatch(/Croeso|Dad-danysgrifio|Wythnos/);
  });

  it('writes each invite in the learner’s language: SUMMARY, DESCRIPTION and the date', async () => {
    const summaries: Record<string, string | undefined> = {};
    for (const who of ['sian.jones', 'tom.price', 'elin.hughes']) {
      const invite = await received(`${who}@sir.example.gov.uk`, 'invite');
      const ics = invite.attachments.find((a) => a.contentType === 'text/calendar')!;
      const content = ics.content.toString();
      summaries[who] = icsProperty(content, 'SUMMARY');
      if (who === 'elin.hughes') {
        expect(icsProperty(content, 'DESCRIPTION')).toBe(
          'Hanner awr i roi cynnig ar dasg yr wythnos. Does dim byd i’w bostio.\n\n' +
            'Half an hour to try this week’s assignment. There is nothing to post.',
        );
        expect(invite.subject).toBe(
          'Gwahoddiad / Invitation: Ymarfer: darllen cyn postio / Practice: read before you post',
        );
        expect(invite.text).toContain(
          'Mer 20 Ion 2027, 14:00 / Wed 20 Jan 2027, 14:00 (Europe/London), 30 munud / minutes',
        );
      }
    }
    expect(summaries).toEqual({
      'sian.jones': 'Ymarfer: darllen cyn postio',
      'tom.price': 'Practice: read before you post',
      'elin.hughes': 'Ymarfer: darllen cyn postio / Practice: read before you post',
    });
  });

  it('writes a Welsh-preferring manager’s digest in Welsh', async () => {
    // Rhys gets his introduction first (#14), then the digest.
    const raw = smtp.received.filter((m) => m.to[0] === 'rhys.evans@sir.example.gov.uk');
    expect(raw).toHaveLength(2);
    const digest = await simpleParser(raw[1]!.data);
    expect(digest.subject).toMatch(/^Eich tîm y pythefnos hwn: 3 o bobl/);
    expect(String(digest.html)).toMatch(/<html[^>]* lang="cy"/);
    const text = digest.text!;
    expect(text).toContain('Helo Rhys,');
    expect(text).toContain('Crynodeb i reolwyr · 18 i 31 Ionawr');
    expect(text).toContain('Sylfeini digidol · Wythnos 3 o 12: Darllen cyn postio');
    // The programme's own manager tip, in Welsh.
    expect(text).toContain('Gofynnwch i Siân beth a ddysgon nhw yr wythnos hon');
    expect(text).not.toMatch(/Your team|Hello|For the next fortnight/);
    // Mair asked for nothing: her organisation's default, both languages.
    const mair = smtp.received.filter((m) => m.to[0] === 'mair.owen@sir.example.gov.uk');
    const both = await simpleParser(mair.at(-1)!.data);
    expect(both.subject).toMatch(/^Eich tîm y pythefnos hwn \/ Your team this fortnight: /);
  });
});
