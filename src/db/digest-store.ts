import { sql, type Kysely } from 'kysely';
import type { DigestStore, IntroductionStore, TeamMember } from '../engine/digests.js';
import { mondayOf } from '../planner/local-time.js';
import { fenceClaim, firstClaim, nextClaim } from './claim-once.js';
import { programmeVersions } from './programme-versions.js';
import { consentReader } from './suppression-store.js';
import type { Database } from './schema.js';

/** A digest or introduction in one of these will not be sent by anyone: it is done with. */
const settledStatuses = ['sent', 'skipped', 'failed'] as const;

const dayMs = 24 * 60 * 60 * 1000;

/** The digest sender's storage, over Kysely (PostgreSQL or PGlite). */
export function digestStore(db: Kysely<Database>): DigestStore {
  const programme = programmeVersions(db);

  return {
    ...consentReader(db),

    introductions: introductionStore(db),

    async stoppedSince(managerId, now) {
      const lastSent = db
        .selectFrom('manager_digests')
        .select(sql<Date>`max(sent_at)`.as('at'))
        .where('manager_id', '=', managerId)
        .where('status', '=', 'sent');
      const rows = await db
        .selectFrom('enrolments')
        .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
        .select([
          'learners.first_name as firstName',
          'learners.last_name as lastName',
          (eb) =>
            eb
              .selectFrom('deliveries')
              .select(sql<number>`max(week)`.as('w'))
              .whereRef('deliveries.enrolment_id', '=', 'enrolments.id')
              .where('deliveries.kind', '=', 'email')
              .where('deliveries.status', '=', 'sent')
              .as('week'),
        ])
        .where('learners.manager_id', '=', managerId)
        .where('enrolments.status', '=', 'stopped')
        .where('enrolments.ended_at', '<=', now)
        // Since the last digest this manager was sent: each stop is told once, in the next one.
        .where((eb) => eb.or([eb(lastSent, 'is', null), eb('enrolments.ended_at', '>', lastSent)]))
        .orderBy('enrolments.ended_at')
        .orderBy('learners.id')
        .execute();
      return rows.map((r) => ({
        firstName: r.firstName,
        lastName: r.lastName,
        week: Number(r.week ?? 1),
      }));
    },

    async managers() {
      const rows = await db
        .selectFrom('managers')
        .innerJoin('learners', 'learners.manager_id', 'managers.id')
        .innerJoin('enrolments', 'enrolments.learner_id', 'learners.id')
        .select([
          'managers.id',
          'managers.name',
          'managers.email',
          'managers.time_zone as zone',
          'managers.language',
          // Fortnights count from the first start of anyone the manager has had on a programme,
          // stopped ones too: a learner leaving must not move every later digest's date.
          sql<string>`min(enrolments.starts_on)`.as('firstStart'),
          // What is settled already, read here so that a tick asks nothing more of a manager
          // with nothing to send: a statement or three per manager and tick, every five seconds
          // in every worker, was most of the statements a wave ran.
          sql<boolean>`exists (
            select 1 from manager_introductions as intro
            where intro.manager_id = managers.id and intro.status in (${sql.join(settledStatuses)})
          )`.as('introductionSettled'),
          sql<string | null>`(
            select max(settled.period_starts_on)::text from manager_digests as settled
            where settled.manager_id = managers.id
              and settled.status in (${sql.join(settledStatuses)})
          )`.as('settledUpTo'),
        ])
        .where('managers.status', '=', 'active')
        .where((eb) =>
          eb.or([
            eb.exists(
              eb
                .selectFrom('learners as active_learner')
                .innerJoin('enrolments as open', 'open.learner_id', 'active_learner.id')
                .select('open.id')
                .whereRef('active_learner.manager_id', '=', 'managers.id')
                .where('active_learner.status', '=', 'active')
                .where('open.status', 'in', ['active', 'paused']),
            ),
            // Nobody active any more, but a stop not told yet: one last digest tells it (a
            // manager who was never sent a digest has nothing to be told the end of).
            eb.exists(
              eb
                .selectFrom('learners as gone')
                .innerJoin('enrolments as ended', 'ended.learner_id', 'gone.id')
                .innerJoin('manager_digests as last', 'last.manager_id', 'gone.manager_id')
                .select('ended.id')
                .whereRef('gone.manager_id', '=', 'managers.id')
                .where('ended.status', '=', 'stopped')
                .where('last.status', '=', 'sent')
                .where((inner) =>
                  inner(
                    'ended.ended_at',
                    '>',
                    inner
                      .selectFrom('manager_digests as latest')
                      .select(sql<Date>`max(latest.sent_at)`.as('at'))
                      .whereRef('latest.manager_id', '=', 'managers.id')
                      .where('latest.status', '=', 'sent'),
                  ),
                ),
            ),
          ]),
        )
        .groupBy([
          'managers.id',
          'managers.name',
          'managers.email',
          'managers.time_zone',
          'managers.language',
        ])
        .orderBy('managers.id')
        .execute();
      return rows.map(({ firstStart, settledUpTo, ...manager }) => ({
        ...manager,
        anchor: mondayOf(String(firstStart).slice(0, 10)),
        settledUpTo: settledUpTo ?? undefined,
      }));
    },

    // The lease is on the database's clock and fenced by `lease_token`, as for deliveries (see
    // src/db/deliveries.ts); `now` decides only whether a retry is due.
    async claim({ managerId, periodStartsOn, workerId, leaseSeconds, now }) {
      const inserted = await db
        .insertInto('manager_digests')
        .values({
          manager_id: managerId,
          period_starts_on: periodStartsOn,
          ...firstClaim(workerId, leaseSeconds),
        })
        // Whichever worker inserts the fortnight's row sends it; the others stop here.
        .onConflict((oc) => oc.columns(['manager_id', 'period_starts_on']).doNothing())
        .returning(['id', 'attempts', 'lease_token as leaseToken'])
        .executeTakeFirst();
      if (inserted !== undefined) return inserted;
      // A retry that is due, or a claim whose worker died or stalled (its lease ran out).
      return db
        .updateTable('manager_digests')
        .set(nextClaim(workerId, leaseSeconds))
        .where('manager_id', '=', managerId)
        .where('period_starts_on', '=', periodStartsOn)
        .where((eb) =>
          eb.or([
            eb.and([
              eb('status', '=', 'pending'),
              eb(sql`coalesce(retry_at, created_at)`, '<=', now),
            ]),
            eb.and([eb('status', '=', 'claimed'), eb('lease_until', '<', sql<Date>`now()`)]),
          ]),
        )
        .returning(['id', 'attempts', 'lease_token as leaseToken'])
        .executeTakeFirst();
    },

    fence: (held, sendLeaseSeconds) => fenceClaim(db, 'manager_digests', held, sendLeaseSeconds),

    async skip(managerId, periodStartsOn, reason, now) {
      await db
        .insertInto('manager_digests')
        .values({
          manager_id: managerId,
          period_starts_on: periodStartsOn,
          status: 'skipped',
          reason,
          created_at: now,
        })
        .onConflict((oc) => oc.columns(['manager_id', 'period_starts_on']).doNothing())
        .execute();
    },

    async team(managerId, now) {
      const soon = new Date(now.getTime() + dayMs / 2);
      const stuckSince = new Date(now.getTime() - 14 * dayMs);
      // Each learner's plan and replies read in one pass each (aggregates with filters), not
      // in a subquery per figure, and their latest reflection, all in one statement: the team
      // was a digest's costliest statement, then three of its statements.
      const rows = await db
        .selectFrom('learners')
        .innerJoin('enrolments', 'enrolments.learner_id', 'learners.id')
        .leftJoin('organisations', 'organisations.id', 'learners.organisation_id')
        .leftJoinLateral(
          (eb) =>
            eb
              .selectFrom('deliveries')
              .select([
                sql<
                  number | null
                >`max(week) filter (where kind = 'email' and due_at <= ${soon})`.as('currentWeek'),
                // Quiet counts from the first step, not from the welcome.
                sql<Date | null>`min(sent_at) filter (where kind in ('email', 'invite'))`.as(
                  'firstSentAt',
                ),
                sql<number[] | null>`array_agg(distinct week) filter (
                  where kind = 'email' and status = 'sent'
                )`.as('sentWeeks'),
              ])
              .whereRef('deliveries.enrolment_id', '=', 'enrolments.id')
              .as('planned'),
          (join) => join.onTrue(),
        )
        .leftJoinLateral(
          (eb) =>
            eb
              .selectFrom('progress_events')
              .select([
                sql<number>`count(distinct data ->> 'week') filter (where kind = 'done')`.as(
                  'weeksDone',
                ),
                sql<Date | null>`max(occurred_at) filter (where kind <> 'rsvp')`.as('lastReplyAt'),
                sql<Date | null>`max(occurred_at) filter (where kind = 'done')`.as('lastDoneAt'),
                sql<Date | null>`max(occurred_at) filter (
                  where kind in ('too_hard', 'help') and occurred_at > ${stuckSince}
                )`.as('lastStuckAt'),
              ])
              .whereRef('progress_events.enrolment_id', '=', 'enrolments.id')
              .as('progress'),
          (join) => join.onTrue(),
        )
        .leftJoinLateral(
          (eb) =>
            eb
              .selectFrom('progress_events')
              .select(['data', 'occurred_at'])
              .whereRef('progress_events.enrolment_id', '=', 'enrolments.id')
              .where('kind', '=', 'reflection')
              .orderBy('occurred_at', 'desc')
              .limit(1)
              .as('reflection'),
          (join) => join.onTrue(),
        )
        .select([
          'learners.id as learnerId',
          'learners.first_name as firstName',
          'learners.last_name as lastName',
          'learners.email',
          'learners.role',
          'learners.profile',
          'enrolments.id as enrolmentId',
          'enrolments.sequence_version_id as versionId',
          'enrolments.paused_until as pausedUntil',
          'planned.currentWeek',
          'planned.firstSentAt',
          'progress.weeksDone',
          'progress.lastReplyAt',
          'progress.lastDoneAt',
          'progress.lastStuckAt',
          'organisations.name as organisation',
          'planned.sentWeeks',
          'reflection.data as reflectionData',
          'reflection.occurred_at as reflectedAt',
        ])
        .where('learners.manager_id', '=', managerId)
        .where('learners.status', '=', 'active')
        .where('enrolments.status', 'in', ['active', 'paused'])
        .orderBy('learners.id')
        .execute();
      const members: TeamMember[] = [];
      for (const row of rows) {
        const currentWeek = Number(row.currentWeek ?? 1);
        const lastStuckAt = row.lastStuckAt === null ? null : new Date(row.lastStuckAt);
        const lastDoneAt = row.lastDoneAt === null ? null : new Date(row.lastDoneAt);
        members.push({
          learnerId: row.learnerId,
          firstName: row.firstName,
          lastName: row.lastName,
          email: row.email,
          role: row.role,
          organisation: row.organisation,
          shareWithManager: row.profile.share_with_manager === true,
          versionId: row.versionId,
          sequence: await programme(row.versionId),
          pausedUntil: row.pausedUntil,
          currentWeek,
          weeksDue: (row.sentWeeks ?? []).filter((week) => Number(week) < currentWeek).length,
          weeksDone: Number(row.weeksDone ?? 0),
          lastReplyAt: row.lastReplyAt === null ? null : new Date(row.lastReplyAt),
          // Stuck until a later "done" says otherwise.
          stuckSince:
            lastStuckAt !== null && (lastDoneAt === null || lastDoneAt < lastStuckAt)
              ? lastStuckAt
              : null,
          firstSentAt: row.firstSentAt === null ? null : new Date(row.firstSentAt),
          reflection:
            row.reflectionData === null || row.reflectedAt === null
              ? null
              : {
                  week: Number(row.reflectionData.week ?? currentWeek),
                  text: typeof row.reflectionData.text === 'string' ? row.reflectionData.text : '',
                  at: new Date(row.reflectedAt),
                },
        });
      }
      return members;
    },

    async settle(held, settlement, learners, now) {
      const base = { claimed_by: null, lease_until: null, learners };
      const values =
        settlement.status === 'sent'
          ? {
              ...base,
              status: 'sent' as const,
              message_id: settlement.messageId,
              sent_at: now,
              reason: null,
            }
          : settlement.status === 'pending'
            ? {
                ...base,
                status: 'pending' as const,
                retry_at: settlement.retryAt,
                reason: settlement.reason,
              }
            : { ...base, status: settlement.status, reason: settlement.reason };
      const result = await db
        .updateTable('manager_digests')
        .set(values)
        .where('id', '=', held.id)
        .where('status', '=', 'claimed')
        .where('lease_token', '=', held.leaseToken)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },
  };
}

