import { sql, type Kysely, type SelectQueryBuilder, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import { sqlPatterns } from '../planner/step-key.js';

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
    // A withdrawal already queued (by a skip) must still go out.
    .where('method', '!=', 'CANCEL')
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
 * A CANCEL for each invite already in the learner's calendar whose slot (as last sent: an update
 * may have moved it) is after `after`, optionally only in `week`. Its SEQUENCE follows the last
 * one sent for that UID. `on conflict do nothing`: an invite is withdrawn once, whoever asks twice.
 */
export async function withdrawInvites(
  trx: Kysely<Database> | Transaction<Database>,
  enrolments: SelectQueryBuilder<Database, 'enrolments', { id: number }>,
  { after, now, week }: { after: Date; now: Date; week?: number },
): Promise<void> {
  await sql`
    insert into deliveries
      (enrolment_id, step_key, week, kind, due_at, starts_at, planned_local, method, invite_sequence)
    select d.enrolment_id, d.step_key || ${sql.lit(sqlPatterns.cancel)}, d.week, 'invite', ${now},
      coalesce(u.starts_at, d.starts_at), d.planned_local, 'CANCEL',
      greatest(d.invite_sequence, coalesce(u.invite_sequence, 0)) + 1
    from deliveries d
    left join lateral (
      select starts_at, invite_sequence from deliveries u
      where u.enrolment_id = d.enrolment_id and u.step_key like d.step_key || ${sql.lit(sqlPatterns.updatesOf)}
        and u.status = 'sent'
      order by u.invite_sequence desc
      limit 1
    ) u on true
    where d.enrolment_id in (${enrolments}) and d.kind = 'invite' and d.method = 'REQUEST'
      and d.status = 'sent' and d.step_key not like ${sql.lit(sqlPatterns.derived)}
      and coalesce(u.starts_at, d.starts_at) > ${after}
      ${week === undefined ? sql`` : sql`and d.week = ${week}`}
    on conflict (enrolment_id, step_key) do nothing`.execute(trx);
}
