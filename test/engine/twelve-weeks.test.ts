import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchStore } from '../../src/db/dispatch-store.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { readCohortCsv } from '../../src/enrol/cohort-csv.js';
import { noCounts, type DispatchDependencies, type TickCounts } from '../../src/engine/dispatch.js';
import { drainDue } from '../../src/engine/dispatcher-loop.js';
import { enrolCohort, type EnrolResult, type ProgrammeVersion } from '../../src/engine/enrol.js';
import { deliveryFromMessageId } from '../../src/mail/headers.js';
import { createSmtpTransport } from '../../src/mail/smtp-transport.js';
import {
  tokenFromAddress,
  unsubscribeTokenFromAddress,
  verifyReplyToken,
  verifyUnsubscribeToken,
} from '../../src/mail/tokens.js';
import {
  durationMinutes,
  planEnrolment,
  sendingSchedule,
  type PlannedDelivery,
} from '../../src/planner/index.js';
import { programmeCache } from '../../src/render/index.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import { dayNames, type Sequence, type Step } from '../../src/sequence/schema.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';
import {
  headerValues,
  parseHeaders,
  startSmtpServer,
  type HeaderField,
  type ReceivedMessage,
  type TestSmtpServer,
} from '../mail/helpers.js';

/**
 * The whole programme, end to end: a cohort across five zones is enrolled, and the dispatcher
 * runs on a fake clock, every 30 minutes of simulated time, from the day before the first email
 * to a few days after week 12, sending over SMTP to a real in-process smtp-server. Nobody
 * replies, so every nudge goes too. Then every message the server received is checked against
 * an oracle computed here from the programme files: the step, the instant and the learner's
 * wall clock (across the changes of clocks: New York 14 March, London 28 March, Auckland and
 * Sydney 4 April 2027), the headers and the reply token, and for invites the iMIP fields and
 * the instant in the calendar part. Run it under `TZ=Pacific/Auckland` too: nothing may depend
 * on the server's zone.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const programmes: ProgrammeVersion[] = loadSequenceFiles(['sequences'], root).flatMap((r) =>
  r.ok ? [{ sequence: r.sequence, hash: r.hash }] : [],
);
const programmeById = new Map(programmes.map((p) => [p.sequence.id, p.sequence]));
const cohortFile = 'test/fixtures/cohorts/zones.csv';
const cohort = readCohortCsv(readFileSync(`${root}/${cohortFile}`, 'utf8'), cohortFile, {
  now: new Date('2027-02-01T12:00:00Z'),
});
const domain = 'gym.example.gov.uk';
const mail = {
  secret: 'a-test-secret-of-at-least-32-characters!',
  from: `Digital Gym <gym@${domain}>`,
  replyAddress: `progress@${domain}`,
  publicUrl: `https://${domain}`,
};

/** Who is who in the cohort file, and what the test expects of each, written out by hand. */
const learners = {
  'eleanor.hughes@cabinetoffice.gov.uk': {
    zone: 'Europe/London',
    programme: 'digital-engagement-for-policy',
    // GMT, then BST from Sunday 28 March.
    offsets: [0, 60],
  },
  'marcus.reed@ukmission-newyork.fcdo.gov.uk': {
    zone: 'America/New_York',
    programme: 'social-media-for-comms',
    // EST, then EDT from Sunday 14 March.
    offsets: [-300, -240],
  },
  'ananya.iyer@fcdo.gov.uk': {
    zone: 'Asia/Kolkata',
    // No rule matches an office manager: the default programme. She starts on a Wednesday.
    programme: 'digital-foundations',
    offsets: [330],
  },
  'aroha.ngata@businessandtrade.gov.uk': {
    zone: 'Pacific/Auckland',
    programme: 'digital-engagement-for-policy',
    // NZDT, then NZST from Sunday 4 April.
    offsets: [780, 720],
  },
  'liam.walker@businessandtrade.gov.uk': {
    zone: 'Australia/Sydney',
    programme: 'social-media-for-comms',
    // AEDT, then AEST from Sunday 4 April.
    offsets: [660, 600],
  },
} as const satisfies Record<
  string,
  { zone: string; programme: string; offsets: readonly number[] }
