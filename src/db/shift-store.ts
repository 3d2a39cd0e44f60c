import type { Kysely, Transaction } from 'kysely';
import type { ShiftStore, StoredStep } from '../engine/shift.js';
import type { Sequence } from '../sequence/schema.js';
import { updatedKeyOf, updateKey } from '../planner/step-key.js';
import type { Database } from './schema.js';

/** Storage for changes of plan (pause, resume), over Kysely. */
export function shiftStore(db: Kysely<Database> | Transaction<Database>): ShiftStore {
  return {
    transaction: (work) =>
      db.isTransaction
        ? work(shiftStore(db))
        : db.transaction().execute((trx) => work(shiftStore(trx))),

    async plan(enrolmentId) {
      const enrolment = await db
        .selectFrom('enrolments')
        .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
        .innerJoin('sequence_versions', 'sequence_versions.id', 'enrolments.sequence_version_id')
        .select(['learners.time_zone', 'sequence_versions.definition'])
        .where('enrolments.id', '=', enrolmentId)
        // Serialises changes of plan of one enrolment (two replies read at once).
        .forUpdate()
        .executeTakeFirstOrThrow();
      const rows = await db
        .selectFrom('deliveries')
        .select([
          'id',
          'step_key',
          'week',
          'kind',
          'status',
          'due_at',
          'starts_at',
          'planned_local',
          'invite_sequence',
        ])
        .where('enrolment_id', '=', enrolmentId)
        .where('method', '=', 'REQUEST')
        // Acknowledgements answer replies; they are not part of the plan and never move.
        .where('kind', '!=', 'acknowledgement')
        .orderBy('id')
        .execute();
      const latestUpdate = new Map<string, (typeof rows)[number]>();
      for (const row of rows) {
        const base = updatedKeyOf(row.step_key);
        if (
          base !== undefined &&
          row.invite_sequence >= (latestUpdate.get(base)?.invite_sequence ?? 0)
        ) {
          latestUpdate.set(base, row);
        }
      }
      // The plan's own rows, in the order they were planned (ids follow the planner's order).
      const steps = rows
        .filter((row) => !row.step_key.includes('.'))
        .map((row): StoredStep => {
          const update = latestUpdate.get(row.step_key);
          const current = update ?? row;
          return {
            id: row.id,
            stepKey: row.step_key,
            week: row.week,
            kind: row.kind === 'invite' ? 'invite' : 'email',
            status: row.status,
            moment: current.starts_at ?? current.due_at,
            plannedLocal: current.planned_local,
            inviteSequence: Math.max(row.invite_sequence, update?.invite_sequence ?? 0),
            pendingUpdateId: update?.status === 'pending' ? update.id : undefined,
          };
        });
      return { sequence: enrolment.definition as Sequence, zone: enrolment.time_zone, steps };
    },

    async applyPlanChange(enrolmentId, { moved, updates }, now) {
      for (const row of moved) {
        await db
          .updateTable('deliveries')
          .set({
            due_at: row.dueAt,
            starts_at: row.startsAt ?? null,
            planned_local: row.plannedLocal,
            updated_at: now,
          })
          .where('id', '=', row.id)
          .where('status', '=', 'pending')
          .execute();
      }
      for (const update of updates) {
        const values = {
          due_at: now,
          starts_at: update.startsAt,
          planned_local: update.plannedLocal,
        };
        if (update.replaces !== undefined) {
          await db
            .updateTable('deliveries')
            .set({ ...values, updated_at: now })
            .where('id', '=', update.replaces)
            .execute();
        } else {
          await db
            .insertInto('deliveries')
            .values({
              ...values,
              enrolment_id: enrolmentId,
              step_key: updateKey(update.stepKey, update.inviteSequence),
              week: update.week,
              kind: 'invite',
              invite_sequence: update.inviteSequence,
            })
            .execute();
        }
      }
    },

    async recordPause(enrolmentId, pause) {
      // The enrolment stays active: its plan now waits until resumeAt by itself, and nothing is
      // due before then. The pause fields tell reports, digests and an early resume.
      await db
        .updateTable('enrolments')
        .set({
          paused_at: pause?.pausedAt ?? null,
          paused_until: pause?.resumeAt ?? null,
          paused_weeks: pause?.weeks ?? 0,
          updated_at: pause?.pausedAt ?? new Date(),
        })
        .where('id', '=', enrolmentId)
        .execute();
    },

    async pausedWeeks(enrolmentId) {
      const row = await db
        .selectFrom('enrolments')
        .select('paused_weeks')
        .where('id', '=', enrolmentId)
        .executeTakeFirstOrThrow();
      return row.paused_weeks;
    },
  };
}
