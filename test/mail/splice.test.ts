import ICAL from 'ical.js';
import { simpleParser, type Attachment, type ParsedMail } from 'mailparser';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  buildInvite,
  inviteBodies,
  whenLabel,
  type InviteRequest,
} from '../../src/calendar/invite.js';
import { writeInvite } from '../../src/calendar/invite-template.js';
import { chromeString } from '../../src/language/chrome-text.js';
import type { LanguagePreference } from '../../src/language/languages.js';
import { composeMessage, type OutgoingMessage } from '../../src/mail/compose.js';
import { learnerEmailHeaders } from '../../src/mail/headers.js';
import { buildTemplate, splicingComposer } from '../../src/mail/splice.js';
import { durationMinutes } from '../../src/planner/index.js';
import { templateContext } from '../../src/render/context.js';
import {
  compileProgramme,
  renderInvite,
  renderProgrammeEnd,
  renderStep,
  renderWelcome,
} from '../../src/render/index.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import { offeredLanguages, type Sequence } from '../../src/sequence/schema.js';

/*
 * The dispatcher composes by splicing each recipient's values into a template of the message's
 * shape (#17), and writes invites with `writeInvite` instead of ical-generator. Nothing a
 * receiver sees may change: for every message of every shipped programme, in every language a
 * learner can have, each layout, invites, their updates and cancellations, the welcome, the
 * programme end and acknowledgements, the spliced message is byte for byte today's composition
 * (`composeMessage`), boundary strings aside, and, parsed by mailparser (and the
 * calendar parts by ical.js), the same headers, decoded bodies, attachments and calendar data.
 * Templates are built from one recipient and filled for others, as in a wave.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const programmes = loadSequenceFiles(['sequences'], root).flatMap((r) =>
  r.ok ? [r.sequence] : [],
);

const learners = [
  {
    id: 7,
    first_name: 'Zoë',
    last_name: 'O’Brien, Jr',
    email: 'zoe.obrien@example.gov.uk',
    role: 'press-officer',
    organisation: 'Eastmoor District Council',
    time_zone: 'Europe/London',
  },
  {
    id: 8,
    first_name: 'Sam',
    last_name: 'Lee',
    email: 'sam@example.gov.uk',
    role: null,
    organisation: null,
    time_zone: 'America/New_York',
  },
  {
    id: 9,
    first_name: 'Angharad "Haf" Rhys-Llewellyn-Ap-Gruffydd-Williams',
    last_name: 'ŵ\\ŷ; with a name, long enough to fold twice over the seventy-six',
    email: 'angharad.rhys-llewellyn@an-exceptionally-long-council-domain.example.gov.uk',
    role: 'officer',
    organisation: 'Cyngor',
    time_zone: 'Europe/London',
  },
];
const manager = { name: 'Priya Shah', email: 'priya.shah@example.gov.uk' };
const mails = [
  {
    secret: 'a-test-secret-of-at-least-32-characters!',
    from: 'Digital Gym <gym@gym.example.gov.uk>',
    replyAddress: 'progress@gym.example.gov.uk',
    publicUrl: 'https://gym.example.gov.uk',
  },
  {
    secret: 'a-test-secret-of-at-least-32-characters!',
    from: 'gym@gym.example.gov.uk',
    replyAddress: 'progress@gym.example.gov.uk',
    publicUrl: 'http://localhost:8080',
  },
  {
    secret: 'a-test-secret-of-at-least-32-characters!',
    from: 'Campfa Digidol <gym@gym.example.gov.uk>',
    replyAddress: 'progress@gym.example.gov.uk',
    publicUrl: undefined,
  },
];

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

/** The message with its boundary strings (random per composition) made one. */
const withoutBoundaries = (raw: Buffer) =>
  raw.toString('utf8').replace(/--_NmP-[0-9a-f]+-Part_/g, '--_NmP-boundary-Part_');