>;
type LearnerEmail = keyof typeof learners;

// Half-hourly: every step's time is on the hour or the half hour of its learner's clock, and
// Kolkata is UTC+05:30, so each due instant falls exactly on a tick (hourly ticks would send
// Ananya's 09:00 emails at 09:30).
const stepMinutes = 30;
const stepMs = stepMinutes * 60_000;
// Sunday 14 February, before the first email anywhere (Monday 09:00 in Auckland is 20:00 UTC on
// the 14th), to Wednesday 12 May, after the last step (Friday 7 May, 11:00 in New York) and the
// programme-end emails of the Monday after it.
const clockFrom = new Date('2027-02-14T00:00:00Z');
const clockTo = new Date('2027-05-12T12:00:00Z');

/** A message as the server got it, with the tick of the fake clock that sent it. */
interface Arrival {
  readonly message: ReceivedMessage;
  readonly tick: Date;
}

/** A deliveries row with its learner and enrolment, as the run left it. */
interface DeliveryRow {
  readonly id: number;
  readonly enrolmentId: number;
  readonly learnerId: number;
  readonly email: LearnerEmail;
  readonly firstName: string;
  readonly lastName: string;
  readonly programme: string;
  readonly startsOn: string;
  readonly stepKey: string;
  readonly week: number;
  readonly kind: 'email' | 'invite' | 'acknowledgement' | 'welcome' | 'programme_end';
  /** When it was to be sent (an invite: ahead of its slot). */
  readonly dueAt: Date;
  /** An invite's slot. */
  readonly startsAt: Date | null;
  readonly plannedLocal: string;
  readonly status: string;
  readonly attempts: number;
  readonly sentAt: Date | null;
  readonly messageId: string | null;
  readonly inviteUid: string | null;
  readonly inviteSequence: number;
}

