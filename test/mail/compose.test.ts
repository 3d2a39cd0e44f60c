import ICAL from 'ical.js';
import { simpleParser, type Attachment, type ParsedMail } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildInvite, inviteBodies, whenLabel } from '../../src/calendar/invite.js';
import {
  composeMessage,
  mailComposerOptions,
  type OutgoingMessage,
} from '../../src/mail/compose.js';
import { learnerEmailHeaders } from '../../src/mail/headers.js';
import { durationMinutes } from '../../src/planner/index.js';
import { templateContext } from '../../src/render/context.js';
import { compileProgramme, renderInvite, renderStep } from '../../src/render/index.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import { offeredLanguages, type Sequence } from '../../src/sequence/schema.js';

/*
 * `composeMessage` writes the bodies itself (base64, one native call) where nodemailer streams
 * quoted-printable (#17). A reader must not be able to tell: every message of every shipped
 * programme, parsed by mailparser, has the same headers, the same decoded text and HTML, the
 * same attachments and the same calendar data (parsed by ical.js) as nodemailer's own output.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const programmes = loadSequenceFiles(['sequences'], root).flatMap((r) =>
  r.ok ? [r.sequence] : [],
);

// A name with what addresses must quote or encode: non-ASCII, an apostrophe, a comma.
const learner = {
  id: 7,
  first_name: 'Zoë',
  last_name: 'O’Brien, Jr',
  email: 'zoe.obrien@example.gov.uk',
  role: 'press-officer',
  organisation: 'Eastmoor District Council',
  time_zone: 'Europe/London',
};
const manager = { name: 'Priya Shah', email: 'priya.shah@example.gov.uk' };
const mail = {
  secret: 'a-test-secret-of-at-least-32-characters!',
  from: 'Digital Gym <gym@gym.example.gov.uk>',
  replyAddress: 'progress@gym.example.gov.uk',
  publicUrl: 'https://gym.example.gov.uk',
};
const date = new Date('2027-01-04T09:00:00Z');

/** Today's composition: nodemailer's streamed build of the same options. */
const streamed = (message: OutgoingMessage) =>
  new MailComposer(mailComposerOptions(message)).compile().build();

/** What a reader sees of a message: headers (boundaries aside), bodies, parts, calendar data. */
function readable(parsed: ParsedMail) {
  const headers = [...parsed.headers.entries()]
    .filter(([key]) => key !== 'content-type' && key !== 'content-transfer-encoding')
    .map(([key, value]) => [key, JSON.stringify(value)]);
  const contentType = parsed.headers.get('content-type') as { value: string };
  return {
    headers: Object.fromEntries(headers) as Record<string, string>,
    contentType: contentType.value,
    subject: parsed.subject,
    text: parsed.text,
    html: parsed.html,
    attachments: parsed.attachments.map((a: Attachment) => ({
      contentType: a.contentType,
      filename: a.filename,
      method: a.headers.get('content-type'),
      content: a.content.toString('utf8'),
      calendar: a.contentType.startsWith('text/calendar')
        ? JSON.stringify(ICAL.parse(a.content.toString('utf8')))
        : undefined,
    })),
  };
}

async function expectSameReading(message: OutgoingMessage, where: string) {
  const [ours, theirs] = await Promise.all([
    simpleParser(await composeMessage(message)),
    simpleParser(await streamed(message)),
  ]);
  const reading = readable(ours);
  expect(reading, where).toEqual(readable(theirs));
  return reading;
}

function envelope(deliveryId: number) {
  return learnerEmailHeaders({ ...mail, deliveryId, learnerId: learner.id });
}

describe.each(programmes.map((p): [string, Sequence] => [p.id, p]))(
  'composing every message of the shipped programme %s',
  (_id, sequence) => {
    it('reads the same as nodemailer’s own composition, email and invite alike', async () => {
      // A bilingual programme is composed as its bilingual learners get it, English included.
      const language = offeredLanguages(sequence).length > 1 ? 'cy+en' : 'en';
      const compiled = await compileProgramme(sequence, { validation: 'soft', language });
      let deliveryId = 0;
      let invites = 0;
      for (const week of sequence.weeks) {
        const context = templateContext(sequence, week.week, learner, manager);
        for (const step of week.steps) {
          const where = `${sequence.id} week ${week.week} step ${step.id}`;
          const { messageId, replyTo, headers } = envelope((deliveryId += 1));
          const to = { name: `${learner.first_name} ${learner.last_name}`, email: learner.email };
          if (step.email) {
            const email = renderStep(compiled, week.week, step.id, context, {
              replyAddress: replyTo,
              unsubscribeUrl: 'https://gym.example.gov.uk/unsubscribe/t0k3n',
              assignmentsDone: 2,
            });
            const reading = await expectSameReading(
              {
                from: mail.from,
                to,
                replyTo,
                subject: email.subject,
                html: email.html,
                text: email.text,
                messageId,
                date,
                headers,
              },
              where,
            );
            expect(reading.html, where).toContain(`Week ${week.week} of 12`);
          } else {
            const invite = renderInvite(compiled, week.week, step.id, context);
            const start = new Date(date.getTime() + week.week * 7 * 24 * 3600_000);
            const minutes = durationMinutes(step.invite!.duration);
            const subject = `Invitation: ${invite.title}`;
            const reading = await expectSameReading(
              {
                from: mail.from,
                to,
                replyTo,
                subject,
                ...inviteBodies({
                  title: subject,
                  when: whenLabel(start, learner.time_zone),
                  durationMinutes: minutes,
                  location: invite.location,
                  description: invite.description,
                }),
                messageId,
                date,
                headers,
                calendar: {
                  method: 'REQUEST',
                  content: buildInvite({
                    uid: `gym-1-${step.id}@gym.example.gov.uk`,
                    sequence: 0,
                    start,
                    durationMinutes: minutes,
                    title: invite.title,
                    description: invite.description,
                    location: invite.location,
                    organizer: { name: 'Digital Gym', email: mail.replyAddress },
                    attendee: to,
                    stamp: date,
                    method: 'REQUEST',
                  }),
                },
              },
              where,
            );
            expect(
              reading.attachments.some((a) => a.calendar?.includes('"REQUEST"')),
              where,
            ).toBe(true);
            invites += 1;
          }
        }
      }
      expect(deliveryId).toBeGreaterThan(12);
      expect(invites).toBeGreaterThan(0);
    });
  },
);

describe('composing an answer in a thread', () => {
  it('keeps In-Reply-To, References and a non-ASCII subject as nodemailer writes them', async () => {
    const { messageId, replyTo, headers } = envelope(99);
    const reading = await expectSameReading(
      {
        from: mail.from,
        to: { name: 'Zoë O’Brien', email: learner.email },
        replyTo,
        subject: 'Re: Week 3 — “done”, with a line\r\nbreak',
        text: 'Logged: week 3 done — 4 of 12.\nThanks, Zoë.\n',
        html: '<p>Logged: week 3 done — 4 of 12.</p>',
        messageId,
        date,
        headers: { ...headers, 'Auto-Submitted': 'auto-replied' },
        inReplyTo: '<reply-1@example.gov.uk>',
        references: ['<d1.x@gym.example.gov.uk>', '<reply-1@example.gov.uk>'],
      },
      'acknowledgement',
    );
    expect(reading.headers['in-reply-to']).toBe('"<reply-1@example.gov.uk>"');
    expect(reading.text).toContain('Thanks, Zoë.');
  });
});
