import type { Kysely, Transaction } from 'kysely';
import { programmeScope, type SuppressionHow } from '../consent/suppression.js';
import { endEnrolments } from './end-enrolment.js';
import type { Database } from './schema.js';
import { suppress } from './suppression-store.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * "Unsubscribe": no more mail from Digital Gym at all. Writes the suppression (scope `all`),
 * marks the learner unsubscribed, ends their open programmes and cancels what was still to be
 * sent. Idempotent. Returns the rows cancelled, or undefined when there is no such learner.
 * Run it in a transaction.
 */
export async function unsubscribeLearner(
  db: Db,
  learnerId: number,
  how: SuppressionHow,
  now: Date,
): Promise<{ cancelled: number } | undefined> {
  const learner = await db
    .updateTable('learners')
    .set({ status: 'unsubscribed', updated_at: now })
    .where('id', '=', learnerId)
    .returning('email')
    .executeTakeFirst();
  if (learner === undefined) return undefined;
  await suppress(db, { address: learner.email, scope: 'all', how, now });
  const open = db
    .selectFrom('enrolments')
    .select('id')
    .where('learner_id', '=', learnerId)
    .where('status', 'in', ['active', 'paused']);
  const cancelled = await endEnrolments(db, open, { reason: 'the learner unsubscribed', now });
  return { cancelled };
}

/**
 * "Stop the programme": this programme ends, and a re-import never starts it for them again
 * (scope `programme:<id>`). Their other mail (another programme later) is not covered.
 */
export async function stopProgramme(
  db: Db,
  enrolmentId: number,
  {
    how,
    reason,
    now,
    detail,
  }: { how: SuppressionHow; reason: string; now: Date; detail?: string | undefined },
): Promise<void> {
  const row = await db
    .selectFrom('enrolments')
    .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
    .innerJoin('sequence_versions', 'sequence_versions.id', 'enrolments.sequence_version_id')
    .select(['learners.email', 'sequence_versions.sequence_id'])
    .where('enrolments.id', '=', enrolmentId)
    .executeTakeFirst();
  if (row !== undefined)
    await suppress(db, {
      address: row.email,
      scope: programmeScope(row.sequence_id),
      how,
      detail,
      now,
    });
  const open = db
    .selectFrom('enrolments')
    .select('id')
    .where('id', '=', enrolmentId)
    .where('status', 'in', ['active', 'paused']);
  await endEnrolments(db, open, { reason, now });
}

/**
 * A hard bounce: the address does not exist. Nothing more is sent to it (scope `all`), whatever
 * re-import comes, until `gym learner resubscribe` says the address works again.
 */
export async function markLearnerBounced(
  db: Db,
  learnerId: number,
  detail: string,
  now: Date,
): Promise<void> {
  const learner = await db
    .selectFrom('learners')
    .select('email')
    .where('id', '=', learnerId)
    .executeTakeFirst();
  if (learner === undefined) return;
  // An unsubscribed learner stays unsubscribed: that is what they asked for.
  await db
    .updateTable('learners')
    .set({ status: 'bounced', updated_at: now })
    .where('id', '=', learnerId)
    .where('status', '=', 'active')
    .execute();
  await suppress(db, { address: learner.email, scope: 'all', how: 'hard_bounce', detail, now });
}

/**
 * A manager's "no more digests": scope `digests`, for this manager only. Their people's
 * programmes go on. Returns false when there is no such manager.
 */
export async function unsubscribeManager(
  db: Db,
  managerId: number,
  how: SuppressionHow,
  now: Date,
): Promise<boolean> {
  const manager = await db
    .selectFrom('managers')
    .select('email')
    .where('id', '=', managerId)
    .executeTakeFirst();
  if (manager === undefined) return false;
  await suppress(db, { address: manager.email, scope: 'digests', how, now });
  return true;
}

/**
 * `gym learner suppress`: a no given by hand (a phone call, a letter). Scope `all` for a learner
 * also ends their open programmes, as an unsubscribe does. Returns whether a new row was written
 * (an earlier no of the same scope stays) and the rows cancelled.
 */
export async function suppressByHand(
  db: Db,
  input: {
    address: string;
    scope: 'all' | 'digests';
    reason: string | undefined;
    by: string;
    now: Date;
  },
): Promise<{ created: boolean; cancelled: number }> {
  const detail = `${input.reason ?? 'no reason given'} (by ${input.by})`;
  const created = await suppress(db, {
    address: input.address,
    scope: input.scope,
    how: 'by_hand',
    detail,
    now: input.now,
  });
  if (input.scope !== 'all') return { created, cancelled: 0 };
  const learner = await db
    .selectFrom('learners')
    .select('id')
    .where('email', '=', input.address.trim().toLowerCase())
    .executeTakeFirst();
  if (learner === undefined) return { created, cancelled: 0 };
  const ended = await unsubscribeLearner(db, learner.id, 'by_hand', input.now);
  return { created, cancelled: ended?.cancelled ?? 0 };
}
