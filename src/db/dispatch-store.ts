import { sql, type Kysely } from 'kysely';
import type { DispatchStore } from '../engine/dispatch.js';
import { claimDueDeliveries, fenceDelivery, renewLeases } from './deliveries.js';
import { programmeVersions } from './programme-versions.js';
import { consentReader } from './suppression-store.js';
import type { Database } from './schema.js';

/** The dispatcher's storage, over Kysely (PostgreSQL or PGlite). */
export function dispatchStore(db: Kysely<Database>): DispatchStore {
  return {
    ...consentReader(db),

    async claim({ workerId, limit, leaseSeconds, now }) {
      const claimed = await claimDueDeliveries(db, { workerId, limit, leaseSeconds, now });
      if (claimed.length === 0) return [];
      const rows = await db
        .selectFrom('deliveries')
        .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
        .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
        .leftJoin('organisations', 'organisations.id', 'learners.organisation_id')
        .leftJoin('managers', 'managers.id', 'learners.manager_id')
        .select([
          'deliveries.id',
          'enrolments.status as enrolment_status',
          'enrolments.sequence_version_id',
          'learners.id as learner_id',
          'learners.email',
          'learners.first_name',
          'learners.last_name',
          'learners.time_zone',
          'learners.role',
          'learners.status as learner_status',
          'organisations.name as organisation',
          'managers.name as manager_name',
          'managers.email as manager_email',
        ])
        .where(
          'deliveries.id',
          'in',
          claimed.map((d) => d.id),
        )
        .execute();
      const byId = new Map(rows.map((r) => [r.id, r]));
      return claimed.map((d) => {
        const r = byId.get(d.id)!;
        return {
          id: d.id,
          leaseToken: d.lease_token,
          enrolmentId: d.enrolment_id,
          versionId: r.sequence_version_id,
          stepKey: d.step_key,
          week: d.week,
          kind: d.kind,
          payload: d.payload,
          dueAt: d.due_at,
          quotaDeferredUntil: d.quota_deferred_until ?? undefined,
          startsAt: d.starts_at,
          method: d.method,
          attempts: d.attempts,
          inviteSequence: d.invite_sequence,
          enrolmentStatus: r.enrolment_status,
          learner: {
            id: r.learner_id,
            email: r.email,
            first_name: r.first_name,
            last_name: r.last_name,
            time_zone: r.time_zone,
            role: r.role,
            organisation: r.organisation,
            status: r.learner_status,
          },
          manager:
            r.manager_name === null || r.manager_email === null
              ? undefined
              : { name: r.manager_name, email: r.manager_email },
        };
      });
    },

    renew: (held, leaseSeconds) => renewLeases(db, held, leaseSeconds),

    fence: (held, sendLeaseSeconds) => fenceDelivery(db, held, sendLeaseSeconds),

    programme: programmeVersions(db),

    async recordTick(workerId, outcome) {
      await db
        .insertInto('worker_ticks')
        .values({
          worker: workerId,
          last_tick_at: sql<Date>`now()`,
          sent: outcome.sent,
          error: outcome.error ?? null,
        })
        .onConflict((oc) =>
          oc.column('worker').doUpdateSet({
            last_tick_at: sql<Date>`now()`,
            sent: outcome.sent,
            error: outcome.error ?? null,
          }),
        )
        .execute();
    },

    async sentInviteUid(enrolmentId, stepKey) {
      const row = await db
        .selectFrom('deliveries')
        .select('invite_uid')
        .where('enrolment_id', '=', enrolmentId)
        .where('step_key', '=', stepKey)
        .executeTakeFirst();
      return row?.invite_uid ?? undefined;
    },

    async doneSteps(enrolmentId) {
      const rows = await db
        .selectFrom('progress_events')
        .innerJoin('deliveries', 'deliveries.id', 'progress_events.delivery_id')
        .select('deliveries.step_key')
        .where('progress_events.enrolment_id', '=', enrolmentId)
        .where('progress_events.kind', '=', 'done')
        .execute();
      return new Set(rows.map((r) => r.step_key));
    },

    async reflectionsOf(enrolmentId) {
      const rows = await db
        .selectFrom('progress_events')
        .select(['data', 'occurred_at'])
        .where('enrolment_id', '=', enrolmentId)
        .where('kind', '=', 'reflection')
        .orderBy('occurred_at')
        .orderBy('id')
        .execute();
      return rows
        .map((r) => ({
          week: Number(r.data.week ?? 0),
          text: typeof r.data.text === 'string' ? r.data.text : '',
        }))
        .filter((r) => r.text.trim() !== '');
    },

    async settle(held, settlement, now) {
      const base = { claimed_by: null, lease_until: null, updated_at: now };
      const values =
        settlement.status === 'sent'
          ? {
              ...base,
              status: 'sent' as const,
              message_id: settlement.messageId,
              invite_uid: settlement.inviteUid ?? null,
              sent_at: now,
              reason: null,
              retry_at: null,
            }
          : settlement.status === 'pending'
            ? {
                ...base,
                status: 'pending' as const,
                retry_at: settlement.retryAt,
                reason: settlement.reason,
                ...(settlement.failedAttempt ? {} : { attempts: sql<number>`attempts - 1` }),
                ...(settlement.quotaDeferred ? { quota_deferred_until: settlement.retryAt } : {}),
              }
            : { ...base, status: settlement.status, reason: settlement.reason };
      // Only while this holder still has the claim (its fencing token, not its name: a restarted
      // worker keeps its name): after a lost lease, the new holder decides.
      const result = await db
        .updateTable('deliveries')
        .set(values)
        .where('id', '=', held.id)
        .where('status', '=', 'claimed')
        .where('lease_token', '=', held.leaseToken)
        .executeTakeFirst();
      const kept = result.numUpdatedRows === 1n;
      if (kept && settlement.status !== 'pending') await completeIfFinished(db, held.id, now);
      return kept;
    },
  };
}

/**
 * An enrolment whose plan has nothing left to send (every row sent, skipped, missed, failed or
 * cancelled) has completed the programme. A paused one still has rows waiting, so it stays.
 */
async function completeIfFinished(db: Kysely<Database>, deliveryId: number, now: Date) {
  const enrolment = db.selectFrom('deliveries').select('enrolment_id').where('id', '=', deliveryId);
  await db
    .updateTable('enrolments')
    .set({ status: 'completed', ended_at: now, updated_at: now })
    .where('id', '=', enrolment)
    .where('status', '=', 'active')
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('deliveries')
            .select('id')
            .whereRef('deliveries.enrolment_id', '=', 'enrolments.id')
            .where('deliveries.status', 'in', ['pending', 'claimed'])
            .where('deliveries.kind', '!=', 'acknowledgement'),
        ),
      ),
    )
    .execute();
}
