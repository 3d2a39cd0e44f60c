import { sql, type Kysely } from 'kysely';
import type { GymServerStore } from '../http/gym-server.js';
import { unsubscribeLearner, unsubscribeManager } from './opt-out.js';
import type { Database } from './schema.js';

/** The HTTP endpoints' storage, over Kysely. */
export function gymServerStore(db: Kysely<Database>): GymServerStore {
  return {
    async ping() {
      await sql`select 1`.execute(db);
    },

    async languageOf(who) {
      const row =
        'managerId' in who
          ? await db
              .selectFrom('managers')
              .select('language')
              .where('id', '=', who.managerId)
              .executeTakeFirst()
          : await db
              .selectFrom('learners')
              .select('language')
              .where('id', '=', who.learnerId)
              .executeTakeFirst();
      return row?.language ?? 'en';
    },

    unsubscribe: (learnerId, now, how = 'one_click') =>
      db.transaction().execute((trx) => unsubscribeLearner(trx, learnerId, how, now)),

    unsubscribeManager: (managerId, now, how) =>
      db.transaction().execute((trx) => unsubscribeManager(trx, managerId, how, now)),
  };
}
