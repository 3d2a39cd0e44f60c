import { sql, type Kysely, type Transaction } from 'kysely';
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

/** True when any cap is set (the dispatcher then asks the budget for each batch's places). */
export function hasCaps(caps: SendCaps): boolean {
  return caps.perSecond !== undefined || caps.perMinute !== undefined || caps.perDay !== undefined;
}

const dayMs = 24 * 3600_000;

/** A limit that granted fewer places than asked: when one frees up, and which limit it is. */
interface Shortfall {
  readonly room: number;
  readonly retryAt: Date;
  readonly reason: string;
}

/**
 * The relay's quota for all workers together, counted in PostgreSQL. A batch takes its places
 * in one transaction (`reserve`), as many as every limit allows:
 * - Per second (`SMTP_MAX_PER_SECOND`): sends are counted per second; a full second says when
 *   the next starts.
 * - Per minute and per rolling day (`SMTP_MAX_PER_MINUTE`, `SMTP_MAX_PER_DAY`): sends are
 *   counted per minute. A full day says when enough of the oldest minutes fall out of the window.
 * The checks and the counts happen under one transaction-scoped advisory lock, so two workers
 * can never both take the last places.
 * - A relay that said "too many" (`pauseRelay`) holds everyone back until the pause ends.
 *
 * `now` is the dispatcher's clock (what is due is decided on it too), so a trial on a shifted
 * clock counts its own minutes and days.
 */
export function sendBudget(
  db: Kysely<Database>,
  caps: SendCaps | number,
): SendBudget & {
  /** One place: `reserve(now, 1)`, answered as granted or not. */
  take(
    now: Date,
  ): Promise<{ granted: true } | { granted: false; retryAt: Date; reason: string | undefined }>;
} {
  const { perSecond, perMinute, perDay } = typeof caps === 'number' ? { perSecond: caps } : caps;
  let lastCleanup = 0;

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

  // The relay's pause is read at most once a second of the clock, not before every batch: a
  // pause another worker sets reaches this one within a second (and its own at once).
  let pause: { readonly until: Date | undefined; readonly readAt: number } | undefined;

  async function relayPause(now: Date): Promise<Shortfall | undefined> {
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
      room: 0,
      retryAt: pausedUntil,
      reason: `the relay asked us to slow down; sending resumes ${pausedUntil.toISOString()}`,
    };
  }

  /** The current second's places left (under the quota's advisory lock). */
  async function secondRoom(trx: Transaction<Database>, second: Date): Promise<Shortfall> {
    const row = await trx
      .selectFrom('send_budget')
      .select('sent')
      .where('second', '=', second)
      .executeTakeFirst();
    return {
      room: Math.max(0, perSecond! - (row?.sent ?? 0)),
      retryAt: new Date(second.getTime() + 1000),
      reason: `SMTP_MAX_PER_SECOND: ${perSecond} sent this second`,
    };
  }

  /** The minute's and the rolling day's places left (under the quota's advisory lock). */
  async function minuteAndDayRooms(
    trx: Transaction<Database>,
    minute: Date,
    count: number,
  ): Promise<Shortfall[]> {
    const windowStart = new Date(minute.getTime() - dayMs + 60_000);
    const buckets = await trx
      .selectFrom('send_quota')
      .select(['starts_at', 'sent'])
      .where('bucket', '=', 'minute')
      .where('starts_at', '>=', windowStart)
      .where('starts_at', '<=', minute)
      .orderBy('starts_at')
      .execute();
    const rooms: Shortfall[] = [];
    if (perMinute !== undefined) {
      const thisMinute = buckets.find((b) => b.starts_at.getTime() === minute.getTime())?.sent;
      rooms.push({
        room: Math.max(0, perMinute - (thisMinute ?? 0)),
        retryAt: new Date(minute.getTime() + 60_000),
        reason: `SMTP_MAX_PER_MINUTE: ${perMinute} sent this minute`,
      });
    }
    if (perDay !== undefined) {
      const inDay = buckets.reduce((sum, b) => sum + b.sent, 0);
      const room = Math.max(0, perDay - inDay);
      // Once the places granted now are taken (in this minute, the newest), the day frees one
      // when the oldest minutes that take it over the cap leave it.
      let over = inDay + Math.min(room, count) - perDay + 1;
      let freesAt = new Date(minute.getTime() + 60_000);
      for (const bucket of buckets) {
        over -= bucket.sent;
        if (over <= 0) {
          freesAt = new Date(bucket.starts_at.getTime() + dayMs);
          break;
        }
      }
      rooms.push({
        room,
        retryAt: freesAt,
        reason: `SMTP_MAX_PER_DAY: ${perDay} sent in the last 24 hours`,
      });
    }
    return rooms;
  }

  async function reserve(now: Date, count: number) {
    if (count <= 0) return { granted: 0 };
    await cleanUp(now);
    const paused = await relayPause(now);
    if (paused !== undefined) return { granted: 0, retryAt: paused.retryAt, reason: paused.reason };
    if (perSecond === undefined && perMinute === undefined && perDay === undefined)
      return { granted: count };
    const second = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const minute = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
    return db.transaction().execute(async (trx) => {
      // One lock for every worker's reservation: the counts read below cannot change until
      // commit, so the last places go to one worker only. A batch asks once, so it is brief.
      await sql`select pg_advisory_xact_lock(hashtext('digital-gym send quota'))`.execute(trx);
      const limits = [
        ...(perMinute === undefined && perDay === undefined
          ? []
          : await minuteAndDayRooms(trx, minute, count)),
        ...(perSecond === undefined ? [] : [await secondRoom(trx, second)]),
      ];
      const granted = Math.min(count, ...limits.map((l) => l.room));
      if (granted > 0) {
        if (perSecond !== undefined)
          await sql`
            insert into send_budget (second, sent) values (${second.toISOString()}::timestamptz, ${granted})
            on conflict (second) do update set sent = send_budget.sent + ${granted}`.execute(trx);
        if (perMinute !== undefined || perDay !== undefined)
          await sql`
            insert into send_quota (bucket, starts_at, sent)
            values ('minute', ${minute.toISOString()}::timestamptz, ${granted})
            on conflict (bucket, starts_at) do update set sent = send_quota.sent + ${granted}`.execute(
            trx,
          );
      }
      if (granted === count) return { granted };
      // The limit that granted least says when to try again (the earliest listed on a tie:
      // the minute or the day before the second, as a full day outlasts a full second).
      const binding = limits.reduce((a, b) => (b.room < a.room ? b : a));
      return { granted, retryAt: binding.retryAt, reason: binding.reason };
    });
  }

  return {
    reserve,
    async take(now) {
      const answer = await reserve(now, 1);
      return answer.granted === 1
        ? { granted: true }
        : { granted: false, retryAt: answer.retryAt!, reason: answer.reason };
    },
    async pauseRelay(until) {
      await sql`
        insert into send_quota (bucket, starts_at, sent)
        values ('relay_pause', ${until.toISOString()}::timestamptz, 0)
        on conflict do nothing`.execute(db);
      pause = undefined; // this worker's next reservation reads it at once
    },
  };
}
