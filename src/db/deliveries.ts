import { sql, type Kysely } from 'kysely';
import type { Database, Delivery } from './schema.js';

/*
 * Leases run on the database's clock, always. Which rows are due runs on the database's clock
 * too, unless the caller gives a clock of its own.
 *
 * The two clocks answer different questions. "Is this row due?" is programme time: `gym run`
 * on the real clock asks PostgreSQL (`now()`), so every worker agrees on what is due whatever
 * its own clock says; `gym demo` runs weeks in seconds, `gym run --clock` starts on a future
 * date, and the tests freeze time, so they pass the clock they run on. "Has its holder gone?"
 * compares instants written by one worker with instants read by another, so it needs the one
 * clock they share: PostgreSQL's `now()`. Worker clocks that disagree (started at different
 * times under `--clock`, or simply unsynchronised) made live workers' leases look expired to
 * their neighbours, who took and sent the rows again (#11 §5). A shifted or simulated clock
 * therefore never touches `lease_until`.
 */

/** `now() + seconds`, on the database's clock. */
export function leaseFromNow(seconds: number) {
  return sql<Date>`now() + make_interval(secs => ${seconds})`;
}

/*
 * Statements that change several held rows at once (the heartbeat, the fencing check of a group,
 * the outcomes of a group) run at the same time on different connections of one worker: each
 * locks its rows in id order first (`lockedInOrder`), so that two of them can never each hold a
 * row the other waits for (a deadlock, which PostgreSQL ends by failing one of them: a failed
 * outcome leaves a sent row claimed, to be sent again once its lease runs out).
 */
function lockedInOrder(ids: readonly number[]) {
  return sql`select id from deliveries where id in (${sql.join(ids)}) order by id for update`;
}

/** Locks `held` in id order, then extends the leases still held to `seconds` from now. */
async function extendLeases(
  db: Kysely<Database>,
  held: readonly HeldRow[],
  seconds: number,
): Promise<Set<number>> {
  if (held.length === 0) return new Set();
  const pairs = held.map((h) => sql`(${h.id}::integer, ${h.leaseToken}::integer)`);
  const { rows } = await sql<{ id: number }>`
    with locked as materialized (${lockedInOrder(held.map((h) => h.id))})
    update deliveries set lease_until = greatest(lease_until, ${leaseFromNow(seconds)})
    where id in (select id from locked)
      and status = 'claimed'
      and (id, lease_token) in (${sql.join(pairs)})
    returning id`.execute(db);
  return new Set(rows.map((r) => r.id));
}

export interface ClaimOptions {
  /** Who holds the lease, for logs and for finding a dead worker's rows. */
  readonly workerId: string;
  /** Rows per claim. */
  readonly limit: number;
  /** How long the claim holds (database clock) before another worker may reclaim it. */
  readonly leaseSeconds: number;
  /** The clock that decides what is due; the database's own `now()` when absent. */
  readonly now?: Date;
}

/** The claim a holder proves with: the row and the fencing token it was claimed with. */
export interface HeldRow {
  readonly id: number;
  readonly leaseToken: number;
}

/**
 * Claims the next due deliveries for one worker, in one statement: rows that are pending and
 * due, and rows whose claim expired (their worker died or stalled), oldest first. `FOR UPDATE
 * SKIP LOCKED` lets any number of workers claim at once without waiting for each other and
 * without ever getting the same row. Each claim bumps the row's fencing token (`lease_token`).
 */
export async function claimDueDeliveries(
  db: Kysely<Database>,
  options: ClaimOptions,
): Promise<Delivery[]> {
  return (await claimDueDeliveriesAt(db, options)).rows;
}

/**
 * `claimDueDeliveries`, with the instant the claim was decided at: `options.now`, or the
 * database's `now()` when absent (the same for every row: one statement, one transaction).
 */
