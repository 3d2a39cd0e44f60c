import { sql, type Kysely, type SelectQueryBuilder, type Transaction } from 'kysely';
import type { Database } from './schema.js';

/**
 * Ends the given open enrolments (a stop, an unsubscribe): every row not sent yet is cancelled
 * with `reason`, and each invite already in the learner's calendar for a slot still to come gets
 * a CANCEL (same UID, next SEQUENCE), sent by the dispatcher like any delivery. Run inside the
 * caller's transaction. Returns the rows cancelled.
 */
export async function endEnrolments(
  trx: Kysely<Database> | Transaction<Database>,
  open: SelectQueryBuilder<Database, 'enrolments', { id: number }>,
  { reason, now }: { reason: string; now: Date },
): Promise<number> {
  const cancelled = await trx
    .updateTable('deliveries')
    .set({ status: 'cancelled', reason, updated_at: now })
    .where('enrolment_id', 'in', open)
    .where('status', '=', 'pending')
    .where('kind', '!=', 'acknowledgement')
    .executeTakeFirst();
  await withdrawInvites(trx, open, { after: now, now });
  await trx
    .updateTable('enrolments')
    .set({ status: 'stopped', ended_at: now, updated_at: now })
    .where('id', 'in', open)
    .execute();
  return Number(cancelled.numUpdatedRows);
}

/**
 * A CANCEL for each invite already sent whose slot is after `after` (optionally only in `week`).
 * `on conflict do nothing`: an invite is withdrawn once, whoever asks twice.
 */
export async function withdrawInvites(
  trx: Kysely<Database> | Transaction<Database>,
  enrolments: SelectQueryBuilder<Database, 'enrolments', { id: number }>,
  { after, now, week }: { after: Date; now: Date; week?: number },
): Promise<void> {
  await sql`
    insert into deliveries
      (enrolment_id, step_key, week, kind, due_at, starts_at, planned_local, method, invite_sequence)
    select enrolment_id, step_key || '.cancel', week, 'invite', ${now}, starts_at, planned_local,
      'CANCEL', invite_sequence + 1
    from deliveries
    where enrolment_id in (${enrolments}) and kind = 'invite' and method = 'REQUEST'
      and status = 'sent' and starts_at > ${after}
      ${week === undefined ? sql`` : sql`and week = ${week}`}
    on conflict (enrolment_id, step_key) do nothing`.execute(trx);
}
