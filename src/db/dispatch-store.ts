import { sql, type Kysely } from 'kysely';
import type { DispatchStore } from '../engine/dispatch.js';
import {
  claimDueDeliveriesAt,
  fenceDeliveries,
  renewLeases,
  settleDeliveries,
} from './deliveries.js';
import { programmeVersions } from './programme-versions.js';
import { consentReader } from './suppression-store.js';
import type { Database } from './schema.js';

/** The dispatcher's storage, over Kysely (PostgreSQL or PGlite). */
export function dispatchStore(db: Kysely<Database>): DispatchStore {
  return {
    ...consentReader(db),

    async claim({ workerId, limit, leaseSeconds, now }) {
      const claim = await claimDueDeliveriesAt(db, {
        workerId,
        limit,
        leaseSeconds,
        ...(now === undefined ? {} : { now }),
      });
      const claimed = claim.rows;
      if (claimed.length === 0) return { rows: [], now: claim.now };
      const rows = await db
        .selectFrom('deliveries')
        .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
        .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
        .leftJoin('organisations', 'organisations.id', 'learners.organisation_id')
        .leftJoin('managers', 'managers.id', 'learners.manager_id')
        .select([
          'deliveries.id',
          'enrolments.status as enrolment_status',
          'enrolments.language',
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
          // What the dispatcher would otherwise ask row by row: the steps the learner said are
          // done (a step's `when`), and the UID an invite's first sending went with.
          sql<string[]>`coalesce((
            select array_agg(done.step_key)
            from progress_events
            join deliveries as done on done.id = progress_events.delivery_id
            where progress_events.enrolment_id = enrolments.id and progress_events.kind = 'done'
          ), '{}')`.as('done_steps'),
          sql<string | null>`(
            select first.invite_uid from deliveries as first
            where first.enrolment_id = deliveries.enrolment_id
              and first.step_key = regexp_replace(deliveries.step_key, '\\.(cancel|r[0-9]+)$', '')
          )`.as('sent_invite_uid'),
        ])
        .where(
          'deliveries.id',
          'in',
          claimed.map((d) => d.id),
        )
        .execute();
      const byId = new Map(rows.map((r) => [r.id, r]));
      const deliveries = claimed.map((d) => {
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
          language: r.language,
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
          doneSteps: new Set(r.done_steps),
          sentInviteUid: d.kind === 'invite' ? (r.sent_invite_uid ?? undefined) : undefined,
        };
      });
      return { rows: deliveries, now: claim.now };
    },

    renew: (held, leaseSeconds) => renewLeases(db, held, leaseSeconds),

    fence: (held, sendLeaseSeconds) => fenceDeliveries(db, held, sendLeaseSeconds),

    settle: (settled, now) => settleDeliveries(db, settled, now),

    async databaseNow() {
      const { rows } = await sql<{ now: Date }>`select now() as now`.execute(db);
      return rows[0]!.now;
    },

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
  };
}