export async function claimDueDeliveriesAt(
  db: Kysely<Database>,
  options: ClaimOptions,
): Promise<{ rows: Delivery[]; now: Date | undefined }> {
  const now =
    options.now === undefined
      ? sql<Date>`now()`
      : sql<Date>`${options.now.toISOString()}::timestamptz`;
  // Expired leases first, then due rows, each read in the order of its index (migration 0015:
  // a claim stops at `limit` rows, however many are due), then merged in the same order. Rows a
  // claim locks and does not keep are free again when it commits.
  const inOrder = sql`order by coalesce(retry_at, due_at), due_at, id limit ${options.limit}
    for update skip locked`;
  const claimable = sql<number>`(
    with expired as materialized (
      select id, coalesce(retry_at, due_at) as runnable_at, due_at from deliveries
      where status = 'claimed' and lease_until < now() ${inOrder}
    ), due as materialized (
      select id, coalesce(retry_at, due_at) as runnable_at, due_at from deliveries
      where status = 'pending' and coalesce(retry_at, due_at) <= ${now} ${inOrder}
    )
    select id from (select * from expired union all select * from due) as claimable
    -- Rows the quota carried to the same instant go out in the order they were due.
    order by runnable_at, due_at, id limit ${options.limit}
  )`;
  const claimed = await db
    .updateTable('deliveries')
    .set({
      status: 'claimed',
      claimed_by: options.workerId,
      lease_until: leaseFromNow(options.leaseSeconds),
      lease_token: sql<number>`lease_token + 1`,
      attempts: sql<number>`attempts + 1`,
      updated_at: now,
    })
    .where('id', 'in', claimable)
    .returningAll()
    .returning(sql<Date>`now()`.as('claimed_at'))
    .execute();
  const rows = claimed
    .map(({ claimed_at: _, ...row }) => row)
    .sort((a, b) => a.due_at.getTime() - b.due_at.getTime() || a.id - b.id);
  return { rows, now: options.now ?? claimed[0]?.claimed_at };
}

/**
 * The heartbeat: extends, to `leaseSeconds` from now, the leases of the rows this holder still
 * holds (same fencing token). Never shortens a lease. Returns the ids it renewed; a row missing
 * from the answer was taken by another worker and must not be sent.
 */
export async function renewLeases(
  db: Kysely<Database>,
  held: readonly HeldRow[],
  leaseSeconds: number,
): Promise<Set<number>> {
  return extendLeases(db, held, leaseSeconds);
}

/**
 * The check before a message goes out: true while the row is still claimed with this fencing
 * token, and then its lease is extended to `sendLeaseSeconds` from now, for the time the
 * message is in the relay's hands. False when another worker has taken the row: nothing may be
 * sent. (A lease that ran out but that nobody took is still this holder's: nothing was lost.)
 */
