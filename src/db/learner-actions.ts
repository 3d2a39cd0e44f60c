import { sql, type Kysely, type Transaction } from 'kysely';
import { DateTime } from 'luxon';
import { describeSuppression, normaliseAddress, suppressionFor } from '../consent/suppression.js';
import type { ProgrammeVersion } from '../engine/enrol.js';
import {
  planEnrolment,
  planProgrammeEnd,
  sendingSchedule,
  type JourneyDelivery,
  type ScheduledDelivery,
} from '../planner/index.js';
import { addDays, mondayOf } from '../planner/local-time.js';
import { endEnrolments } from './end-enrolment.js';
import { enrolmentStore } from './enrolment-store.js';
import { consentReader } from './suppression-store.js';
import { GymError } from '../errors.js';
import { effectivePreference } from '../language/languages.js';
import { offeredLanguages } from '../sequence/schema.js';
import { pauseEnrolment, resumeEnrolment } from '../engine/shift.js';
import { pauseEndsAt } from '../planner/pause.js';
import { stopProgramme } from './opt-out.js';
import type { Database, ProgressEventKind } from './schema.js';
import { shiftStore } from './shift-store.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Who acted, for the record: a trainer's name or the OS user (`--by`). */
export interface Actor {
  readonly by: string;
  readonly now: Date;
}

/** A learner's open (active or paused) enrolment, as the trainer's commands act on it. */
export interface OpenEnrolment {
  readonly learnerId: number;
  readonly email: string;
  readonly enrolmentId: number;
  readonly programmeId: string;
  readonly zone: string;
  /** The week of the latest message sent (1 before the first): the week a reply would answer. */
  readonly week: number;
}

/**
 * The learner's open enrolment, or a GymError saying what is wrong (no such learner, nothing
 * open) and what to do.
 */
export async function openEnrolmentOf(db: Db, email: string): Promise<OpenEnrolment> {
  const address = normaliseAddress(email);
  const learner = await db
    .selectFrom('learners')
    .select(['id', 'email', 'time_zone'])
    .where('email', '=', address)
    .executeTakeFirst();
  if (learner === undefined)
    throw new GymError(
      'USAGE',
      `no learner at ${address}; check the address (gym report lists them)`,
    );
  const enrolment = await db
    .selectFrom('enrolments')
    .innerJoin('sequence_versions', 'sequence_versions.id', 'enrolments.sequence_version_id')
    .select(['enrolments.id', 'sequence_versions.sequence_id'])
    .where('learner_id', '=', learner.id)
    .where('enrolments.status', 'in', ['active', 'paused'])
    .orderBy('enrolments.id', 'desc')
    .executeTakeFirst();
  if (enrolment === undefined)
    throw new GymError(
      'USAGE',
      `${address} has no programme running (it finished or was stopped); gym learner show ${address} tells more`,
    );
  const sent = await db
    .selectFrom('deliveries')
    .select(sql<number | null>`max(week)`.as('week'))
    .where('enrolment_id', '=', enrolment.id)
    .where('status', '=', 'sent')
    .where('kind', '!=', 'acknowledgement')
    .executeTakeFirst();
  return {
    learnerId: learner.id,
    email: learner.email,
    enrolmentId: enrolment.id,
    programmeId: enrolment.sequence_id,
    zone: learner.time_zone,
    week: Number(sent?.week ?? 1),
  };
}

/** The progress event a reply would write, with who gave the command instead of the mail it came in. */
async function recordByHand(
  db: Db,
  open: OpenEnrolment,
  kind: ProgressEventKind,
  data: Record<string, unknown>,
  actor: Actor,
): Promise<void> {
  await db
    .insertInto('progress_events')
    .values({
      enrolment_id: open.enrolmentId,
      delivery_id: null,
      inbound_message_id: null,
      kind,
      data: JSON.stringify({ week: open.week, ...data, by: actor.by, via: 'gym learner' }),
      occurred_at: actor.now,
    })
    .execute();
}

