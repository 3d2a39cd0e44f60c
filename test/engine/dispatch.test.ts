import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { dispatchStore } from '../../src/db/dispatch-store.js';
import { sendBudget } from '../../src/db/send-budget.js';
import { shiftStore } from '../../src/db/shift-store.js';
import { gymServerStore } from '../../src/db/unsubscribe-store.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { readCohortCsv } from '../../src/enrol/cohort-csv.js';
import { dispatchTick, type DispatchDependencies } from '../../src/engine/dispatch.js';
import type { MailTransport, OutboundMessage } from '../../src/mail/transport.js';
import { enrolCohort, type ProgrammeVersion } from '../../src/engine/enrol.js';
import { pauseEnrolment, resumeEnrolment } from '../../src/engine/shift.js';
import { createSmtpTransport } from '../../src/mail/smtp-transport.js';
import { programmeCache } from '../../src/render/index.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';
import {
  headerValues,
  parseHeaders,
  startSmtpServer,
  type TestSmtpServer,
} from '../mail/helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const programmes: ProgrammeVersion[] = loadSequenceFiles(['sequences'], root).flatMap((r) =>
  r.ok ? [{ sequence: r.sequence, hash: r.hash }] : [],
);
const cohortFile = 'test/fixtures/cohorts/example.csv';
const cohort = readCohortCsv(readFileSync(`${root}/${cohortFile}`, 'utf8'), cohortFile, {
  now: new Date('2026-12-01T12:00:00Z'),
});
const mail = {
  secret: 'a-test-secret-of-at-least-32-characters!',
  from: 'Digital Gym <gym@gym.example.gov.uk>',
  replyAddress: 'progress@gym.example.gov.uk',
  publicUrl: 'https://gym.example.gov.uk',
};