describe.each(testBackends())('twelve weeks of a cohort across zones on $name', (backend) => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let deps: DispatchDependencies;
  let enrolled: EnrolResult[];
  const arrivals: Arrival[] = [];
  const totals: TickCounts = noCounts();
  let rows: DeliveryRow[] = [];
  /** The welcome and programme-end rows, and what the server got of them. */
  let journey: DeliveryRow[] = [];
  const journeyArrivals: Arrival[] = [];

  beforeAll(async () => {
    expect(cohort.problems).toEqual([]);
    database = await openMigrated(backend);
    smtp = await startSmtpServer();
    deps = {
      store: dispatchStore(database.db),
      transport: createSmtpTransport({ url: smtp.url }),
      mail,
      workerId: 'twelve-weeks',
      retryDelay: () => 60_000,
      compiled: programmeCache(),
    };
    enrolled = await enrolCohort(enrolmentStore(database.db), cohort.rows, programmes, {
      dryRun: false,
      holidays: new Set(),
      now: clockFrom,
    });

    for (let t = clockFrom.getTime(); t <= clockTo.getTime(); t += stepMs) {
      const now = new Date(t);
      const before = smtp.received.length;
      const counts = await drainDue(deps, () => now);
      for (const key of Object.keys(totals) as (keyof TickCounts)[]) totals[key] += counts[key];
      for (const message of smtp.received.slice(before)) arrivals.push({ message, tick: now });
    }

    rows = (
      await database.db
        .selectFrom('deliveries')
        .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
        .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
        .innerJoin('sequence_versions', 'sequence_versions.id', 'enrolments.sequence_version_id')
        .select([
          'deliveries.id',
          'deliveries.enrolment_id',
          'learners.id as learner_id',
          'learners.email',
          'learners.first_name',
          'learners.last_name',
          'sequence_versions.sequence_id',
          'enrolments.starts_on',
          'deliveries.step_key',
          'deliveries.week',
          'deliveries.kind',
          'deliveries.due_at',
          'deliveries.starts_at',
          'deliveries.planned_local',
          'deliveries.status',
          'deliveries.attempts',
          'deliveries.sent_at',
          'deliveries.message_id',
          'deliveries.invite_uid',
          'deliveries.invite_sequence',
        ])
        .orderBy('deliveries.id')
        .execute()
    ).map((r) => ({
      id: r.id,
      enrolmentId: r.enrolment_id,
      learnerId: r.learner_id,
      email: r.email as LearnerEmail,
      firstName: r.first_name,
      lastName: r.last_name,
      programme: r.sequence_id,
      startsOn: r.starts_on,
      stepKey: r.step_key,
      week: r.week,
      kind: r.kind,
      dueAt: r.due_at,
      startsAt: r.starts_at,
      plannedLocal: r.planned_local,
      status: r.status,
      attempts: r.attempts,
      sentAt: r.sent_at,
      messageId: r.message_id,
      inviteUid: r.invite_uid,
      inviteSequence: r.invite_sequence,
    }));
    // The programme's steps are checked against the oracle below; the welcome and the end
    // around them on their own.
    journey = rows.filter((r) => r.kind === 'welcome' || r.kind === 'programme_end');
    rows = rows.filter((r) => !journey.includes(r));
    const journeyIds = new Set(journey.map((r) => r.id));
    for (const arrival of arrivals.splice(0)) {
      const messageId = headerValues(parseHeaders(arrival.message.data), 'Message-ID')[0] ?? '';
      const ref = deliveryFromMessageId(mail.secret, messageId);
      (ref !== undefined && journeyIds.has(ref.deliveryId) ? journeyArrivals : arrivals).push(
        arrival,
      );
    }
  });
  afterAll(async () => {
    await deps?.transport.close();
    await smtp?.close();
    await database?.close();
  });

  /** The deliveries row each message names by its Message-ID, checked with the secret. */
  const rowOf = (arrival: Arrival): DeliveryRow => {
    const messageId = headerValues(parseHeaders(arrival.message.data), 'Message-ID')[0] ?? '';
    const ref = deliveryFromMessageId(mail.secret, messageId);
    expect(ref, `Message-ID ${messageId} is ours`).toBeDefined();
    expect(ref!.revision, messageId).toBe(0);
    const row = rows.find((r) => r.id === ref!.deliveryId);
    expect(row, `delivery ${ref!.deliveryId}`).toBeDefined();
    return row!;
  };

  it('enrols each learner on the programme that fits, in their own zone', () => {
    expect(enrolled.map((r) => [r.email, r.action, r.programmeId])).toEqual(
      cohort.rows.map((r) => [r.email, 'enrolled', learners[r.email as LearnerEmail].programme]),
    );
    expect(new Set(Object.values(learners).map((l) => l.programme)).size).toBe(programmes.length);
    for (const row of cohort.rows)
      expect(row.time_zone).toBe(learners[row.email as LearnerEmail].zone);
  });

  it('sends every step of every programme exactly once, and nothing else', () => {
    // Nothing skipped, missed, failed, retried or lost on the way.
    expect(totals).toEqual({ ...noCounts(), sent: rows.length + journey.length });
    expect(rows.every((r) => r.status === 'sent' && r.attempts === 1)).toBe(true);
    expect(arrivals).toHaveLength(rows.length);

    for (const email of Object.keys(learners) as LearnerEmail[]) {
      const expected = learners[email];
      const sequence = programmeById.get(expected.programme)!;
      const stepKeys = sequence.weeks.flatMap((w) =>
        w.steps.map((s) => `w${String(w.week).padStart(2, '0')}-${s.id}`),
      );
      const theirs = rows.filter((r) => r.email === email);
      expect(theirs.every((r) => r.programme === expected.programme)).toBe(true);
      expect(theirs.map((r) => r.stepKey).sort()).toEqual([...stepKeys].sort());
      // Every nudge (`when: not_done`) went out too: nobody replied.
      const nudges = sequence.weeks.flatMap((w) => w.steps.filter((s) => s.when !== undefined));
      expect(nudges).toHaveLength(12);
      const received = arrivals.filter((a) => a.message.to[0] === email).map(rowOf);
      expect(received.map((r) => r.stepKey).sort()).toEqual([...stepKeys].sort());
    }
    // One message per delivery: no Message-ID twice.
    const ids = arrivals.map((a) => headerValues(parseHeaders(a.message.data), 'Message-ID')[0]);
    expect(new Set(ids).size).toBe(rows.length);
  });

  it('welcomes each learner before their first step, and sees them out after their last', async () => {
    // Enrolled on Sunday 14 February, a day off everywhere: each welcome goes on their first
    // working morning, with (and before) its first step; each end the working morning after
    // the last step. Nobody replied, and the end says so rather than congratulate.
    expect(journey.map((r) => r.status)).toEqual(Array(10).fill('sent'));
    expect(journeyArrivals).toHaveLength(10);
    for (const email of Object.keys(learners) as LearnerEmail[]) {
      const { zone } = learners[email];
      const theirs = arrivals.filter((a) => a.message.to[0] === email);
      const first = Math.min(...theirs.map((a) => a.tick.getTime()));
      const last = Math.max(...theirs.map((a) => a.tick.getTime()));
      const [welcome, end] = (['welcome', 'programme_end'] as const).map((kind) => {
        const row = journey.find((r) => r.email === email && r.kind === kind)!;
        const sent = journeyArrivals.filter((a) => a.message.to[0] === email);
        const arrival = sent.find((a) =>
          a.message.data.toString('latin1').includes(`<d${row.id}.`),
        )!;
        return { row, arrival, local: DateTime.fromJSDate(arrival.tick, { zone }) };
      });
      expect(welcome!.arrival.tick.getTime(), email).toBeLessThanOrEqual(first);
      expect(welcome!.local.toFormat('ccc HH:mm'), email).toMatch(/^(Mon|Tue|Wed) 09:00$/);
      expect(end!.arrival.tick.getTime(), email).toBeGreaterThan(last);
      expect(end!.local.toFormat('HH:mm'), email).toBe('09:00');
      expect(end!.local.weekday, email).toBeLessThanOrEqual(5);
      // The first working day after the last step's day.
      const lastDay = DateTime.fromMillis(last, { zone }).startOf('day');
      expect(end!.local.startOf('day') > lastDay, email).toBe(true);
      expect(end!.local.diff(lastDay, 'days').days, email).toBeLessThanOrEqual(4);
      const text = (await simpleParser(end!.arrival.message.data)).text ?? '';
      expect(text, email).toContain('You did not tell us you had done any of the 12 assignments.');
      expect(text, email).toContain('Reply with a score such as "4/5"');
    }
    // Every enrolment has completed: the end was the last of its plan.
    const statuses = await database.db.selectFrom('enrolments').select('status').execute();
    expect(statuses.map((e) => e.status)).toEqual(Array(5).fill('completed'));
  });

  it('sends each at its planned local time, on the tick it falls due, across the changes of clocks', () => {
    const offsetsSeen = new Map<string, Set<number>>();
    for (const arrival of arrivals) {
      const row = rowOf(arrival);
      const { zone, offsets } = learners[row.email];
      const sequence = programmeById.get(row.programme)!;
      const step = stepOf(sequence, row.stepKey);
      const at = step.at ?? sequence.schedule.send_at;
      const where = `${row.email} ${row.stepKey}`;

      // The oracle, from the programme file alone: the step's day of its week, counted from the
      // Monday of the start (no earlier than the start itself), at its time on the learner's clock.
      const start = DateTime.fromISO(row.startsOn, { zone });
      const monday = start.startOf('week');
      const nominal = monday.plus({ weeks: row.week - 1, days: dayNames.indexOf(step.day) });
      const day = nominal < start ? start : nominal;
      const [hour, minute] = at.split(':').map(Number) as [number, number];
      const expected = day.set({ hour, minute, second: 0, millisecond: 0 });
      expect(expected.toFormat('HH:mm'), where).toBe(at); // no planned time falls in a gap

      // The planner agrees with it, and the stored row is the plan.
      const plan = planOf(row).find((p) => p.stepKey === row.stepKey)!;
      expect(plan.local, where).toBe(expected.toFormat("yyyy-MM-dd'T'HH:mm"));
      expect(plan.dueAt.getTime(), where).toBe(expected.toMillis());
      expect(row.plannedLocal, where).toBe(plan.planned);
      expect(row.kind, where).toBe(plan.kind);
      if (row.kind === 'invite') {
        // An invite holds the slot in the calendar: it goes out with the first step of its week,
        // before the slot it blocks (checked against the slot below, with the calendar part).
        const scheduled = sendingSchedule(planOf(row)).find((p) => p.stepKey === row.stepKey)!;
        expect(row.startsAt?.getTime(), where).toBe(plan.dueAt.getTime());
        expect(row.dueAt.getTime(), where).toBe(scheduled.sendAt.getTime());
        expect(row.dueAt.getTime(), where).toBeLessThan(plan.dueAt.getTime());
        const late = arrival.tick.getTime() - row.dueAt.getTime();
        expect(late, where).toBeGreaterThanOrEqual(0);
        expect(late, where).toBeLessThan(stepMs);
        expect(row.sentAt?.getTime(), where).toBe(arrival.tick.getTime());
        continue;
      }
      expect(row.dueAt.getTime(), where).toBe(plan.dueAt.getTime());

      // Sent on the first tick at or after the due instant, and recorded at that tick.
      const late = arrival.tick.getTime() - row.dueAt.getTime();
      expect(late, where).toBeGreaterThanOrEqual(0);
      expect(late, where).toBeLessThan(stepMs);
      expect(row.sentAt?.getTime(), where).toBe(arrival.tick.getTime());

      // On the learner's clock it went at the step's own time, whatever the offset that day.
      const sentLocal = DateTime.fromJSDate(arrival.tick, { zone });
      expect(sentLocal.toFormat('HH:mm'), where).toBe(at);
      expect(sentLocal.toISODate(), where).toBe(expected.toISODate());
      if (day.equals(nominal))
        expect(sentLocal.toFormat('ccc').toLowerCase(), where).toBe(step.day);
      expect(sentLocal.weekday, where).toBeLessThanOrEqual(5);
      expect(offsets as readonly number[], where).toContain(sentLocal.offset);
      const seen = offsetsSeen.get(row.email) ?? new Set<number>();
      offsetsSeen.set(row.email, seen.add(sentLocal.offset));

      // The Date header is the moment of sending too.
      const date = headerValues(parseHeaders(arrival.message.data), 'Date')[0]!;
      expect(new Date(date).getTime(), where).toBe(arrival.tick.getTime());
    }
    // Every zone with a change of clocks saw both offsets: the change fell inside the 12 weeks.
    for (const email of Object.keys(learners) as LearnerEmail[])
      expect([...offsetsSeen.get(email)!].sort(), email).toEqual(
        [...learners[email].offsets].sort(),
      );
  });

  it('gives every message its Message-ID, reply token, unsubscribe links and automatic-mail marks', () => {
    for (const arrival of arrivals) {
      const row = rowOf(arrival);
      const where = `${row.email} ${row.stepKey}`;
      const headers = parseHeaders(arrival.message.data);
      const one = (name: string) => {
        const values = headerValues(headers, name);
        expect(values, `${where}: ${name}`).toHaveLength(1);
        // A long field may be folded right after its colon: unfolded, it starts with a space.
        return values[0]!.trim();
      };

      // The envelope: to the learner, from the mailbox that counts bounces.
      expect(arrival.message.to, where).toEqual([row.email]);
      expect(arrival.message.from, where).toBe(mail.replyAddress);
      expect(one('From'), where).toBe(mail.from);
      expect(one('To'), where).toBe(`${row.firstName} ${row.lastName} <${row.email}>`);

      const messageId = one('Message-ID');
      expect(messageId, where).toMatch(new RegExp(`^<d${row.id}\\.[a-z2-7]+@${escaped(domain)}>$`));
      expect(row.messageId, where).toBe(messageId);

      const replyTo = one('Reply-To');
      expect(replyTo, where).toMatch(new RegExp(`^progress\\+[a-z0-9]+@${escaped(domain)}$`));
      const token = tokenFromAddress(replyTo, mail.replyAddress);
      expect(token, where).toBeDefined();
      expect(verifyReplyToken(mail.secret, token!), where).toEqual({
        ok: true,
        deliveryId: row.id,
      });

      const unsubscribe = one('List-Unsubscribe');
      const links = /^<(mailto:[^>]+)>, <(https:[^>]+)>$/.exec(unsubscribe);
      expect(links, `${where}: ${unsubscribe}`).not.toBeNull();
      const mailto = new URL(links![1]!);
      expect(mailto.searchParams.get('subject'), where).toBe('unsubscribe');
      const mailtoToken = unsubscribeTokenFromAddress(mailto.pathname, mail.replyAddress);
      expect(verifyUnsubscribeToken(mail.secret, mailtoToken ?? ''), where).toEqual({
        ok: true,
        learnerId: row.learnerId,
      });
      const https = new URL(links![2]!);
      expect(https.origin, where).toBe(mail.publicUrl);
      const httpsToken = /^\/unsubscribe\/([a-z0-9]+)$/.exec(https.pathname)?.[1];
      expect(httpsToken, where).toBe(mailtoToken);
      expect(one('List-Unsubscribe-Post'), where).toBe('List-Unsubscribe=One-Click');
      expect(one('Auto-Submitted'), where).toBe('auto-generated');
      expect(one('X-Auto-Response-Suppress'), where).toBe('OOF, AutoReply');

      const sequence = programmeById.get(row.programme)!;
      const step = stepOf(sequence, row.stepKey);
      // The content: one multipart/alternative with a plain-text version beside the HTML (an
      // email) or beside the calendar part (an invite).
      const top = parseMime(arrival.message.data);
      const alternatives = partsOf(top).filter((p) => p.type === 'multipart/alternative');
      expect(alternatives, where).toHaveLength(1);
      const types = alternatives[0]!.parts.map((p) => p.type);
      if (row.kind === 'email') {
        expect(one('Subject'), where).toBe(step.email!.subject);
        expect(types, where).toEqual(['text/plain', 'text/html']);
        // The footer's Unsubscribe link, the one a person sees, is the header's one-click page.
        const plain = alternatives[0]!.parts.find((p) => p.type === 'text/plain')!;
        expect(plain.body.toString('utf8'), where).toContain(`Unsubscribe: ${https.href}`);
        expect(
          partsOf(top).some((p) => p.type === 'text/calendar'),
          where,
        ).toBe(false);
        expect(row.inviteUid, where).toBeNull();
      } else {
        expect(one('Subject'), where).toBe(`Invitation: ${step.invite!.title}`);
        expect(types, where).toContain('text/plain');
        expect(types, where).toContain('text/calendar');
        expect(types, where).toContain('text/html');
      }
    }
  });

  it('sends every practice slot as an iMIP invite at the learner’s local time', () => {
    const invites = arrivals.filter((a) => rowOf(a).kind === 'invite');
    expect(invites).toHaveLength(rows.filter((r) => r.kind === 'invite').length);
    expect(invites.length).toBe(12 * Object.keys(learners).length);
    const uids = new Set<string>();
    for (const arrival of invites) {
      const row = rowOf(arrival);
      const { zone } = learners[row.email];
      const sequence = programmeById.get(row.programme)!;
      const step = stepOf(sequence, row.stepKey);
      const where = `${row.email} ${row.stepKey}`;

      // The MIME part says REQUEST, as the calendar inside does.
      const parts = partsOf(parseMime(arrival.message.data));
      const calendars = parts.filter((p) => p.type === 'text/calendar');
      expect(calendars, where).toHaveLength(1);
      const part = calendars[0]!;
      expect(part.params.method, where).toBe('REQUEST');
      expect(part.params.charset?.toLowerCase(), where).toBe('utf-8');
      const ics = part.body.toString('utf8');
      // The .ics attachment some clients show instead is the same calendar.
      for (const attachment of parts.filter((p) => p.type === 'application/ics'))
        expect(attachment.body.toString('utf8'), where).toBe(ics);
      expect(ics, where).toMatch(/^BEGIN:VCALENDAR\r\n/);
      expect(/(?<!\r)\n|\r(?!\n)/.test(ics), `${where}: CRLF line endings only`).toBe(false);

      const calendar = new ICAL.Component(ICAL.parse(ics) as unknown[]);
      expect(calendar.getFirstPropertyValue('method'), where).toBe('REQUEST');
      const vevents = calendar.getAllSubcomponents('vevent');
      expect(vevents, where).toHaveLength(1);
      const vevent = vevents[0]!;
      const event = new ICAL.Event(vevent);

      // Stable per (enrolment, step), stored with the row, first version.
      // Signed (#16), so that nobody can guess another learner's.
      expect(event.uid, where).toMatch(
        new RegExp(
          `^gym-${row.enrolmentId}-${row.stepKey}-[a-z2-7]{16}@${domain.replaceAll('.', '\\.')}$`,
        ),
      );
      expect(row.inviteUid, where).toBe(event.uid);
      expect(uids.has(event.uid), `${where}: UID used twice`).toBe(false);
      uids.add(event.uid);
      expect(event.sequence, where).toBe(row.inviteSequence);
      expect(event.sequence, where).toBe(0);

      // ORGANIZER: the bare mailbox we read; ATTENDEE: the learner, asked to answer.
      expect(vevent.getFirstPropertyValue('organizer'), where).toBe(`mailto:${mail.replyAddress}`);
      expect(event.attendees, where).toHaveLength(1);
      const attendee = event.attendees[0]!;
      expect(String(attendee.getFirstValue()).toLowerCase(), where).toBe(`mailto:${row.email}`);
      expect(attendee.getParameter('rsvp'), where).toBe('TRUE');
      expect(attendee.getParameter('partstat'), where).toBe('NEEDS-ACTION');

      // Times: in UTC, or under a TZID that the calendar defines; DTSTAMP always in UTC.
      const unfolded = ics.replace(/\r\n[ \t]/g, '');
      expect(unfolded, where).toMatch(/^DTSTAMP:\d{8}T\d{6}Z$/m);
      const stamp = vevent.getFirstPropertyValue('dtstamp') as InstanceType<typeof ICAL.Time>;
      expect(stamp.toJSDate().getTime(), where).toBe(arrival.tick.getTime());
      for (const name of ['DTSTART', 'DTEND']) {
        const line = new RegExp(`^${name}(;[^:]*)?:(\\d{8}T\\d{6}Z?)$`, 'm').exec(unfolded);
        expect(line, `${where}: ${name}`).not.toBeNull();
        const tzid = /TZID=([^;:]+)/.exec(line![1] ?? '')?.[1];
        if (tzid === undefined) expect(line![2], `${where}: ${name} in UTC`).toMatch(/Z$/);
        else expect(unfolded, where).toContain(`BEGIN:VTIMEZONE\r\nTZID:${tzid}\r\n`);
      }

      // The instant is the row's, which is the step's time on the learner's clock.
      const start = event.startDate.toJSDate();
      const end = event.endDate.toJSDate();
      expect(start.getTime(), where).toBe(row.startsAt?.getTime());
      const plan = planOf(row).find((p) => p.stepKey === row.stepKey)!;
      expect(start.getTime(), where).toBe(plan.dueAt.getTime());
      expect(DateTime.fromJSDate(start, { zone }).toFormat("yyyy-MM-dd'T'HH:mm"), where).toBe(
        plan.local,
      );
      expect(DateTime.fromJSDate(start, { zone }).toFormat('HH:mm'), where).toBe(
        step.at ?? sequence.schedule.send_at,
      );
      expect(end.getTime() - start.getTime(), where).toBe(
        durationMinutes(step.invite!.duration) * 60_000,
      );
      expect(event.summary, where).toBe(step.invite!.title);
    }
  });
});

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function stepOf(sequence: Sequence, stepKey: string): Step {
  const match = /^w(\d+)-(.+)$/.exec(stepKey)!;
  const step = sequence.weeks
    .find((w) => w.week === Number(match[1]))
    ?.steps.find((s) => s.id === match[2]);
  if (step === undefined) throw new Error(`no step ${stepKey} in ${sequence.id}`);
  return step;
}

