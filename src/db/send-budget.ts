import { sql, type Kysely } from 'kysely';
import type { SendBudget } from '../engine/dispatch.js';
import type { Database } from './schema.js';

/**
 * SMTP_MAX_PER_SECOND for all workers together, counted in PostgreSQL: each send takes one of the
 * current second's `perSecond` places with one atomic upsert, so two workers can never both take
 * the last one. When the second is full, the caller waits for the next.
 */
export function sendBudget(db: Kysely<Database>, perSecond: number): SendBudget {
  let lastCleanup = 0;
  return {
    async take(now) {
      const second = new Date(Math.floor(now.getTime() / 1000) * 1000);
      const { rows } = await sql<{ sent: number }>`
        insert into send_budget (second, sent) values (${second.toISOString()}::timestamptz, 1)
        on conflict (second) do update set sent = send_budget.sent + 1
          where send_budget.sent < ${perSecond}
        returning sent`.execute(db);
      if (second.getTime() - lastCleanup > 60_000) {
        lastCleanup = second.getTime();
        await db
          .deleteFrom('send_budget')
          .where('second', '<', new Date(second.getTime() - 60_000))
          .execute();
      }
      return rows.length === 1
        ? { granted: true }
        : { granted: false, retryAt: new Date(second.getTime() + 1000) };
    },
  };
}