describe.each(testBackends())('the dispatcher on $name, sending over SMTP', (backend) => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let rejected: Set<string>;
  let deps: DispatchDependencies;

  beforeAll(async () => {
    database = await openMigrated(backend);
    rejected = new Set();
    smtp = await startSmtpServer({
      onRcptTo(address, _session, callback) {
        if (rejected.has(address.address)) {
          const error = Object.assign(new Error('5.1.1 no such user'), { responseCode: 550 });
          return callback(error);
        }
        callback();
      },
    });
    deps = {
      store: dispatchStore(database.db),
      transport: createSmtpTransport({ url: smtp.url }),
      mail,
      workerId: 'test-worker',
      retryDelay: () => 60_000,
      compiled: programmeCache(),
    };
  });
  afterAll(async () => {
    await deps?.transport.close();
    await smtp?.close();
    await database?.close();
  });
  beforeEach(async () => {
    // A fresh cohort each time (learners take their enrolments and deliveries with them).
    await database.db.deleteFrom('learners').execute();
    // The relay's counters and pauses belong to the test that made them.
    await database.db.deleteFrom('send_quota').execute();
    // An opt-out outlives the learner's row (it is about the person): clear it too.
    await database.db.deleteFrom('suppressions').execute();
    smtp.received.length = 0;
    rejected.clear();
    await enrolCohort(enrolmentStore(database.db), cohort.rows, programmes, {
      dryRun: false,
      holidays: new Set(),
    });
  });

  const statuses = async () =>
    Object.fromEntries(
      (
        await database.db
          .selectFrom('deliveries')
          .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
          .groupBy('status')
          .execute()
      ).map((r) => [r.status, Number(r.n)]),
    );

  it('sends each due email once, at the learner’s local time, with its reply token and headers', async () => {
    // Monday 4 January 2027, 12:00 UTC: 09:00 has come in Kolkata, London and Dublin, not yet in
    // New York (14:00 UTC); the learners in Sydney and Fiona in London start a week later.
    const counts = await dispatchTick(deps, new Date('2027-01-04T12:00:00Z'));
    // Each learner's Monday email, and the invite for their Wednesday slot, which goes with it.
    expect(counts).toMatchObject({ sent: 10, failed: 0, lost: 0 });
    const emails = smtp.received.filter((m) => !m.data.includes('text/calendar'));
    expect(emails.map((m) => m.to[0]).sort()).toEqual([
      'aisha.khan@businessandtrade.gov.uk',
      'daniel.evans@businessandtrade.gov.uk',
      'gareth.jones@cardiff.gov.uk',
      'priya.sharma@fcdo.gov.uk',
      'siobhan.obrien@fcdo.gov.uk',
    ]);
    const priya = emails.find((m) => m.to[0] === 'priya.sharma@fcdo.gov.uk')!;
    const headers = parseHeaders(priya.data);
    expect(headerValues(headers, 'Subject')).toEqual(['Week 1: clear the way, then listen']);
    expect(headerValues(headers, 'Reply-To')[0]).toMatch(
      /^progress\+[a-z0-9]+@gym\.example\.gov\.uk$/,
    );
    expect(headerValues(headers, 'List-Unsubscribe-Post')).toEqual(['List-Unsubscribe=One-Click']);
    expect(headerValues(headers, 'Auto-Submitted')).toEqual(['auto-generated']);
    const row = await database.db
      .selectFrom('deliveries')
      .select(['message_id', 'status'])
      .where('message_id', '=', headerValues(headers, 'Message-ID')[0]!)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('sent');

    // Nothing is sent twice, whoever ticks next.
    expect(
      await dispatchTick({ ...deps, workerId: 'other' }, new Date('2027-01-04T12:00:05Z')),
    ).toMatchObject({ sent: 0 });
    expect(smtp.received).toHaveLength(10);
  });

  it('welcomes each learner once, on their next morning before week 1, unless they said no', async () => {
    // The cohort is enrolled on Wednesday 30 December 2026 at 15:00 UTC, for Monday 4 January.
    await database.db.deleteFrom('learners').execute();
    const enrol = (now: Date) =>
      enrolCohort(enrolmentStore(database.db), cohort.rows, programmes, {
        dryRun: false,
        holidays: new Set(),
        now,
      });
    await enrol(new Date('2026-12-30T15:00:00Z'));
    const welcomes = await database.db
      .selectFrom('deliveries')
      .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .select(['learners.email', 'deliveries.due_at'])
      .where('deliveries.kind', '=', 'welcome')
      .orderBy('learners.id')
      .execute();
    // 09:00 on Thursday 31 December on each learner's clock: sooner than Friday, the working
    // day before week 1. In Sydney it is already Thursday, and 09:00 is still to come.
    expect(welcomes.map((w) => [w.email, w.due_at.toISOString()])).toEqual([
      ['priya.sharma@fcdo.gov.uk', '2026-12-31T03:30:00.000Z'],
      ['tom.fletcher@fcdo.gov.uk', '2026-12-31T14:00:00.000Z'],
      ['siobhan.obrien@fcdo.gov.uk', '2026-12-31T09:00:00.000Z'],
      ['aisha.khan@businessandtrade.gov.uk', '2026-12-31T09:00:00.000Z'],
      ['daniel.evans@businessandtrade.gov.uk', '2026-12-31T09:00:00.000Z'],
      ['james.okafor@businessandtrade.gov.uk', '2026-12-30T22:00:00.000Z'],
      ['gareth.jones@cardiff.gov.uk', '2026-12-31T09:00:00.000Z'],
      ['fiona.campbell@cardiff.gov.uk', '2026-12-31T09:00:00.000Z'],
    ]);
    // Gareth unsubscribes before his welcome goes: he gets none, by the same rule as any mail.
    const gareth = await database.db
      .selectFrom('learners')
      .select('id')
      .where('email', '=', 'gareth.jones@cardiff.gov.uk')
      .executeTakeFirstOrThrow();
    await gymServerStore(database.db).unsubscribe(gareth.id, new Date('2026-12-30T16:00:00Z'));

    expect(await dispatchTick(deps, new Date('2026-12-31T12:00:00Z'))).toMatchObject({
      sent: 6,
      failed: 0,
    });
    const garethsWelcome = await database.db
      .selectFrom('deliveries')
      .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
      .select('deliveries.status')
      .where('enrolments.learner_id', '=', gareth.id)
      .where('deliveries.kind', '=', 'welcome')
      .executeTakeFirstOrThrow();
    expect(garethsWelcome.status).toBe('cancelled');
    // The same file again, later: the enrolments are kept, and no second welcome is planned.
    await enrol(new Date('2026-12-31T13:00:00Z'));
    expect(await dispatchTick(deps, new Date('2026-12-31T14:00:30Z'))).toMatchObject({ sent: 1 });
    expect(await dispatchTick(deps, new Date('2027-01-01T12:00:00Z'))).toMatchObject({ sent: 0 });

    const received = await Promise.all(
      smtp.received.map(async (m) => ({ to: m.to[0], mail: await simpleParser(m.data) })),
    );
    expect(received.map((r) => r.to).sort()).toEqual(
      [
        'aisha.khan@businessandtrade.gov.uk',
        'daniel.evans@businessandtrade.gov.uk',
        'fiona.campbell@cardiff.gov.uk',
        'james.okafor@businessandtrade.gov.uk',
        'priya.sharma@fcdo.gov.uk',
        'siobhan.obrien@fcdo.gov.uk',
        'tom.fletcher@fcdo.gov.uk',
      ].sort(),
    );
    const priya = received.find((r) => r.to === 'priya.sharma@fcdo.gov.uk')!.mail;
    expect(priya.subject).toBe('Welcome to Social media for communications and press officers');
    expect(priya.messageId).toMatch(/^<d\d+\.[a-z2-7]{13}@gym\.example\.gov\.uk>$/);
    expect(priya.replyTo?.text).toMatch(/^progress\+/);
    const raw = smtp.received.find((m) => m.to[0] === 'priya.sharma@fcdo.gov.uk')!.data;
    expect(headerValues(parseHeaders(raw), 'List-Unsubscribe')[0]).toMatch(/<mailto:progress\+/);
    const text = priya.text ?? '';
    expect(text).toContain('WELCOME, Priya');
    expect(text).toContain('"too hard" when you are stuck, "help" with any question');
    expect(text).toContain('Practice slots arrive as calendar invitations');
    expect(text).toContain('Your manager, Helen Walsh, gets a short summary every two weeks');
    expect(text).toContain('Your trainer reads your replies');
    expect(text).toContain('12. ');
  });

  it('sends the practice slot as an iMIP invite, ahead of the slot it blocks', async () => {
    const monday = new Date('2027-01-04T12:00:00Z');
    await dispatchTick(deps, monday);
    const invites = smtp.received.filter((m) => m.data.toString().includes('method=REQUEST'));
    expect(invites).toHaveLength(5);
    const ics = invites[0]!.data.toString();
    expect(ics).toContain('METHOD:REQUEST');
    // Signed (#16): nobody can guess the UID of another learner's slot. Unfolded: it is long.
    expect(ics.replace(/\r\n[ \t]/g, '')).toMatch(
      /UID:gym-\d+-w01-practice-[a-z2-7]{16}@gym\.example\.gov\.uk/,
    );
    expect(ics).toContain('SEQUENCE:0');
    // The slot is later in the week: the calendar holds the time before it comes.
    const start = /DTSTART:(\d{8}T\d{6}Z)/.exec(ics)![1]!;
    expect(start > '20270104T120000Z').toBe(true);
    // Beside the calendar part, text and HTML that say what and when, for clients that show neither.
    expect(ics).toContain('Content-Type: text/plain; charset=utf-8');
    expect(ics).toContain('Content-Type: text/html; charset=utf-8');
  });

  it('skips a nudge when the assignment is done, and marks a step missed after an outage', async () => {
    await dispatchTick(deps, new Date('2027-01-04T12:00:00Z'));
    const stepOf = (email: string, stepKey: string) =>
      database.db
        .selectFrom('deliveries')
        .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
        .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
        .select([
          'deliveries.id',
          'deliveries.enrolment_id',
          'deliveries.status',
          'deliveries.reason',
        ])
        .where('learners.email', '=', email)
        .where('deliveries.step_key', '=', stepKey)
        .executeTakeFirstOrThrow();
    const kickoff = await stepOf('priya.sharma@fcdo.gov.uk', 'w01-kickoff');
    await database.db
      .insertInto('progress_events')
      .values({
        enrolment_id: kickoff.enrolment_id,
        delivery_id: kickoff.id,
        kind: 'done',
        occurred_at: new Date('2027-01-05T10:00:00Z'),
      })
      .execute();
    // Down from Monday noon until Thursday 10:00 UTC.
    await dispatchTick({ ...deps, batchSize: 1000 }, new Date('2027-01-07T10:00:00Z'));
    // Priya said "done": her Thursday nudge is skipped, Siobhán's goes.
    expect(await stepOf('priya.sharma@fcdo.gov.uk', 'w01-nudge')).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('kickoff') as unknown,
    });
    expect(await stepOf('siobhan.obrien@fcdo.gov.uk', 'w01-nudge')).toMatchObject({
      status: 'sent',
    });
    // Tom's Monday email (09:00 in New York) is more than its two days' grace late: not sent
    // now, when it would land out of step with the rest of his week.
    expect(await stepOf('tom.fletcher@fcdo.gov.uk', 'w01-kickoff')).toMatchObject({
      status: 'missed',
    });
    expect(
      smtp.received.some(
        (m) => m.to[0] === 'tom.fletcher@fcdo.gov.uk' && m.data.includes('Week 1:'),
      ),
    ).toBe(false);
  });

  it('withdraws the invites of a learner who unsubscribes: METHOD:CANCEL, same UID, next SEQUENCE', async () => {
    await dispatchTick(deps, new Date('2027-01-04T12:00:00Z'));
    const invite = smtp.received.find(
      (m) => m.to[0] === 'priya.sharma@fcdo.gov.uk' && m.data.includes('method=REQUEST'),
    )!;
    const uid = /UID:(\S+)/.exec(invite.data.toString())![1]!;
    const priya = await database.db
      .selectFrom('learners')
      .select('id')
      .where('email', '=', 'priya.sharma@fcdo.gov.uk')
      .executeTakeFirstOrThrow();
    await gymServerStore(database.db).unsubscribe(priya.id, new Date('2027-01-05T08:00:00Z'));
    smtp.received.length = 0;

    await dispatchTick(deps, new Date('2027-01-05T08:00:30Z'));
    const toPriya = smtp.received.filter((m) => m.to[0] === 'priya.sharma@fcdo.gov.uk');
    expect(toPriya).toHaveLength(1);
    const cancel = toPriya[0]!.data.toString().replace(/\r\n[ \t]/g, '');
    expect(cancel).toContain('Content-Type: text/calendar; charset=utf-8; method=CANCEL');
    expect(cancel).toContain('METHOD:CANCEL');
    expect(cancel).toContain('STATUS:CANCELLED');
    expect(cancel).toContain(`UID:${uid}`);
    expect(cancel).toContain('SEQUENCE:1');
    expect(headerValues(parseHeaders(toPriya[0]!.data), 'Subject')[0]).toMatch(/^Cancelled: /);
    // Nothing else goes to her, and the others' programmes carry on.
    expect(await dispatchTick(deps, new Date('2027-01-07T12:00:00Z'))).toMatchObject({ failed: 0 });
    expect(smtp.received.filter((m) => m.to[0] === 'priya.sharma@fcdo.gov.uk')).toHaveLength(1);
    expect(smtp.received.length).toBeGreaterThan(1);
  });

  it('moves the plan of a learner who pauses, and updates the invite already in their calendar', async () => {
    await dispatchTick(deps, new Date('2027-01-04T12:00:00Z'));
    const original = smtp.received.find(
      (m) => m.to[0] === 'priya.sharma@fcdo.gov.uk' && m.data.includes('method=REQUEST'),
    )!;
    const unfold = (raw: Buffer) => raw.toString().replace(/\r\n[ \t]/g, '');
    const uid = /UID:(\S+)/.exec(unfold(original.data))![1]!;
    const startOf = (raw: Buffer) => /DTSTART:(\S+)/.exec(unfold(raw))![1]!;
    const { enrolment_id } = await database.db
      .selectFrom('enrolments')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .select('enrolments.id as enrolment_id')
      .where('learners.email', '=', 'priya.sharma@fcdo.gov.uk')
      .executeTakeFirstOrThrow();
    // "Pause until Monday 18 January" on Tuesday morning.
    const weeks = await pauseEnrolment(shiftStore(database.db), enrolment_id, {
      pausedAt: new Date('2027-01-05T04:00:00Z'),
      resumeAt: new Date('2027-01-17T18:30:00Z'),
    });
    expect(weeks).toBe(2);
    smtp.received.length = 0;

    await dispatchTick({ ...deps, batchSize: 1000 }, new Date('2027-01-05T04:00:30Z'));
    const toPriya = smtp.received.filter((m) => m.to[0] === 'priya.sharma@fcdo.gov.uk');
    expect(toPriya).toHaveLength(1);
    const update = unfold(toPriya[0]!.data);
    expect(update).toContain('METHOD:REQUEST');
    expect(update).toContain(`UID:${uid}`);
    expect(update).toContain('SEQUENCE:1');
    expect(headerValues(parseHeaders(toPriya[0]!.data), 'Subject')[0]).toMatch(
      /^Updated invitation: /,
    );
    // The same slot, two weeks on: Wednesday 20 January at the same local time.
    expect(startOf(toPriya[0]!.data)).toBe(startOf(original.data).replace('20270106', '20270120'));

    // Nothing more reaches her while she is paused; the others' weeks go on.
    smtp.received.length = 0;
    await dispatchTick({ ...deps, batchSize: 1000 }, new Date('2027-01-15T12:00:00Z'));
    expect(smtp.received.filter((m) => m.to[0] === 'priya.sharma@fcdo.gov.uk')).toHaveLength(0);
    expect(smtp.received.length).toBeGreaterThan(0);
    const next = await database.db
      .selectFrom('deliveries')
      .select(['step_key', 'due_at'])
      .where('enrolment_id', '=', enrolment_id)
      .where('status', '=', 'pending')
      .orderBy('due_at')
      .executeTakeFirstOrThrow();
    expect(next.due_at.getTime()).toBeGreaterThanOrEqual(
      new Date('2027-01-17T18:30:00Z').getTime(),
    );
  });

  it('brings the plan back when a paused learner resumes early, updating the invite again', async () => {
    await dispatchTick(deps, new Date('2027-01-04T12:00:00Z'));
    const unfold = (raw: Buffer) => raw.toString().replace(/\r\n[ \t]/g, '');
    const { enrolment_id } = await database.db
      .selectFrom('enrolments')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .select('enrolments.id as enrolment_id')
      .where('learners.email', '=', 'priya.sharma@fcdo.gov.uk')
      .executeTakeFirstOrThrow();
    const store = shiftStore(database.db);
    await pauseEnrolment(store, enrolment_id, {
      pausedAt: new Date('2027-01-05T04:00:00Z'),
      resumeAt: new Date('2027-01-17T18:30:00Z'),
    });
    await dispatchTick(deps, new Date('2027-01-05T04:00:30Z'));
    smtp.received.length = 0;
    // "resume" on Wednesday: this week's Thursday nudge has not passed, but Wednesday's slot
    // has, so the plan comes back one week of the two: next week is on time.
    expect(
      await resumeEnrolment(store, enrolment_id, { resumedAt: new Date('2027-01-06T10:00:00Z') }),
    ).toBe(-1);
    await dispatchTick(deps, new Date('2027-01-06T10:00:30Z'));
    const toPriya = smtp.received.filter((m) => m.to[0] === 'priya.sharma@fcdo.gov.uk');
    expect(toPriya).toHaveLength(1);
    const update = unfold(toPriya[0]!.data);
    expect(update).toContain('SEQUENCE:2');
    expect(/DTSTART:(\d{8})/.exec(update)![1]).toBe('20270113');
    const enrolment = await database.db
      .selectFrom('enrolments')
      .select(['paused_at', 'paused_weeks'])
      .where('id', '=', enrolment_id)
      .executeTakeFirstOrThrow();
    expect(enrolment).toEqual({ paused_at: null, paused_weeks: 0 });
  });

  it('on the database’s clock, takes what PostgreSQL says is due, whatever the worker’s clock', async () => {
    // The cohort is due in 2027; one row is made due a minute ago by PostgreSQL's clock.
    const [first] = await database.db
      .selectFrom('deliveries')
      .select('id')
      .orderBy('due_at')
      .limit(1)
      .execute();
    await database.db
      .updateTable('deliveries')
      .set({ due_at: sql<Date>`now() - interval '1 minute'` })
      .where('id', '=', first!.id)
      .execute();
    const counts = await dispatchTick(deps, 'database');
    // That row alone was claimed and decided (sent, or waiting for its learner's window, by
    // the database's time of day); the rest are not due yet.
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
    const row = await database.db
      .selectFrom('deliveries')
      .select(['status', 'attempts', 'updated_at'])
      .where('id', '=', first!.id)
      .executeTakeFirstOrThrow();
    expect(['sent', 'pending']).toContain(row.status);
    // Recorded at PostgreSQL's instant, not at a programme date in 2027.
    expect(Math.abs(row.updated_at.getTime() - Date.now())).toBeLessThan(10 * 60_000);
    expect((await statuses()).pending).toBeGreaterThan(0);
  });

  it('keeps to SMTP_MAX_PER_SECOND, waiting for the next second when one is full', async () => {
    const waits: Date[] = [];
    const counts = await dispatchTick(
      {
        ...deps,
        budget: sendBudget(database.db, 2),
        waitUntil: (instant) => {
          waits.push(instant);
          return Promise.resolve();
        },
      },
      new Date('2027-01-04T12:00:00Z'),
    );
    expect(counts).toMatchObject({ sent: 10, failed: 0 });
    const seconds = await database.db
      .selectFrom('send_budget')
      .select(['second', 'sent'])
      .where('second', '>=', new Date('2027-01-04T12:00:00Z'))
      .orderBy('second')
      .execute();
    // Ten messages at two a second: five seconds, none over the cap.
    expect(seconds.map((s) => s.sent)).toEqual([2, 2, 2, 2, 2]);
    expect(waits.length).toBeGreaterThanOrEqual(4);
  });

  const mondayRows = () =>
    database.db
      .selectFrom('deliveries')
      .select([
        'id',
        'status',
        'due_at',
        'attempts',
        'reason',
        'quota_deferred_until',
        'message_id',
      ])
      .where('due_at', '<=', new Date('2027-01-04T12:00:00Z'))
      // Monday's steps: the welcomes (due the Friday before) are not part of the wave.
      .where('kind', 'in', ['email', 'invite'])
      .orderBy('due_at')
      .orderBy('id')
      .execute();

  it('carries a wave bigger than SMTP_MAX_PER_DAY to the next days, in order, none missed', async () => {
    // One lane, so the order is exact (with several, rows of one batch interleave by a few places).
    const capped = { ...deps, concurrency: 1, budget: sendBudget(database.db, { perDay: 4 }) };
    expect(await dispatchTick(capped, new Date('2027-01-04T12:00:00Z'))).toMatchObject({
      sent: 4,
      pending: 6,
      failed: 0,
    });
    const monday = await mondayRows();
    const carried = monday.filter((r) => r.status === 'pending');
    expect(carried).toHaveLength(6);
    for (const row of carried) {
      // The day frees a place when Monday 12:00's minute leaves the rolling 24 hours.
      expect(row.quota_deferred_until).toEqual(new Date('2027-01-05T12:00:00Z'));
      expect(row.reason).toMatch(/^SMTP_MAX_PER_DAY: 4 sent in the last 24 hours: carried to/);
      expect(row.attempts).toBe(0); // a quota is not the message's failure
    }
    // Two more days of four: past late_grace (2 days) from Monday, yet nothing is missed.
    await dispatchTick(capped, new Date('2027-01-05T12:00:30Z'));
    await dispatchTick(capped, new Date('2027-01-06T12:01:00Z'));
    const after = await mondayRows();
    expect(after.map((r) => [r.status, r.reason])).toEqual(Array(10).fill(['sent', null]));
    // Monday's messages went out in the order they were due, and still say week 1.
    const order = smtp.received.map((m) => headerValues(parseHeaders(m.data), 'Message-ID')[0]);
    const mondayIds = after.map((r) => r.message_id);
    expect(order.filter((id) => mondayIds.includes(id!))).toEqual(mondayIds);
    const lastEmail = smtp.received
      .filter((m) => !m.data.includes('text/calendar'))
      .find((m) => m.data.includes('Date: Wed, 06 Jan 2027'));
    expect(
      lastEmail === undefined ? '' : headerValues(parseHeaders(lastEmail.data), 'Subject')[0],
    ).toMatch(/^Week 1: /);
  });

  it('keeps to SMTP_MAX_PER_MINUTE across three workers, carrying the rest to the next minute', async () => {
    const others = backend.concurrent
      ? await Promise.all([database.connectAgain(), database.connectAgain()])
      : [];
    onTestFinished(async () => {
      for (const other of others) await other.close();
    });
    const handles = [database, ...others];
    const workers = [0, 1, 2].map((n) => {
      const db = (handles[n] ?? database).db;
      return {
        ...deps,
        store: dispatchStore(db),
        workerId: `worker-${n}`,
        budget: sendBudget(db, { perMinute: 3 }),
      };
    });
    for (const minute of ['12:00', '12:01', '12:02', '12:03']) {
      const at = new Date(`2027-01-04T${minute}:10Z`);
      await Promise.all(workers.map((worker) => dispatchTick(worker, at)));
    }
    // Counted at the sink, by the minute each message is dated (the fake clock's).
    const perMinute = new Map<string, number>();
    for (const message of smtp.received) {
      const date = new Date(headerValues(parseHeaders(message.data), 'Date')[0]!);
      const key = date.toISOString().slice(11, 16);
      perMinute.set(key, (perMinute.get(key) ?? 0) + 1);
    }
    expect([...perMinute.values()].every((n) => n <= 3)).toBe(true);
    expect(Object.fromEntries(perMinute)).toEqual({
      '12:00': 3,
      '12:01': 3,
      '12:02': 3,
      '12:03': 1,
    });
    expect(await statuses()).toMatchObject({ sent: 10 });
  });

  it('holds every worker back for a minute when the relay says "too many", spending no attempt', async () => {
    let answered = 0;
    const busy = await startSmtpServer({
      onMailFrom(_address, _session, callback) {
        answered += 1;
        if (answered === 1) {
          return callback(
            Object.assign(new Error('4.7.0 Too many messages, slow down'), { responseCode: 421 }),
          );
        }
        callback();
      },
    });
    const transport = createSmtpTransport({ url: busy.url, maxConnections: 1 });
    onTestFinished(async () => {
      await transport.close();
      await busy.close();
    });
    const worker = { ...deps, transport, concurrency: 1, budget: sendBudget(database.db, {}) };
    const first = await dispatchTick(worker, new Date('2027-01-04T12:00:00Z'));
    expect(first).toMatchObject({ sent: 0, failed: 0, pending: 10 });
    const rows = await mondayRows();
    expect(rows.every((r) => r.attempts === 0)).toBe(true);
    expect(rows.filter((r) => /asked us to slow down/.test(r.reason ?? ''))).toHaveLength(10);
    // Another worker, within the pause, sends nothing either.
    expect(
      await dispatchTick({ ...worker, workerId: 'other' }, new Date('2027-01-04T12:00:30Z')),
    ).toMatchObject({ sent: 0 });
    expect(await dispatchTick(worker, new Date('2027-01-04T12:01:01Z'))).toMatchObject({
      sent: 10,
    });
    expect(busy.received).toHaveLength(10);
  });

  /**
   * A transport that holds its first message until `release()`: a worker stalled in the middle
   * of a batch (a paused VM, a relay that stopped answering). `held` resolves with that message.
   */
  function stallingTransport(inner: MailTransport) {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reached!: (message: OutboundMessage) => void;
    const held = new Promise<OutboundMessage>((resolve) => (reached = resolve));
    let first = true;
    const transport: MailTransport = {
      name: 'stalling',
      async send(message) {
        if (first) {
          first = false;
          reached(message);
          await gate;
        }
        return inner.send(message);
      },
      close: () => Promise.resolve(),
    };
    return { transport, held, release };
  }

  const messageIds = () =>
    smtp.received.map((m) => headerValues(parseHeaders(m.data), 'Message-ID')[0]!);
  const claimedBy = async (worker: string) =>
    (
      await database.db
        .selectFrom('deliveries')
        .select('id')
        .where('status', '=', 'claimed')
        .where('claimed_by', '=', worker)
        .execute()
    ).map((r) => r.id);
  const monday = new Date('2027-01-04T12:00:00Z');

  it('a worker stalled past its lease sends nothing another worker took, and records nothing over it', async () => {
    const stall = stallingTransport(deps.transport);
    // The stalled worker's own clock, moved on with the stall below.
    let elapsedMs = 0;
    const stalled = dispatchTick(
      {
        ...deps,
        workerId: 'stalled',
        transport: stall.transport,
        concurrency: 1,
        elapsedMs: () => elapsedMs,
      },
      monday,
    );
    onTestFinished(() => stall.release());
    const inFlight = await stall.held;
    // What it will not send (the welcomes, due on Friday 1 January, missed by Monday noon) it
    // records without waiting on the stalled message: the 9 other messages wait behind it.
    await vi.waitFor(async () => expect(await claimedBy('stalled')).toHaveLength(10), {
      timeout: 10_000,
    });
    const waiting = (await claimedBy('stalled')).filter(
      (id) => !inFlight.messageId.startsWith(`<d${id}.`),
    );
    expect(waiting).toHaveLength(9);
    // The stall outlasts the batch's lease (moved on the rows, not waited for), though not the
    // longer lease of the message already in the relay's hands.
    await database.db
      .updateTable('deliveries')
      .set({ lease_until: sql<Date>`now() - interval '1 second'` })
      .where('id', 'in', waiting)
      .execute();
    elapsedMs += 301_000;
    const taker = await dispatchTick({ ...deps, workerId: 'taker' }, monday);
    expect(taker).toMatchObject({ sent: 9, lost: 0 });

    stall.release();
    // Woken up, the stalled worker finishes the message it had started, and for every other row
    // its check before sending finds the row taken: it sends none of them, and settles none.
    // The six welcomes of the learners who start on 4 January it recorded as missed, itself.
    expect(await stalled).toMatchObject({ sent: 1, lost: 9, missed: 6, pending: 0, failed: 0 });
    expect(smtp.received).toHaveLength(10);
    expect(new Set(messageIds()).size).toBe(10);
    const rows = await database.db
      .selectFrom('deliveries')
      .select(['status', 'message_id'])
      .where('status', 'in', ['sent', 'claimed'])
      .execute();
    // Every row the sink has is recorded as sent with its Message-ID; none is left claimed.
    expect(rows.map((r) => r.status)).toEqual(Array(10).fill('sent'));
    expect(rows.map((r) => r.message_id).sort()).toEqual(messageIds().sort());
    const missed = await database.db
      .selectFrom('deliveries')
      .select('kind')
      .where('status', '=', 'missed')
      .execute();
    expect(missed.map((r) => r.kind)).toEqual(Array(6).fill('welcome'));
  });

  it('renews the batch’s lease while it sends, so that a slow batch keeps its rows', async () => {
    const leaseSeconds = 2;
    const stall = stallingTransport(deps.transport);
    const slow = dispatchTick(
      { ...deps, workerId: 'slow', transport: stall.transport, concurrency: 1, leaseSeconds },
      monday,
    );
    onTestFinished(() => stall.release());
    await stall.held;
    const databaseNow = async () =>
      (await sql<{ now: Date }>`select now() as now`.execute(database.db)).rows[0]!.now;
    // Wait, on the database's clock, for two whole leases after the claim: without renewal
    // every row of the batch would be free for the taking by now.
    const claimedBefore = await databaseNow();
    while ((await databaseNow()).getTime() < claimedBefore.getTime() + 2 * leaseSeconds * 1000)
      await sleep(100);
    expect(await dispatchTick({ ...deps, workerId: 'neighbour' }, monday)).toMatchObject({
      sent: 0,
      lost: 0,
    });
    expect(await claimedBy('slow')).toHaveLength(10);

    stall.release();
    expect(await slow).toMatchObject({ sent: 10, lost: 0 });
    expect(new Set(messageIds()).size).toBe(10);
    expect(smtp.received).toHaveLength(10);
  });

  it('fails a refused address with the server’s words, and keeps the others going', async () => {
    rejected.add('priya.sharma@fcdo.gov.uk');
    const counts = await dispatchTick(deps, new Date('2027-01-04T12:00:00Z'));
    // Her email and her invite are refused; everyone else's go.
    expect(counts).toMatchObject({ sent: 8, failed: 2 });
    const failed = await database.db
      .selectFrom('deliveries')
      .select('reason')
      .where('status', '=', 'failed')
      .executeTakeFirstOrThrow();
    expect(await statuses()).toMatchObject({ sent: 8, failed: 2 });
    expect(failed.reason).toMatch(/550.*no such user/);
  });
});
