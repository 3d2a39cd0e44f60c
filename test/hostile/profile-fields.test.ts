import ICAL from 'ical.js';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCohortCsv } from '../../src/enrol/cohort-csv.js';
import { replyAddressFor, signReplyToken } from '../../src/mail/tokens.js';
import type { OutboundMessage } from '../../src/mail/transport.js';
import { testBackends } from '../helpers/backends.js';
import { headerValues, parseHeaders } from '../mail/helpers.js';
import {
  cohortHeader,
  cohortRow,
  drain,
  mail,
  openGym,
  rawMessage,
  sentDeliveryIds,
  type Gym,
} from './helpers.js';

/**
 * Names are data. Whatever a learner's first and last name hold (Liquid, HTML, header syntax,
 * and, if they reach the database some other way than the cohort file, line breaks), the emails
 * we compose have exactly the headers we mean, Liquid in a name is printed and never run, and
 * markup is escaped in the HTML part.
 */

const liquid = {
  email: 'liquid@example.gov.uk',
  first: '{{ secret }}{{ mail.secret }}',
  last: '{% raw %}{{ learner.email }}{% endraw %}{% include "x" %}',
};
const script = {
  email: 'script@example.gov.uk',
  first: '<script>alert(1)</script>',
  last: '<img src=x onerror="alert(2)">',
};
const header = {
  email: 'header@example.gov.uk',
  first: 'Eve <eve@attacker.example>, Bcc: attacker@evil.example',
  last: '=?utf-8?q?Sam=0D=0ABcc:_evil@attacker.example?= "\\" ;',
};
/** Enrolled with a plain name; the database then gets line breaks the cohort file refuses. */
const crlf = {
  email: 'crlf@example.gov.uk',
  first: 'Mallory\r\nBcc: attacker@evil.example\r\nX-Injected: 1',
  last: 'Smith\n\nInjected body\r',
};

const cohort = [
  cohortHeader,
  cohortRow(liquid.email, liquid.first, liquid.last),
  cohortRow(script.email, script.first, script.last),
  cohortRow(header.email, header.first, header.last),
  cohortRow(crlf.email, 'Mallory', 'Smith'),
  '',
].join('\n');

describe('the cohort file', () => {
  it('keeps markup and Liquid in names as written, and refuses a name with a line break', () => {
    const read = readCohortCsv(cohort, 'hostile.csv', { now: new Date('2026-12-01T12:00:00Z') });
    expect(read.problems).toEqual([]);
    expect(read.rows.map((r) => [r.first_name, r.last_name])).toEqual([
      [liquid.first, liquid.last],
      [script.first, script.last],
      [header.first, header.last],
      ['Mallory', 'Smith'],
    ]);
    const injected = readCohortCsv(
      `${cohortHeader}\n${cohortRow(crlf.email, crlf.first, 'Smith')}\n`,
      'injected.csv',
      { now: new Date('2026-12-01T12:00:00Z') },
    );
    expect(injected.rows).toEqual([]);
    expect(injected.problems).toEqual([
      {
        file: 'injected.csv',
        line: 2,
        message: expect.stringContaining('contains a line break') as string,
      },
    ]);
  });
});