type Splice = (message: OutgoingMessage) => Promise<Buffer>;

/** Composes the message both ways (the invite by ical-generator today, by template spliced). */
async function expectSame(
  splice: Splice,
  message: OutgoingMessage,
  where: string,
  invite?: InviteRequest,
) {
  const calendar = (content: string) =>
    invite === undefined ? {} : { calendar: { method: invite.method ?? 'REQUEST', content } };
  const today = await composeMessage({
    ...message,
    ...calendar(invite ? buildInvite(invite) : ''),
  });
  const spliced = await splice({ ...message, ...calendar(invite ? writeInvite(invite) : '') });
  // Spliced, not composed whole: the message's shape has a template.
  expect(buildTemplate(message), where).toBeDefined();
  expect(withoutBoundaries(spliced), where).toBe(withoutBoundaries(today));
  const [ours, theirs] = await Promise.all([simpleParser(spliced), simpleParser(today)]);
  const reading = readable(ours);
  expect(reading, where).toEqual(readable(theirs));
  return reading;
}

function preferencesOf(sequence: Sequence): LanguagePreference[] {
  return offeredLanguages(sequence).length > 1 ? ['cy', 'en', 'cy+en'] : ['en'];
}

const date = new Date('2027-01-04T09:00:00Z');

describe.each(programmes.map((p): [string, Sequence] => [p.id, p]))(
  'splicing every message of the shipped programme %s',
  (_id, sequence) => {
    it.each(preferencesOf(sequence))(
      'reads as today’s composition in language %s: steps, invites, updates, cancellations, welcome, end',
      async (language) => {
        const compiled = await compileProgramme(sequence, { validation: 'soft', language });
        const splice = splicingComposer();
        let deliveryId = 0;
        const counts = { emails: 0, invites: 0, layouts: new Set<string>() };
        const next = () => {
          deliveryId += 1;
          const learner = learners[deliveryId % learners.length]!;
          // Three learners in turn under each sender: templates built for one are filled for others.
          const mail = mails[Math.floor(deliveryId / learners.length) % mails.length]!;
          const envelope = learnerEmailHeaders({ ...mail, deliveryId, learnerId: learner.id });
          const to = { name: `${learner.first_name} ${learner.last_name}`, email: learner.email };
          const links = {
            replyAddress: envelope.replyTo,
            unsubscribeUrl: envelope.headers['List-Unsubscribe']?.match(/<(https:[^>]+)>/)?.[1],
          };
          const base = {
            from: mail.from,
            to,
            replyTo: envelope.replyTo,
            messageId: envelope.messageId,
            date: new Date(date.getTime() + deliveryId * 61_001),
            headers: envelope.headers,
          };
          return { learner, mail, to, links, base };
        };
        for (const week of sequence.weeks) {
          for (const step of week.steps) {
            const where = `${sequence.id} (${language}) week ${week.week} step ${step.id}`;
            if (step.email) {
              const { learner, links, base } = next();
              const context = templateContext(sequence, week.week, learner, manager);
              const email = renderStep(compiled, week.week, step.id, context, {
                ...links,
                assignmentsDone: 2,
              });
              await expectSame(
                splice,
                { ...base, subject: email.subject, html: email.html, text: email.text },
                where,
              );
              counts.emails += 1;
              continue;
            }
            for (const kind of ['request', 'update', 'cancel'] as const) {
              const { learner, mail, to, base } = next();
              const context = templateContext(sequence, week.week, learner, manager);
              const invite = renderInvite(compiled, week.week, step.id, context);
              const start = new Date(date.getTime() + week.week * 7 * 24 * 3600_000);
              const minutes = durationMinutes(step.invite!.duration);
              const method = kind === 'cancel' ? 'CANCEL' : 'REQUEST';
              const label = chromeString(language, (t) =>
                kind === 'cancel'
                  ? t.cancelled
                  : kind === 'update'
                    ? t.updatedInvitation
                    : t.invitation,
              );
              const subject = `${label}: ${invite.title}`;
              const description =
                kind === 'cancel'
                  ? chromeString(language, (t) => t.inviteEnded)
                  : invite.description;
              const reading = await expectSame(
                splice,
                {
                  ...base,
                  subject,
                  ...inviteBodies({
                    title: subject,
                    when: whenLabel(start, learner.time_zone, language),
                    durationMinutes: minutes,
                    location: invite.location,
                    description,
                    language,
                  }),
                },
                `${where} ${kind}`,
                {
                  uid: `gym-${deliveryId}-${step.id}@gym.example.gov.uk`,
                  sequence: kind === 'request' ? 0 : kind === 'update' ? 1 : 2,
                  start,
                  durationMinutes: minutes,
                  title: invite.title,
                  description: invite.description,
                  location: invite.location,
                  organizer: { name: 'Digital Gym', email: mail.replyAddress },
                  attendee: to,
                  stamp: base.date,
                  method,
                },
              );
              expect(reading.attachments.some((a) => a.calendar?.includes(`"${method}"`))).toBe(
                true,
              );
              counts.invites += 1;
            }
          }
        }
        for (const which of ['welcome', 'end'] as const) {
          const { learner, links, base } = next();
          const last = Math.max(...sequence.weeks.map((w) => w.week));
          const context = templateContext(
            sequence,
            which === 'welcome' ? 1 : last,
            learner,
            manager,
          );
          const email =
            which === 'welcome'
              ? renderWelcome(compiled, context, links)
              : renderProgrammeEnd(
                  compiled,
                  context,
                  { ...links, assignmentsDone: 9 },
                  {
                    reflections: [{ week: 3, text: 'I wrote my first thread; it went well.' }],
                  },
                );
          await expectSame(
            splice,
            { ...base, subject: email.subject, html: email.html, text: email.text },
            `${sequence.id} ${which}`,
          );
        }
        counts.layouts = new Set(
          [...compiled.weeks.values()].flatMap((w) =>
            [...w.steps.values()].flatMap((s) => (s.kind === 'email' ? [s.email.layout] : [])),
          ),
        );
        expect(counts.emails).toBeGreaterThan(12);
        expect(counts.invites).toBeGreaterThan(0);
        expect(counts.layouts.size, 'the learner-step and nudge layouts both').toBeGreaterThan(0);
      },
      120_000,
    );
  },
);

