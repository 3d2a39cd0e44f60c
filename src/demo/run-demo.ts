import { storedLayouts } from '../db/compiled-layouts.js';
import { storedProgrammes } from '../db/compiled-programmes.js';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { createDatabase, type GymDatabase } from '../db/database.js';
import { sql } from 'kysely';
import { digestStore } from '../db/digest-store.js';
import { trainerAlertStore } from '../db/trainer-alert-store.js';
import { dispatchStore } from '../db/dispatch-store.js';
import { enrolmentStore } from '../db/enrolment-store.js';
import { migrateToLatest } from '../db/migrate.js';
import { replyStore } from '../db/reply-store.js';
import { readCohortCsv, formatCohortProblem } from '../enrol/cohort-csv.js';
import type { DispatchDependencies } from '../engine/dispatch.js';
import { drainDue, sendDueDigests } from '../engine/dispatcher-loop.js';
import { enrolCohort, type ProgrammeVersion } from '../engine/enrol.js';
import { handleInbound } from '../engine/replies.js';
import { alertDay, trainerAlertTick } from '../engine/trainer-alerts.js';
import { GymError } from '../errors.js';
import { maildirSource } from '../inbound/maildir-source.js';
import { readMessage } from '../replies/read.js';
import {
  deliveryFromMessageId,
  digestFromMessageId,
  introductionFromMessageId,
} from '../mail/headers.js';
import { createMaildirTransport } from '../mail/maildir-transport.js';
import { digestSchedule } from '../planner/index.js';
import { computeReport, type Report } from '../report/compute.js';
import { renderHtml } from '../report/render-html.js';
import { readReportData } from '../report/snapshot.js';
import { loadSequenceFiles } from '../sequence/load-files.js';
import { scriptedReplies, type ScriptedReply, type SentMessage } from './scenario.js';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const marker = '.gym-demo';

/** The demo's world: one organisation's mail domain, a fixed secret, a fixed start. */
const mail = {
  secret: 'digital-gym-demo-secret-never-use-in-production',
  from: 'Digital Gym <gym@demo.digital-gym.test>',
  replyAddress: 'progress@demo.digital-gym.test',
  publicUrl: undefined,
};
/** The cohort's first Monday is 4 January 2027; the demo's clock starts the Friday before. */
const clockStart = new Date('2027-01-01T09:00:00Z');
/** The trainer who gets the daily alert (GYM_TRAINER_ADDRESS in production). */
const trainer = { to: 'trainer@demo.digital-gym.test', zone: 'Europe/London' };
const hardStop = new Date('2027-05-03T00:00:00Z');

export interface DemoOptions {
  /** `.gym/demo` by default; wiped and made anew (only if it is a demo folder or empty). */
  readonly dir: string;
  readonly cohortFile?: string;
  /** Called as the simulated clock moves: the programme week it is in, of 13. */
  readonly onProgress?: (week: number, of: number) => void;
}

export interface DemoResult {
  readonly dir: string;
  readonly outbox: string;
  readonly reportHtml: string;
  readonly report: Report;
  /** Messages in the outbox, by kind. */
  readonly sent: Readonly<Record<SentMessage['kind'] | 'invite update' | 'invite cancel', number>>;
  /** Replies the simulated people wrote, by what they meant. */
  readonly replies: Readonly<Record<string, number>>;
  /** Learners whose intake answers moved them to another programme before week 1. */
  readonly intakeMoves: number;
  readonly simulatedUntil: Date;
  /** Where the daily trainer alert went (in the outbox, like everything else). */
  readonly trainerAddress: string;
}