describe.each(testBackends())('emails to learners with hostile names on $name', (backend) => {
  let gym: Gym;
  const byLearner = new Map<string, { raw: OutboundMessage; parsed: ParsedMail }[]>();

  beforeAll(async () => {
    gym = await openGym(backend, cohort, () => new Date('2027-01-04T11:00:00Z'));
    await gym.database.db
      .updateTable('learners')
      .set({ first_name: crlf.first, last_name: crlf.last })
      .where('email', '=', crlf.email)
      .execute();
    await drain(gym);
    // Each learner answers "done" with their own token: the acknowledgement names them too.
    for (const who of [liquid, script, header, crlf]) {
      const delivery = (await sentDeliveryIds(gym, who.email)).at(-1)!;
      const to = replyAddressFor(
        mail.replyAddress,
        signReplyToken(mail.secret, { deliveryId: delivery }),
      );
      const verdict = await gym.handle(
        rawMessage(
          {
            From: who.email,
            To: to,
            Subject: 'Re: Week 1',
            'Message-ID': `<done-${who.email}>`,
            Date: 'Mon, 04 Jan 2027 11:00:00 +0000',
          },
          'Done!',
        ),
      );
      expect(verdict).toBe('processed');
    }
    await drain(gym, new Date('2027-01-04T11:05:00Z'));
    for (const message of gym.sent) {
      const list = byLearner.get(message.to) ?? [];
      list.push({ raw: message, parsed: await simpleParser(message.raw) });
      byLearner.set(message.to, list);
    }
  });
  afterAll(async () => {
    await gym?.close();
  });

  it('sends each learner their emails and an acknowledgement, and nobody else anything', () => {
    expect([...byLearner.keys()].sort()).toEqual(
      [liquid.email, script.email, header.email, crlf.email].sort(),
    );
    for (const [email, messages] of byLearner) {
      expect(messages.length, email).toBeGreaterThanOrEqual(2);
      expect(
        messages.some((m) => m.parsed.subject?.startsWith('Re: ')),
        `${email} got an acknowledgement`,
      ).toBe(true);
    }
  });

  it('composes exactly the header block we mean: no injected Bcc, no extra header, one line each', () => {
    for (const [email, messages] of byLearner) {
      for (const { raw, parsed } of messages) {
        const fields = parseHeaders(raw.raw); // throws on a bare CR or LF, or a broken line
        const names = fields.map((f) => f.name.toLowerCase());
        expect(names, email).not.toContain('bcc');
        expect(names, email).not.toContain('x-injected');
        expect(
          names.filter((n) => n === 'to'),
          email,
        ).toHaveLength(1);
        expect(
          names.filter((n) => n === 'from'),
          email,
        ).toHaveLength(1);
        expect(
          names.filter((n) => n === 'subject'),
          email,
        ).toHaveLength(1);
        expect(
          names.filter((n) => n === 'cc'),
          email,
        ).toHaveLength(0);
        // The only recipient is the learner: in the envelope and in the To header.
        expect(raw.to).toBe(email);
        const to = Array.isArray(parsed.to) ? parsed.to : [parsed.to!];
        expect(to.flatMap((t) => t.value.map((v) => v.address))).toEqual([email]);
        expect(parsed.bcc).toBeUndefined();
        expect(parsed.cc).toBeUndefined();
        expect(parsed.headers.has('x-injected')).toBe(false);
        // Nothing of the name became part of the body by a blank line in the headers.
        expect(parsed.text ?? '').not.toMatch(/^Injected body/m);
        // The subject is one line.
        expect(headerValues(fields, 'Subject')).toHaveLength(1);
        expect(parsed.subject ?? '').not.toMatch(/[\r\n]/);
      }
    }
  });

  it('writes the name into To as one display name, line breaks made spaces', () => {
    const [kickoff] = byLearner.get(crlf.email)!;
    const to = Array.isArray(kickoff!.parsed.to) ? kickoff!.parsed.to[0]! : kickoff!.parsed.to!;
    expect(to.value).toHaveLength(1);
    expect(to.value[0]!.name).toMatch(/^Mallory +Bcc: attacker@evil\.example +X-Injected: 1 Smith/);
    const [headerKickoff] = byLearner.get(header.email)!;
    const headerTo = Array.isArray(headerKickoff!.parsed.to)
      ? headerKickoff!.parsed.to[0]!
      : headerKickoff!.parsed.to!;
    expect(headerTo.value.map((v) => v.address)).toEqual([header.email]);
    expect(headerTo.value[0]!.name).toContain('eve@attacker.example');
  });

  /** The learner's emails: steps whose subject names them, and the acknowledgement. */
  const emailsTo = (email: string) => {
    const messages = byLearner.get(email)!.map((m) => m.parsed);
    const steps = messages.filter((m) => m.subject?.includes(' · '));
    const acks = messages.filter((m) => m.subject?.startsWith('Re: '));
    expect(steps.length).toBeGreaterThan(0);
    expect(acks).toHaveLength(1);
    return { messages, steps, ack: acks[0]! };
  };

  it('prints Liquid in a name as written, in the subject, the text and the HTML, never running it', () => {
    const { messages, steps, ack } = emailsTo(liquid.email);
    for (const m of messages)
      expect(`${m.subject}\n${m.text}\n${String(m.html)}`).not.toContain(mail.secret);
    // In HTML the quotes of the include are escaped, the braces are not: still literal text.
    const inHtml = `${liquid.first} ${liquid.last.replace(/"/g, '&#34;')}`;
    for (const step of steps) {
      expect(step.subject).toContain(`${liquid.first} ${liquid.last}`);
      expect(String(step.html)).toContain(`<title>`);
      expect(String(step.html)).toContain(inHtml);
    }
    expect(ack.text).toContain(`Thanks, ${liquid.first}.`);
    expect(String(ack.html)).toContain(`Thanks, ${liquid.first}.`);
  });

  it('escapes markup in a name in the HTML part, and leaves it as text in the plain part', () => {
    const { messages, steps, ack } = emailsTo(script.email);
    for (const m of messages) {
      expect(String(m.html)).not.toContain('<script>alert(1)</script>');
      expect(String(m.html)).not.toMatch(/<img[^>]*onerror/i);
    }
    for (const step of steps) {
      expect(step.subject).toContain(`${script.first} ${script.last}`);
      expect(String(step.html)).toContain(
        '&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=&#34;alert(2)&#34;&gt;',
      );
    }
    expect(ack.text).toContain(`Thanks, ${script.first}.`);
    expect(String(ack.html)).toContain('Thanks, &lt;script&gt;alert(1)&lt;/script&gt;.');
  });

  it('keeps invites intact: one attendee, the learner, whatever the name', () => {
    let invites = 0;
    for (const [email, messages] of byLearner) {
      for (const { parsed } of messages) {
        for (const part of parsed.attachments.filter((a) => a.contentType === 'text/calendar')) {
          invites += 1;
          const ics = part.content.toString('utf8');
          const unfolded = ics.replace(/\r\n[ \t]/g, '');
          expect(unfolded).not.toMatch(/^(BCC|X-INJECTED|INJECTED)/im);
          const event = new ICAL.Component(ICAL.parse(ics) as never).getFirstSubcomponent(
            'vevent',
          )!;
          const attendees = event.getAllProperties('attendee');
          expect(attendees).toHaveLength(1);
          expect(String(attendees[0]!.getFirstValue()).toLowerCase()).toBe(`mailto:${email}`);
          expect(event.getAllProperties('organizer')).toHaveLength(1);
        }
      }
    }
    expect(invites).toBeGreaterThan(0);
  });
});
