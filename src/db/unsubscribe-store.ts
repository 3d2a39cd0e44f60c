import { sql, type Kysely } from 'kysely';
import { endEnrolments } from './end-enrolment.js';
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
        const cancelled = await endEnrolments(trx, open, {
          reason: 'the learner unsubscribed',
          now,
        });
        return { cancelled };
      }),
  };
}