/**
 * `gym demo`: twelve weeks of a real cohort in under a minute. A fresh embedded database and
 * Maildir folders under `dir`; the example cohort (8 learners in 5 zones, 3 managers) enrolled;
 * a simulated clock jumping from one due moment to the next; and simulated people answering
 * (intake answers that move one learner to another programme, done, reflections, a pause, a
 * too-hard, a stop, an out-of-office, calendar replies, a manager's "talked to"), each answer written as a real `.eml` into the inbox and read by the same
 * pipeline as production. Ends with the report.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const dir = resolve(options.dir);
  await freshFolder(dir);
  const outbox = join(dir, 'outbox');
  const inbox = join(dir, 'inbox');
  const database = await createDatabase({ kind: 'pglite', dataDir: join(dir, 'db') });
  let clock = clockStart;
  const now = () => clock;
  const transport = createMaildirTransport({ dir: outbox, now: () => clock.getTime() });
  try {
    await migrateToLatest(database.db);
    await enrolExampleCohort(
      database,
      options.cohortFile ?? join(packageRoot, 'examples/cohort.csv'),
    );
    const deps: DispatchDependencies = {
      store: dispatchStore(database.db),
      transport,
      mail,
      workerId: 'demo',
      retryDelay: () => 60_000,
      compiled: storedProgrammes(database.db, { validation: 'soft' }),
      layouts: storedLayouts(database.db, { validation: 'soft' }),
      digests: digestStore(database.db),
    };
    const replyDeps = {
      store: replyStore(database.db),
      read: readMessage,
      secret: mail.secret,
      replyAddress: mail.replyAddress,
      now,
    };
    const quiet = { info: () => {}, warn: () => {}, error: () => {} };
    const source = maildirSource({
      dir: inbox,
      handler: (item) => handleInbound(replyDeps, item),
      logger: quiet,
    });
    const people = new Cast(database, inbox);
    const alerts = trainerAlertStore(database.db);
    let alertedDay: string | undefined;

    for (;;) {
      await people.deliverDue(clock);
      await source.poll();
      await drainDue(deps, now);
      await sendDueDigests(deps, now);
      // One try per working day is all the alert needs (it is one email a day at most).
      const day = alertDay(clock, trainer.zone);
      if (day !== undefined && day !== alertedDay) {
        await trainerAlertTick(deps, alerts, trainer, clock);
        alertedDay = day;
      }
      await people.readOutbox(outbox);
      options.onProgress?.(weekOf(clock), 13);
      const next = await nextMoment(database, deps, people, clock);
      if (next === undefined || next > hardStop) break;
      clock = next;
    }
    options.onProgress?.(13, 13);

    const report = computeReport(await readReportData(database.db, { now: clock }));
    const moves = await database.db
      .selectFrom('progress_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('kind', '=', 'intake')
      .where(sql<boolean>`(data ->> 'moved')::boolean`)
      .executeTakeFirstOrThrow();
    const reportHtml = join(dir, 'report.html');
    await writeFile(reportHtml, renderHtml(report));
    return {
      dir,
      outbox: join(outbox, 'new'),
      reportHtml,
      report,
      sent: people.sent,
      replies: people.written,
      intakeMoves: Number(moves.n),
      trainerAddress: trainer.to,
      simulatedUntil: clock,
    };
  } finally {
    await transport.close();
    await database.close();
  }
}

/** Only a folder the demo made (or an empty one) is wiped: never someone's data. */
async function freshFolder(dir: string): Promise<void> {
  if (existsSync(dir)) {
    const entries = await readdir(dir);
    if (entries.length > 0 && !entries.includes(marker)) {
      throw new GymError(
        'USAGE',
        `${dir} is not empty and was not made by gym demo; choose another folder with --dir`,
      );
    }
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, marker), 'Made by gym demo; it is wiped on the next run.\n');
}

async function enrolExampleCohort(database: GymDatabase, file: string): Promise<void> {
  const programmes: ProgrammeVersion[] = loadSequenceFiles([
    join(packageRoot, 'sequences'),
  ]).flatMap((r) => (r.ok ? [{ sequence: r.sequence, hash: r.hash }] : []));
  const cohort = readCohortCsv(await readFile(file, 'utf8'), file, { now: clockStart });
  if (cohort.problems.length > 0)
    throw new GymError('COHORT_INVALID', cohort.problems.map(formatCohortProblem).join('\n'));
  await enrolCohort(enrolmentStore(database.db), cohort.rows, programmes, {
    dryRun: false,
    holidays: new Set(),
    now: clockStart,
  });
}

/** Programme week of the demo clock: week 1 starts on Monday 4 January. */
function weekOf(clock: Date): number {
  const days = (clock.getTime() - new Date('2027-01-04T00:00:00Z').getTime()) / 86_400_000;
  return Math.max(1, Math.min(13, Math.floor(days / 7) + 1));
}