describe('splicing an acknowledgement in a thread', () => {
  it('keeps In-Reply-To, References and a non-ASCII subject as nodemailer writes them', async () => {
    const splice = splicingComposer();
    for (const [n, learner] of learners.entries()) {
      const mail = mails[0]!;
      const envelope = learnerEmailHeaders({ ...mail, deliveryId: 90 + n, learnerId: learner.id });
      const reading = await expectSame(
        splice,
        {
          from: mail.from,
          to: { name: `${learner.first_name} ${learner.last_name}`, email: learner.email },
          replyTo: envelope.replyTo,
          subject: `Re: Week 3 — “done”, ${learner.first_name}, with a line\r\nbreak`,
          text: `Logged: week 3 done — 4 of 12.\nThanks, ${learner.first_name}.\n`,
          html: `<p>Logged: week 3 done — 4 of 12.</p>`,
          messageId: envelope.messageId,
          date,
          headers: { ...envelope.headers, 'Auto-Submitted': 'auto-replied' },
          inReplyTo: `<reply-${n}@example.gov.uk>`,
          references: ['<d1.x@gym.example.gov.uk>', `<reply-${n}@example.gov.uk>`],
        },
        `acknowledgement ${n}`,
      );
      expect(reading.headers['in-reply-to']).toBe(`"<reply-${n}@example.gov.uk>"`);
      expect(reading.headers['auto-submitted']).toBe('"auto-replied"');
    }
  });
});