/**
 * `gym learner pause`: exactly what the reply "pause for 2 weeks" / "pause until 3 Jan" does
 * (`pauseEnrolment`: the plan moves by whole weeks, invites already in the calendar are updated),
 * with the trainer named in the progress event. No acknowledgement: there is no reply to answer.
 */
export async function pauseByHand(
  db: Kysely<Database>,
  email: string,
  pause: { weeks?: number | undefined; until?: string | undefined },
  actor: Actor,
): Promise<{ open: OpenEnrolment; resumeAt: Date; weeks: number }> {
  return db.transaction().execute(async (trx) => {
    const open = await openEnrolmentOf(trx, email);
    const resumeAt = pauseEndsAt(pause, open.zone, actor.now);
    const weeks = await pauseEnrolment(shiftStore(trx), open.enrolmentId, {
      pausedAt: actor.now,
      resumeAt,
    });
    await recordByHand(trx, open, 'pause', { until: resumeAt.toISOString(), weeks }, actor);
    return { open, resumeAt, weeks };
  });
}

/** `gym learner resume`: as the reply "resume" (`resumeEnrolment`). Returns the weeks moved (0 or less). */
export async function resumeByHand(
  db: Kysely<Database>,
  email: string,
  actor: Actor,
): Promise<{ open: OpenEnrolment; weeks: number }> {
  return db.transaction().execute(async (trx) => {
    const open = await openEnrolmentOf(trx, email);
    const weeks = await resumeEnrolment(shiftStore(trx), open.enrolmentId, {
      resumedAt: actor.now,
    });
    await recordByHand(trx, open, 'resume', { weeks }, actor);
    return { open, weeks };
  });
}

/**
 * `gym learner stop`: as the reply "stop" (`stopProgramme`): the programme ends, what was still to
 * be sent is cancelled, invites in the calendar are withdrawn, and a re-import never starts this
 * programme for them again. The suppression says who decided and why.
 */
export async function stopByHand(
  db: Kysely<Database>,
  email: string,
  reason: string | undefined,
  actor: Actor,
): Promise<{ open: OpenEnrolment }> {
  return db.transaction().execute(async (trx) => {
    const open = await openEnrolmentOf(trx, email);
    const why = reason?.trim() || 'no reason given';
    await recordByHand(trx, open, 'stop', { reason: why }, actor);
    await stopProgramme(trx, open.enrolmentId, {
      how: 'by_hand',
      reason: `stopped by ${actor.by} (gym learner stop): ${why}`,
      detail: `${why} (by ${actor.by})`,
      now: actor.now,
    });
    return { open };
  });
}

/**
 * `gym learner move`: the learner changes programme (the matcher chose wrongly, their role
 * changed). The current programme ends as a stop does (what was still to be sent is cancelled,
 * invites in their calendar are withdrawn), but it is not their "no": nothing is suppressed, and
 * the trainer is named. The new programme starts:
 *
 * - before anything was sent: on the same start date, from week 1 (it simply replaces the plan);
 * - once it had started: from the week after the last one sent, on the next Monday in their zone,
 *   so they keep their place in the twelve weeks and finish when they would have. Earlier weeks
 *   of the new programme are not planned.
 *
 * `week` chooses the week to start from instead (1 to restart from the beginning next Monday).
 * A programme the person stopped, or any mail if they unsubscribed, is refused.
 */
export async function moveByHand(
  db: Kysely<Database>,
  email: string,
  target: ProgrammeVersion,
  options: { week?: number | undefined; reason?: string | undefined; secret: string },
  actor: Actor,
): Promise<{ from: string; to: string; week: number; startsOn: string; deliveries: number }> {
  return db.transaction().execute(async (trx) => {
    const open = await openEnrolmentOf(trx, email);
    const why = options.reason?.trim() || 'no reason given';
    return moveEnrolment(trx, open, target, {
      week: options.week,
      secret: options.secret,
      now: actor.now,
      ended: `moved to ${target.sequence.id} by ${actor.by} (gym learner move): ${why}`,
      matchReason: (week) =>
        `moved from ${open.programmeId} by ${actor.by} (gym learner move), from week ${week}: ${why}`,
    });
  });
}