/** Manager introductions (migration 0009): one row per manager, claimed like a digest. */
function introductionStore(db: Kysely<Database>): IntroductionStore {
  return {
    async settled(managerId) {
      const row = await db
        .selectFrom('manager_introductions')
        .select('status')
        .where('manager_id', '=', managerId)
        .executeTakeFirst();
      return row !== undefined && (settledStatuses as readonly string[]).includes(row.status);
    },

    async claim({ managerId, workerId, leaseSeconds, now }) {
      const inserted = await db
        .insertInto('manager_introductions')
        .values({
          manager_id: managerId,
          ...firstClaim(workerId, leaseSeconds),
        })
        // Whichever worker inserts the manager's row sends it; the others stop here.
        .onConflict((oc) => oc.column('manager_id').doNothing())
        .returning(['id', 'attempts', 'lease_token as leaseToken'])
        .executeTakeFirst();
      if (inserted !== undefined) return inserted;
      return db
        .updateTable('manager_introductions')
        .set(nextClaim(workerId, leaseSeconds))
        .where('manager_id', '=', managerId)
        .where((eb) =>
          eb.or([
            eb.and([
              eb('status', '=', 'pending'),
              eb(sql`coalesce(retry_at, created_at)`, '<=', now),
            ]),
            eb.and([eb('status', '=', 'claimed'), eb('lease_until', '<', sql<Date>`now()`)]),
          ]),
        )
        .returning(['id', 'attempts', 'lease_token as leaseToken'])
        .executeTakeFirst();
    },

    fence: (held, sendLeaseSeconds) =>
      fenceClaim(db, 'manager_introductions', held, sendLeaseSeconds),

    async settle(held, settlement, now) {
      const base = { claimed_by: null, lease_until: null };
      const values =
        settlement.status === 'sent'
          ? {
              ...base,
              status: 'sent' as const,
              message_id: settlement.messageId,
              sent_at: now,
              reason: null,
            }
          : settlement.status === 'pending'
            ? {
                ...base,
                status: 'pending' as const,
                retry_at: settlement.retryAt,
                reason: settlement.reason,
              }
            : { ...base, status: settlement.status, reason: settlement.reason };
      const result = await db
        .updateTable('manager_introductions')
        .set(values)
        .where('id', '=', held.id)
        .where('status', '=', 'claimed')
        .where('lease_token', '=', held.leaseToken)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },
  };
}
