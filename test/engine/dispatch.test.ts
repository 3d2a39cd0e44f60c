import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dispatchStore } from '../../src/db/dispatch-store.js';
import { sendBudget } from '../../src/db/send-budget.js';
import { shiftStore } from '../../src/db/shift-store.js';
import { gymServerStore } from '../../src/db/unsubscribe-store.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { readCohortCsv } from '../../src/enrol/cohort-csv.js';
import { dispatchTick, type DispatchDependencies } from '../../src/engine/dispatch.js';
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