/**
 * The one way a learner changes programme, for `gym learner move` and for intake answers that
 * make the matcher choose again (src/engine/replies.ts). See `moveByHand` for when the new
 * programme starts. `withEnd` plans the new programme's programme-end email too (the welcome,
 * already sent, is not sent again).
 */
export async function moveEnrolment(
  trx: Db,
  open: OpenEnrolment,
  target: ProgrammeVersion,
  options: {
    week?: number | undefined;
    secret: string;
    now: Date;
    /** Why the old enrolment ended, for its cancelled rows. */
    ended: string;
    /** The new enrolment's reason, given the week it starts from. */
    matchReason: (week: number) => string;
    withEnd?: boolean;
  },
): Promise<{ from: string; to: string; week: number; startsOn: string; deliveries: number }> {
  const actor = { now: options.now };
  const to = target.sequence.id;
  if (open.programmeId === to)
    throw new GymError('USAGE', `${open.email} already follows ${to}; nothing changed`);
  const no = suppressionFor(
    await consentReader(trx, { secret: options.secret }).suppressionsOf([open.email]),
    { kind: 'programme', programmeId: to },
  );
  if (no !== undefined)
    throw new GymError(
      'USAGE',
      `${open.email} ${describeSuppression(no)}: not moved to ${to}; gym learner resubscribe lifts it if they ask`,
    );
  const current = await trx
    .selectFrom('enrolments')
    .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
    .leftJoin('organisations', 'organisations.id', 'learners.organisation_id')
    .select([
      'enrolments.starts_on',
      'enrolments.cohort',
      'organisations.holidays',
      'learners.language',
    ])
    .where('enrolments.id', '=', open.enrolmentId)
    .executeTakeFirstOrThrow();
  const started = await trx
    .selectFrom('deliveries')
    .select('id')
    .where('enrolment_id', '=', open.enrolmentId)
    .where('status', '=', 'sent')
    .where('kind', '=', 'email')
    .executeTakeFirst();
  const weeks = target.sequence.weeks.length;
  const week = Math.min(options.week ?? (started === undefined ? 1 : open.week + 1), weeks);
  const oldFirstMonday = mondayOf(String(current.starts_on).slice(0, 10));
  // Where the old plan would have reached that week, and never before next Monday.
  const nextMonday = addDays(
    mondayOf(DateTime.fromJSDate(actor.now, { zone: open.zone }).toISODate()!),
    7,
  );
  const continued = addDays(oldFirstMonday, 7 * open.week);
  const firstMonday =
    started === undefined ? oldFirstMonday : continued > nextMonday ? continued : nextMonday;
  const startsOn = addDays(firstMonday, -7 * (week - 1));

  await endEnrolments(
    trx,
    trx.selectFrom('enrolments').select('id').where('id', '=', open.enrolmentId),
    { reason: options.ended, now: actor.now },
  );
  const holidays = new Set(current.holidays ?? []);
  const steps = planEnrolment({ sequence: target.sequence, startsOn, zone: open.zone, holidays });
  const planned: (ScheduledDelivery | JourneyDelivery)[] = sendingSchedule(steps).filter(
    (d) => d.week >= week,
  );
  if (options.withEnd === true)
    planned.push(
      planProgrammeEnd({ sequence: target.sequence, zone: open.zone, holidays, plan: steps }),
    );
  const deliveries = planned;
  const store = enrolmentStore(trx);
  await store.createEnrolment({
    learnerId: open.learnerId,
    versionId: await store.saveProgrammeVersion(target),
    cohort: current.cohort ?? undefined,
    startsOn,
    matchReason: options.matchReason(week),
    // The learner's own preference, as far as the new programme offers it.
    language: effectivePreference(current.language, offeredLanguages(target.sequence), to)
      .preference,
    deliveries,
  });
  return { from: open.programmeId, to, week, startsOn, deliveries: deliveries.length };
}
