import { sql, type Kysely } from 'kysely';
import type { GymServerStore } from '../http/gym-server.js';
import type { Database } from './schema.js';

/** The HTTP endpoints' storage, over Kysely. */
export function gymServerStore(db: Kysely<Database>): GymServerStore {
  return {
    async ping() {
      await sql`select 1`.execute(db);
    },

    unsubscribe: (learnerId, now) =>
      db.transaction().execute(async (trx) => {
        const learner = await trx
          .updateTable('learners')
          .set({ status: 'unsubscribed', updated_at: now })
          .where('id', '=', learnerId)
          .returning('id')
          .executeTakeFirst();
        if (learner === undefined) return undefined;
        const open = trx
          .selectFrom('enrolments')
          .select('id')
          .where('learner_id', '=', learnerId)
          .where('status', 'in', ['active', 'paused']);
        const cancelled = await trx
          .updateTable('deliveries')
          .set({ status: 'cancelled', reason: 'the learner unsubscribed', updated_at: now })
          .where('enrolment_id', 'in', open)
          .where('status', '=', 'pending')
          .executeTakeFirst();
        // Invites already in the learner's calendar for slots still to come are withdrawn:
        // a CANCEL for each (same UID, next SEQUENCE), sent by the dispatcher like any delivery.
        await sql`
          insert into deliveries
            (enrolment_id, step_key, week, kind, due_at, starts_at, planned_local, method, invite_sequence)
          select enrolment_id, step_key || '.cancel', week, 'invite', ${now}, starts_at, planned_local,
            'CANCEL', invite_sequence + 1
          from deliveries
          where enrolment_id in (${open}) and kind = 'invite' and method = 'REQUEST'
            and status = 'sent' and starts_at > ${now}
          on conflict (enrolment_id, step_key) do nothing`.execute(trx);
        await trx
          .updateTable('enrolments')
          .set({ status: 'stopped', ended_at: now, updated_at: now })
          .where('id', 'in', open)
          .execute();
        return { cancelled: Number(cancelled.numUpdatedRows) };
      }),
  };
}
