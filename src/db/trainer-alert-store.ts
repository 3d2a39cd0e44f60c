import { sql, type Kysely } from 'kysely';
import type { FlaggedLearner, TrainerAlertStore } from '../engine/trainer-alerts.js';
import { fenceClaim, firstClaim, nextClaim } from './claim-once.js';
import type { Database } from './schema.js';

/** Without an earlier alert, the first one looks back a week. */
const firstLookBackMs = 7 * 24 * 60 * 60 * 1000;

/**
 * The trainer alert's storage, over Kysely. Windows are on the worker's clock, as the events they
 * select are stamped (`occurred_at`, `updated_at`, a suppression's `created_at`); leases are on
 * the database's, as for deliveries and digests.
 */
export function trainerAlertStore(db: Kysely<Database>): TrainerAlertStore {
  return {
    async claim({ day, workerId, leaseSeconds, now }) {
      const previous = await db
        .selectFrom('trainer_alerts')
        .select(sql<Date | null>`max(covers_to)`.as('until'))
        .where('day', '<', day)
        .executeTakeFirst();
      const coversFrom = previous?.until ?? new Date(now.getTime() - firstLookBackMs);
      const inserted = await db
        .insertInto('trainer_alerts')
        .values({
          day,
          covers_from: coversFrom,
          covers_to: now,
          ...firstClaim(workerId, leaseSeconds),
        })
        // Whichever worker inserts the day's row sends it; the others stop here.
        .onConflict((oc) => oc.column('day').doNothing())
        .returning([
          'id',
          'attempts',
          'lease_token as leaseToken',
          'covers_from as coversFrom',
          'covers_to as coversTo',
        ])
        .executeTakeFirst();
      if (inserted !== undefined) return inserted;
      return db
        .updateTable('trainer_alerts')
        .set(nextClaim(workerId, leaseSeconds))
        .where('day', '=', day)
        .where((eb) =>
          eb.or([
            eb.and([eb('status', '=', 'pending'), eb('retry_at', '<=', now)]),
            eb.and([eb('status', '=', 'claimed'), eb('lease_until', '<', sql<Date>`now()`)]),
          ]),
        )
        .returning([
          'id',
          'attempts',
          'lease_token as leaseToken',
          'covers_from as coversFrom',
          'covers_to as coversTo',
        ])
        .executeTakeFirst();
    },

    async contents(from, to) {
      const flagged = await db
        .selectFrom('progress_events')
        .innerJoin('enrolments', 'enrolments.id', 'progress_events.enrolment_id')
        .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
        .innerJoin('sequence_versions', 'sequence_versions.id', 'enrolments.sequence_version_id')
        .select([
          'learners.first_name',
          'learners.last_name',
          'learners.email',
          'sequence_versions.sequence_id',
          'progress_events.kind',
          'progress_events.data',
          'progress_events.occurred_at',
        ])
        .where('progress_events.kind', 'in', ['too_hard', 'help'])
        .where('progress_events.occurred_at', '>=', from)
        .where('progress_events.occurred_at', '<', to)
        .orderBy('progress_events.occurred_at')
        .execute();
      const held = await db
        .selectFrom('inbound_messages')
        .select(['id', 'from_address', 'reason', 'created_at'])
        .where('status', 'in', ['parked', 'quarantined'])
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      const bounces = await db
        .selectFrom('suppressions')
        .select(['address', 'detail', 'created_at'])
        .where('how', '=', 'hard_bounce')
        .where('created_at', '>=', from)
        .where('created_at', '<', to)
        .orderBy('created_at')
        .execute();
      const failed = await db
        .selectFrom('deliveries')
        .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
        .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
        .select(['learners.email', 'deliveries.step_key', 'deliveries.kind', 'deliveries.reason'])
        .where('deliveries.status', '=', 'failed')
        .where('deliveries.updated_at', '>=', from)
        .where('deliveries.updated_at', '<', to)
        .orderBy('deliveries.id')
        .execute();
      const failedDigests = await db
        .selectFrom('manager_digests')
        .innerJoin('managers', 'managers.id', 'manager_digests.manager_id')
        .select(['managers.email', 'manager_digests.period_starts_on', 'manager_digests.reason'])
        .where('manager_digests.status', '=', 'failed')
        .where(
          sql<Date>`coalesce(manager_digests.retry_at, manager_digests.created_at)`,
          '>=',
          from,
        )
        .where(sql<Date>`coalesce(manager_digests.retry_at, manager_digests.created_at)`, '<', to)
        .execute();
      return {
        flagged: flagged.map((f): FlaggedLearner => ({
          name: `${f.first_name} ${f.last_name}`,
          email: f.email,
          programme: f.sequence_id,
          week: typeof f.data.week === 'number' ? f.data.week : undefined,
          kind: f.kind === 'help' ? 'help' : 'too_hard',
          words: typeof f.data.text === 'string' ? f.data.text : '',
          at: f.occurred_at,
        })),
        held: {
          count: held.length,
          oldest: held.slice(0, 5).map((h) => ({
            id: h.id,
            from: h.from_address ?? undefined,
            reason: (h.reason ?? '').slice(0, 200),
            at: h.created_at,
          })),
        },
        bounces: bounces.map((b) => ({
          email: b.address,
          detail: b.detail ?? 'hard bounce',
          at: b.created_at,
        })),
        failed: [
          ...failed.map((f) => ({
            to: f.email,
            what: `${f.kind} ${f.step_key}`,
            reason: f.reason ?? 'no reason recorded',
          })),
          ...failedDigests.map((d) => ({
            to: d.email,
            what: `manager digest of ${d.period_starts_on}`,
            reason: d.reason ?? 'no reason recorded',
          })),
        ],
      };
    },

    fence: (held, sendLeaseSeconds) => fenceClaim(db, 'trainer_alerts', held, sendLeaseSeconds),

    async settle(held, settlement, items, now) {
      const values =
        settlement.status === 'sent'
          ? {
              status: 'sent' as const,
              message_id: settlement.messageId,
              sent_at: now,
              reason: null,
            }
          : settlement.status === 'pending'
            ? {
                status: 'pending' as const,
                retry_at: settlement.retryAt,
                reason: settlement.reason,
              }
            : { status: settlement.status, reason: settlement.reason };
      const result = await db
        .updateTable('trainer_alerts')
        .set({ ...values, items, claimed_by: null, lease_until: null })
        .where('id', '=', held.id)
        .where('status', '=', 'claimed')
        .where('lease_token', '=', held.leaseToken)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },
  };
}