/** The next moment anything happens: a delivery falls due, a digest, or someone replies. */
async function nextMoment(
  database: GymDatabase,
  deps: DispatchDependencies,
  people: Cast,
  clock: Date,
): Promise<Date | undefined> {
  const due = await database.db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.min(eb.fn.coalesce('retry_at', 'due_at')).as('next'))
    .where('status', '=', 'pending')
    .executeTakeFirst();
  const candidates: Date[] = [];
  if (due?.next != null) candidates.push(new Date(due.next));
  for (const manager of (await deps.digests?.managers()) ?? []) {
    const slot = digestSchedule({ anchor: manager.anchor, zone: manager.zone }).find(
      (s) => s.sendAt > clock,
    );
    if (slot !== undefined) candidates.push(slot.sendAt);
  }
  const reply = people.nextReplyAt();
  if (reply !== undefined) candidates.push(reply);
  if (candidates.length === 0) return undefined;
  const next = Math.min(...candidates.map((d) => d.getTime()));
  // Never stand still: a row that is due now but waits (its window) has moved its retry_at.
  return new Date(Math.max(next, clock.getTime() + 1000));
}

interface Planned {
  readonly at: Date;
  readonly raw: Buffer;
  readonly meaning: string;
}

/** The simulated people: they read what arrives in the outbox and answer as the scenario says. */
class Cast {
  private readonly seen = new Set<string>();
  private readonly planned: Planned[] = [];
  private readonly digestsByManager = new Map<string, number>();
  private counter = 0;
  readonly sent: Record<SentMessage['kind'] | 'invite update' | 'invite cancel', number> = {
    email: 0,
    invite: 0,
    'invite update': 0,
    'invite cancel': 0,
    acknowledgement: 0,
    digest: 0,
    welcome: 0,
    programme_end: 0,
    introduction: 0,
    trainer_alert: 0,
  };
  readonly written: Record<string, number> = {};

  constructor(
    private readonly database: GymDatabase,
    private readonly inbox: string,
  ) {}

  nextReplyAt(): Date | undefined {
    return this.planned.reduce<Date | undefined>(
      (min, p) => (min === undefined || p.at < min ? p.at : min),
      undefined,
    );
  }

  /** Writes the replies whose time has come into the inbox, as an MTA would (tmp/, then new/). */
  async deliverDue(clock: Date): Promise<void> {
    const due = this.planned.filter((p) => p.at <= clock);
    if (due.length === 0) return;
    await mkdir(join(this.inbox, 'tmp'), { recursive: true });
    await mkdir(join(this.inbox, 'new'), { recursive: true });
    for (const reply of due) {
      this.planned.splice(this.planned.indexOf(reply), 1);
      const name = `${Math.floor(reply.at.getTime() / 1000)}.demo${++this.counter}.${randomBytes(4).toString('hex')}`;
      await writeFile(join(this.inbox, 'tmp', name), reply.raw);
      await rename(join(this.inbox, 'tmp', name), join(this.inbox, 'new', name));
      this.written[reply.meaning] = (this.written[reply.meaning] ?? 0) + 1;
    }
  }

  /** Reads each new message in the outbox once, and plans the answers it provokes. */
  async readOutbox(outbox: string): Promise<void> {
    const folder = join(outbox, 'new');
    if (!existsSync(folder)) return;
    for (const name of (await readdir(folder)).sort()) {
      if (this.seen.has(name)) continue;
      this.seen.add(name);
      const raw = await readFile(join(folder, name));
      const parsed = await simpleParser(raw);
      const message = await this.describe(parsed.messageId ?? '', parsed.date ?? new Date(0));
      if (message === undefined) continue;
      const original = {
        messageId: parsed.messageId ?? '',
        subject: parsed.subject ?? '',
        replyTo: parsed.replyTo?.value[0]?.address ?? mail.replyAddress,
        text: parsed.text ?? '',
      };
      for (const reply of scriptedReplies(message.sent)) {
        this.planned.push({
          at: new Date(message.sent.sentAt.getTime() + reply.after),
          raw: await composeReply(reply, message, original, this.counter++),
          meaning: reply.kind === 'reply' ? reply.expect : reply.kind,
        });
      }
    }
  }

