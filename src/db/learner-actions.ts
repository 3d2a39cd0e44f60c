import { sql, type Kysely, type Transaction } from 'kysely';
import { normaliseAddress } from '../consent/suppression.js';
import { GymError } from '../errors.js';
import { pauseEndsAt, pauseEnrolment, resumeEnrolment } from '../engine/shift.js';
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
