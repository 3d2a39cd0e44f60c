import { fileURLToPath } from 'node:url';
import { dispatchStore } from '../../src/db/dispatch-store.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { replyStore } from '../../src/db/reply-store.js';
import { readCohortCsv } from '../../src/enrol/cohort-csv.js';
import { drainDue } from '../../src/engine/dispatcher-loop.js';
import type { DispatchDependencies } from '../../src/engine/dispatch.js';
import { enrolCohort, type ProgrammeVersion } from '../../src/engine/enrol.js';
import { handleInbound, type ReplyDependencies } from '../../src/engine/replies.js';
import type { InboundVerdict } from '../../src/inbound/source.js';
import { readMessage } from '../../src/replies/read.js';
import { closableTransport, type OutboundMessage } from '../../src/mail/transport.js';
import { programmeCache } from '../../src/render/index.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import { openMigrated, type TestBackend, type TestDatabase } from '../helpers/backends.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export const mail = {
  secret: 'a-hostile-test-secret-of-at-least-32-chars',
  from: 'Digital Gym <gym@gym.example.gov.uk>',
  replyAddress: 'progress@gym.example.gov.uk',
  publicUrl: 'https://gym.example.gov.uk',
};

/** Week 1 starts on Monday 4 January 2027; London learners' kickoff goes at 09:00 (UTC). */
export const monday = new Date('2027-01-04T09:05:00Z');

export const cohortHeader =
  'email,first_name,last_name,time_zone,role,organisation,manager_email,manager_name,start_date';

/** One cohort row for a London press officer, with the names given (CSV-quoted here). */
export function cohortRow(email: string, firstName: string, lastName: string): string {
  const q = (value: string) => `"${value.replace(/"/g, '""')}"`;
  return [
    email,
    q(firstName),
    q(lastName),
    'Europe/London',
    'press-officer',
    'Home Office',
    'sam.patel@example.gov.uk',
    'Sam Patel',
    '2027-01-04',
  ].join(',');
}

/**
 * The shipped programmes, with every email subject also naming the learner, so that a name
 * reaches the Subject header as well as the To header and the bodies.
 */
export function namedProgrammes(): ProgrammeVersion[] {
  return loadSequenceFiles(['sequences'], root).flatMap((result) => {
    if (!result.ok) return [];
    const sequence = structuredClone(result.sequence);
    for (const week of sequence.weeks)
      for (const step of week.steps)
        if (step.email !== undefined)
          step.email.subject = `${step.email.subject} · {{ learner.first_name }} {{ learner.last_name }}`;
    return [{ sequence, hash: `${result.hash}-named` }];
  });
}

export interface Gym {
  readonly database: TestDatabase;
  /** Every message the dispatcher handed to the transport, in order. */
  readonly sent: OutboundMessage[];
  readonly dispatch: DispatchDependencies;
  readonly replies: ReplyDependencies;
  handle(raw: Buffer): Promise<InboundVerdict>;
  close(): Promise<void>;
}

/**
 * A migrated database with the cohort enrolled, and a dispatcher whose transport keeps the
 * composed bytes of every message (nothing leaves the process).
 */
export async function openGym(
  backend: TestBackend,
  cohortCsv: string,
  now: () => Date = () => monday,
): Promise<Gym> {
  const cohort = readCohortCsv(cohortCsv, 'hostile.csv', { now: new Date('2026-12-01T12:00:00Z') });
  if (cohort.problems.length > 0)
    throw new Error(`the test cohort has problems: ${JSON.stringify(cohort.problems)}`);
  const database = await openMigrated(backend);
  await enrolCohort(enrolmentStore(database.db), cohort.rows, namedProgrammes(), {
    dryRun: false,
    holidays: new Set(),
  });
  const sent: OutboundMessage[] = [];
  const transport = closableTransport('memory', async (message) => {
    sent.push(message);
    return { status: 'sent', response: '250 kept in memory' };
  });
  const dispatch: DispatchDependencies = {
    store: dispatchStore(database.db),
    transport,
    mail,
    workerId: 'hostile-worker',
    retryDelay: () => 60_000,
    compiled: programmeCache({ validation: 'soft' }),
  };
  const replies: ReplyDependencies = {
    store: replyStore(database.db),
    read: readMessage,
    secret: mail.secret,
    replyAddress: mail.replyAddress,
    now,
  };
  return {
    database,
    sent,
    dispatch,
    replies,
    handle: (raw) => handleInbound(replies, { raw, mailbox: 'INBOX', uid: undefined }),
    async close() {
      await transport.close();
      await database.close();
    },
  };
}

/** Sends everything due at `at`. */
export async function drain(gym: Gym, at: Date = monday): Promise<void> {
  await drainDue(gym.dispatch, () => at);
}

/** The inbound row of a Message-ID. */
export function inboundRow(gym: Gym, messageId: string) {
  return gym.database.db
    .selectFrom('inbound_messages')
    .select(['id', 'status', 'classification', 'reason', 'raw', 'learner_id'])
    .where('message_id', '=', messageId)
    .executeTakeFirst();
}

/** A learner's status, their enrolment's status and pause, and their progress events. */
export async function learnerState(gym: Gym, email: string) {
  const row = await gym.database.db
    .selectFrom('learners')
    .innerJoin('enrolments', 'enrolments.learner_id', 'learners.id')
    .select([
      'learners.id',
      'learners.status',
      'enrolments.id as enrolmentId',
      'enrolments.status as enrolmentStatus',
      'enrolments.paused_until',
    ])
    .where('learners.email', '=', email)
    .executeTakeFirstOrThrow();
  const events = await gym.database.db
    .selectFrom('progress_events')
    .select('kind')
    .where('enrolment_id', '=', row.enrolmentId)
    .orderBy('id')
    .execute();
  const pending = await gym.database.db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('enrolment_id', '=', row.enrolmentId)
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return {
    learner: row.status,
    enrolment: row.enrolmentStatus,
    pausedUntil: row.paused_until,
    events: events.map((e) => e.kind),
    pending: Number(pending.n),
  };
}

/** The delivery ids sent to a learner, oldest first. */
export async function sentDeliveryIds(gym: Gym, email: string): Promise<number[]> {
  const rows = await gym.database.db
    .selectFrom('deliveries')
    .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
    .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
    .select('deliveries.id')
    .where('learners.email', '=', email)
    .where('deliveries.status', '=', 'sent')
    .orderBy('deliveries.id')
    .execute();
  return rows.map((r) => r.id);
}

/** A plain reply, CRLF, with the headers given (values as they are) and a body. */
export function rawMessage(headers: Record<string, string>, body: string): Buffer {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}\r\n`, 'utf8');
}