const plans = new Map<string, PlannedDelivery[]>();
/** The planner's timeline for the learner of a row (pure, so computed once per learner). */
function planOf(row: DeliveryRow): PlannedDelivery[] {
  let plan = plans.get(row.email);
  if (plan === undefined) {
    plan = planEnrolment({
      sequence: programmeById.get(row.programme)!,
      startsOn: row.startsOn,
      zone: learners[row.email].zone,
      holidays: new Set(),
    });
    plans.set(row.email, plan);
  }
  return plan;
}

/** One part of a MIME message, its body decoded. */
interface MimePart {
  readonly headers: HeaderField[];
  /** `text/calendar`, in lower case. */
  readonly type: string;
  /** The Content-Type parameters, names in lower case. */
  readonly params: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly parts: MimePart[];
}

/** Enough of a MIME reader for what nodemailer writes: multipart, base64, quoted-printable. */
function parseMime(raw: Buffer | string): MimePart {
  const text = raw.toString('latin1');
  const headers = parseHeaders(text);
  const bodyText = text.slice(text.indexOf('\r\n\r\n') + 4);
  const contentType = headerValues(headers, 'Content-Type')[0] ?? 'text/plain';
  const [type = '', ...rest] = contentType.split(';').map((s) => s.trim());
  const params: Record<string, string> = {};
  for (const param of rest) {
    const eq = param.indexOf('=');
    if (eq > 0)
      params[param.slice(0, eq).trim().toLowerCase()] = param
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
  }
  const lowerType = type.toLowerCase();
  if (lowerType.startsWith('multipart/')) {
    const boundary = params.boundary!;
    const chunks = bodyText.split(`--${boundary}`);
    // Before the first boundary is the preamble; after the closing `--boundary--`, the epilogue.
    const parts = chunks
      .slice(1)
      .filter((chunk) => !chunk.startsWith('--'))
      .map((chunk) => parseMime(chunk.replace(/^\r\n/, '').replace(/\r\n$/, '')));
    return { headers, type: lowerType, params, body: Buffer.alloc(0), parts };
  }
  const encoding = (headerValues(headers, 'Content-Transfer-Encoding')[0] ?? '7bit').toLowerCase();
  const body =
    encoding === 'base64'
      ? Buffer.from(bodyText, 'base64')
      : encoding === 'quoted-printable'
        ? Buffer.from(
            bodyText
              .replace(/=\r\n/g, '')
              .replace(/=([0-9A-F]{2})/gi, (_, hex: string) =>
                String.fromCharCode(parseInt(hex, 16)),
              ),
            'latin1',
          )
        : Buffer.from(bodyText, 'latin1');
  return { headers, type: lowerType, params, body, parts: [] };
}

/** A part and every part inside it, depth first. */
function partsOf(part: MimePart): MimePart[] {
  return [part, ...part.parts.flatMap(partsOf)];
}