export async function fenceDelivery(
  db: Kysely<Database>,
  held: HeldRow,
  sendLeaseSeconds: number,
): Promise<boolean> {
  const result = await db
    .updateTable('deliveries')
    .set({ lease_until: sql<Date>`greatest(lease_until, ${leaseFromNow(sendLeaseSeconds)})` })
    .where('id', '=', held.id)
    .where('status', '=', 'claimed')
    .where('lease_token', '=', held.leaseToken)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/**
 * `fenceDelivery` for several rows in one statement: answers the ids still held with their
 * fencing token (their leases now extended to `sendLeaseSeconds`); a row missing from the
 * answer was taken by another worker and must not be sent.
 */
export async function fenceDeliveries(
  db: Kysely<Database>,
  held: readonly HeldRow[],
  sendLeaseSeconds: number,
): Promise<Set<number>> {
  return extendLeases(db, held, sendLeaseSeconds);
}

/** How a claimed row ends an attempt, as `settleDeliveries` writes it. */
export type RowSettlement =
  | { readonly status: 'sent'; readonly messageId: string; readonly inviteUid?: string | undefined }
  | {
      readonly status: 'pending';
      readonly retryAt: Date;
      readonly reason: string;
      /** False when no attempt was spent (a window, a quota): the claim's count is given back. */
      readonly failedAttempt: boolean;
      readonly quotaDeferred?: boolean | undefined;
    }
  | {
      readonly status: 'failed' | 'skipped' | 'missed' | 'cancelled';
      readonly reason: string;
    };

/**
 * Records how claimed rows ended, in one statement (`UPDATE … FROM (VALUES …)`), each only
 * while its holder still has the claim (its fencing token, not its name: a restarted worker
 * keeps its name): after a lost lease, the new holder decides. Then, in a second statement,
 * completes the enrolments those rows finished. Answers the ids written.
 */
export async function settleDeliveries(
  db: Kysely<Database>,
  settled: readonly { readonly held: HeldRow; readonly settlement: RowSettlement }[],
  now: Date,
): Promise<Set<number>> {
  if (settled.length === 0) return new Set();
  const at = now.toISOString();
  const values = settled.map(({ held, settlement: s }) => {
    const sent = s.status === 'sent';
    const pending = s.status === 'pending';
    return sql`(${held.id}::integer, ${held.leaseToken}::integer, ${s.status}::text,
      ${sent ? s.messageId : null}::text, ${sent ? (s.inviteUid ?? null) : null}::text,
      ${sent ? null : s.reason}::text, ${pending ? s.retryAt.toISOString() : null}::timestamptz,
      ${pending && !s.failedAttempt ? 1 : 0}::integer, ${pending && s.quotaDeferred === true}::boolean)`;
  });
  const { rows } = await sql<{ id: number; status: string }>`
    with locked as materialized (${lockedInOrder(settled.map((r) => r.held.id))})
    update deliveries as d set
      status = v.status,
      claimed_by = null,
      lease_until = null,
      updated_at = ${at}::timestamptz,
      message_id = case when v.status = 'sent' then v.message_id else d.message_id end,
      invite_uid = case when v.status = 'sent' then v.invite_uid else d.invite_uid end,
      sent_at = case when v.status = 'sent' then ${at}::timestamptz else d.sent_at end,
      reason = v.reason,
      retry_at = case v.status when 'sent' then null when 'pending' then v.retry_at
        else d.retry_at end,
      attempts = d.attempts - v.attempt_returned,
      quota_deferred_until = case when v.quota_deferred then v.retry_at
        else d.quota_deferred_until end
    from (values ${sql.join(values)}) as v(id, lease_token, status, message_id, invite_uid,
      reason, retry_at, attempt_returned, quota_deferred)
    where d.id = v.id and d.id in (select id from locked)
      and d.status = 'claimed' and d.lease_token = v.lease_token
    returning d.id, d.status`.execute(db);
  const finished = rows.filter((r) => r.status !== 'pending').map((r) => r.id);
  if (finished.length > 0) await completeIfFinished(db, finished, now);
  return new Set(rows.map((r) => r.id));
}

/**
 * An enrolment whose plan has nothing left to send (every row sent, skipped, missed, failed or
 * cancelled) has completed the programme. A paused one still has rows waiting, so it stays.
 */
async function completeIfFinished(db: Kysely<Database>, deliveryIds: number[], now: Date) {
  // Locked in id order, as above: two workers finishing rows of the same enrolments at once
  // must not each wait for the other. Only the enrolments that look finished are locked: a lock
  // is a write, and locking every enrolment of every settled row made each outcome statement two
  // commits to flush instead of one; the update checks again under the lock.
  const finished = sql`not exists (
    select 1 from deliveries
    where deliveries.enrolment_id = enrolments.id
      and deliveries.status in ('pending', 'claimed')
      and deliveries.kind <> 'acknowledgement'
  )`;
  await sql`
    with locked as materialized (
      select id from enrolments
      where id in (select enrolment_id from deliveries where id in (${sql.join(deliveryIds)}))
        and status = 'active' and ${finished}
      order by id for update
    )
    update enrolments set status = 'completed', ended_at = ${now.toISOString()}::timestamptz,
      updated_at = ${now.toISOString()}::timestamptz
    where id in (select id from locked)
      and status = 'active'
      and ${finished}`.execute(db);
}
