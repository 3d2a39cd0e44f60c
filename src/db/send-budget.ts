import { sql, type Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import type { SendBudget } from '../engine/dispatch.js';
import type { Database } from './schema.js';

/** The relay's limits, for all workers together; any may be left out. */
export interface SendCaps {
  readonly perSecond?: number | undefined;
  readonly perMinute?: number | undefined;
  /** Per rolling 24 hours, as Microsoft 365 counts its 10,000 recipients a day. */
  readonly perDay?: number | undefined;
}

/** The caps the configuration sets (SMTP_MAX_PER_SECOND, _PER_MINUTE, _PER_DAY). */
export function sendCapsOf(
  config: Pick<Config, 'smtpMaxPerSecond' | 'smtpMaxPerMinute' | 'smtpMaxPerDay'>,
): SendCaps {
  return {
    perSecond: config.smtpMaxPerSecond,
    perMinute: config.smtpMaxPerMinute,
    perDay: config.smtpMaxPerDay,
  };
}

/** True when any cap is set (the dispatcher then asks the budget before each message). */
export function hasCaps(caps: SendCaps): boolean {
  return caps.perSecond !== undefined || caps.perMinute !== undefined || caps.perDay !== undefined;
}

const dayMs = 24 * 3600_000;

/**
 * The relay's quota for all workers together, counted in PostgreSQL.
 * - Per second (`SMTP_MAX_PER_SECOND`): each send takes one of the current second's places with
 *   one atomic upsert, so two workers can never both take the last one; a full second says when
 *   the next starts.
 * - Per minute and per rolling day (`SMTP_MAX_PER_MINUTE`, `SMTP_MAX_PER_DAY`): sends are
 *   counted per minute; the check and the count happen under a transaction-scoped advisory lock,
 *   so the last place goes to one worker only. A full day says when enough of the oldest
 *   minutes fall out of the window.
 * - A relay that said "too many" (`pauseRelay`) holds everyone back until the pause ends.
 *
 * `now` is the dispatcher's clock (what is due is decided on it too), so a trial on a shifted
 * clock counts its own minutes and days.
 */
export function sendBudget(db: Kysely<Database>, caps: SendCaps | number): SendBudget {
  const { perSecond, perMinute, perDay } = typeof caps === 'number' ? { perSecond: caps } : caps;
  let lastCleanup = 0;

  async function takeSecond(now: Date) {
    if (perSecond === undefined) return undefined;
    const second = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const { rows } = await sql<{ sent: number }>`
      insert into send_budget (second, sent) values (${second.toISOString()}::timestamptz, 1)
      on conflict (second) do update set sent = send_budget.sent + 1
        where send_budget.sent < ${perSecond}
      returning sent`.execute(db);
    return rows.length === 1
      ? undefined
      : {
          granted: false as const,
          retryAt: new Date(second.getTime() + 1000),
          reason: `SMTP_MAX_PER_SECOND: ${perSecond} sent this second`,
        };
  }

  /** Old seconds, minutes and pauses go, at most once a minute of the clock (any caps set). */
  async function cleanUp(now: Date) {
    if (Math.abs(now.getTime() - lastCleanup) < 60_000) return;
    lastCleanup = now.getTime();
    await db
      .deleteFrom('send_budget')
      .where('second', '<', new Date(now.getTime() - 60_000))
      .execute();
    await db
      .deleteFrom('send_quota')
      .where('starts_at', '<', new Date(now.getTime() - dayMs - 3600_000))
      .execute();
  }

  // The relay's pause is read at most once a second of the clock, not before every message: a
  // pause another worker sets reaches this one within a second (and its own at once).
  let pause: { readonly until: Date | undefined; readonly readAt: number } | undefined;

  async function relayPause(now: Date) {
    const stale =
      pause === undefined || now.getTime() < pause.readAt || now.getTime() - pause.readAt >= 1000;
    if (stale) {
      const row = await db
        .selectFrom('send_quota')
        .select((eb) => eb.fn.max('starts_at').as('until'))
        .where('bucket', '=', 'relay_pause')
        .executeTakeFirst();
      pause = {
        until: row?.until == null ? undefined : new Date(row.until),
        readAt: now.getTime(),
      };
    }
    const pausedUntil = pause?.until;
    if (pausedUntil === undefined || pausedUntil <= now) return undefined;
    return {
      granted: false as const,
      retryAt: pausedUntil,
      reason: `the relay asked us to slow down; sending resumes ${pausedUntil.toISOString()}`,
    };
  }

  /** The minute and day windows, checked and counted in one transaction. */
  async function takeMinuteAndDay(now: Date) {
    if (perMinute === undefined && perDay === undefined) return undefined;
    const minute = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
    return db.transaction().execute(async (trx) => {
      // One lock for every worker's take: the counts read below cannot change until commit.
      await sql`select pg_advisory_xact_lock(hashtext('digital-gym send quota'))`.execute(trx);
      const windowStart = new Date(minute.getTime() - dayMs + 60_000);
      const buckets = await trx
        .selectFrom('send_quota')
        .select(['starts_at', 'sent'])
        .where('bucket', '=', 'minute')
        .where('starts_at', '>=', windowStart)
        .where('starts_at', '<=', minute)
        .orderBy('starts_at')
        .execute();
      const thisMinute = buckets.find((b) => b.starts_at.getTime() === minute.getTime())?.sent ?? 0;
      if (perMinute !== undefined && thisMinute >= perMinute) {
        return {
          granted: false as const,
          retryAt: new Date(minute.getTime() + 60_000),
          reason: `SMTP_MAX_PER_MINUTE: ${perMinute} sent this minute`,
        };
      }
      const inDay = buckets.reduce((sum, b) => sum + b.sent, 0);
      if (perDay !== undefined && inDay >= perDay) {
        // The day frees a place when the oldest minutes that take it over the cap leave it.
        let over = inDay - perDay + 1;
        let freesAt = new Date(minute.getTime() + 60_000);
        for (const bucket of buckets) {
          over -= bucket.sent;
          if (over <= 0) {
            freesAt = new Date(bucket.starts_at.getTime() + dayMs);
            break;
          }
        }
        return {
          granted: false as const,
          retryAt: freesAt,
          reason: `SMTP_MAX_PER_DAY: ${perDay} sent in the last 24 hours`,
        };
      }
      await sql`
        insert into send_quota (bucket, starts_at, sent)
        values ('minute', ${minute.toISOString()}::timestamptz, 1)
        on conflict (bucket, starts_at) do update set sent = send_quota.sent + 1`.execute(trx);
      return undefined;
    });
  }

  return {
    async take(now) {
      await cleanUp(now);
      const denied =
        (await relayPause(now)) ?? (await takeSecond(now)) ?? (await takeMinuteAndDay(now));
      return denied ?? { granted: true };
    },
    async pauseRelay(until) {
      await sql`
        insert into send_quota (bucket, starts_at, sent)
        values ('relay_pause', ${until.toISOString()}::timestamptz, 0)
        on conflict do nothing`.execute(db);
      pause = undefined; // this worker's next take reads it at once
    },
  };
}