  private async describe(
    messageId: string,
    date: Date,
  ): Promise<{ sent: SentMessage; name: string; inviteUid: string | null } | undefined> {
    if (messageId.startsWith('<trainer-alert-')) {
      this.sent.trainer_alert += 1;
      return undefined;
    }
    const introductionId = introductionFromMessageId(mail.secret, messageId);
    if (introductionId !== undefined) {
      const manager = await this.database.db
        .selectFrom('manager_introductions')
        .innerJoin('managers', 'managers.id', 'manager_introductions.manager_id')
        .select(['managers.email', 'managers.name'])
        .where('manager_introductions.id', '=', introductionId)
        .executeTakeFirstOrThrow();
      this.sent.introduction += 1;
      return {
        sent: {
          to: manager.email,
          stepKey: 'introduction',
          week: 0,
          kind: 'introduction',
          sentAt: date,
        },
        name: manager.name,
        inviteUid: null,
      };
    }
    const digestId = digestFromMessageId(mail.secret, messageId);
    if (digestId !== undefined) {
      const manager = await this.database.db
        .selectFrom('manager_digests')
        .innerJoin('managers', 'managers.id', 'manager_digests.manager_id')
        .select(['managers.email', 'managers.name'])
        .where('manager_digests.id', '=', digestId)
        .executeTakeFirstOrThrow();
      const count = (this.digestsByManager.get(manager.email) ?? 0) + 1;
      this.digestsByManager.set(manager.email, count);
      this.sent.digest += 1;
      return {
        sent: {
          to: manager.email,
          stepKey: 'digest',
          week: 2 * count - 1,
          kind: 'digest',
          sentAt: date,
        },
        name: manager.name,
        inviteUid: null,
      };
    }
    const ref = deliveryFromMessageId(mail.secret, messageId);
    if (ref === undefined) return undefined;
    const row = await this.database.db
      .selectFrom('deliveries')
      .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .select([
        'deliveries.step_key',
        'deliveries.week',
        'deliveries.kind',
        'deliveries.method',
        'deliveries.invite_uid',
        'learners.email',
        'learners.first_name',
        'learners.last_name',
      ])
      .where('deliveries.id', '=', ref.deliveryId)
      .executeTakeFirstOrThrow();
    const kind =
      row.kind === 'invite'
        ? row.method === 'CANCEL'
          ? 'invite cancel'
          : row.step_key.includes('.r')
            ? 'invite update'
            : 'invite'
        : row.kind;
    this.sent[kind] += 1;
    return {
      sent: { to: row.email, stepKey: row.step_key, week: row.week, kind: row.kind, sentAt: date },
      name: `${row.first_name} ${row.last_name}`,
      inviteUid: row.invite_uid,
    };
  }
}

/** A reply as the person's mail client would write it, in the thread of what they answer. */
async function composeReply(
  reply: ScriptedReply,
  message: { sent: SentMessage; name: string; inviteUid: string | null },
  original: { messageId: string; subject: string; replyTo: string; text: string },
  n: number,
): Promise<Buffer> {
  const at = new Date(message.sent.sentAt.getTime() + reply.after);
  const quoted = original.text
    .split('\n')
    .slice(0, 12)
    .map((line) => `> ${line}`)
    .join('\n');
  const common = {
    newline: 'windows' as const,
    from: { name: message.name, address: message.sent.to },
    to: original.replyTo,
    messageId: `<demo-${n}-${at.getTime()}@mail.demo.test>`,
    date: at,
    inReplyTo: original.messageId,
    references: [original.messageId],
  };
  const when = at.toUTCString();
  const history = `\n\nOn ${when}, Digital Gym <gym@demo.digital-gym.test> wrote:\n${quoted}\n`;
  const composer =
    reply.kind === 'rsvp'
      ? new MailComposer({
          ...common,
          subject: `${reply.partstat === 'ACCEPTED' ? 'Accepted' : 'Declined'}: ${original.subject.replace(/^Invitation: /, '')}`,
          text: `${message.name} has ${reply.partstat.toLowerCase()} this invitation.`,
          icalEvent: { method: 'REPLY', content: rsvpCalendar(message, reply.partstat, at) },
        })
      : reply.kind === 'auto_reply'
        ? new MailComposer({
            ...common,
            subject: `Automatic reply: ${original.subject}`,
            text: reply.body,
            headers: {
              'Auto-Submitted': 'auto-replied',
              'X-MS-Exchange-Inbox-Rules-Loop': message.sent.to,
            },
          })
        : new MailComposer({
            ...common,
            subject: `Re: ${original.subject}`,
            text: `${reply.body}${history}`,
          });
  return composer.compile().build();
}

function rsvpCalendar(
  message: { sent: SentMessage; inviteUid: string | null },
  partstat: string,
  at: Date,
): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Digital Gym demo//Calendar//EN',
    'METHOD:REPLY',
    'BEGIN:VEVENT',
    `UID:${message.inviteUid ?? ''}`,
    'SEQUENCE:0',
    `DTSTAMP:${stamp}`,
    `ATTENDEE;PARTSTAT=${partstat}:mailto:${message.sent.to}`,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}
