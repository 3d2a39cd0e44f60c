import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { EnrolmentStore } from '../engine/enrol.js';
import type { Database } from './schema.js';
import { consentReader } from './suppression-store.js';

/** Organisation ids are slugs of their names: "Department for Business and Trade" -> "department-for-business-and-trade". */
function organisationId(name: string): string {
  return (
    name
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/&/g, ' and ')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'organisation'
  );
}

/** PostgreSQL's serialization_failure and deadlock_detected: the transaction may simply run again. */
const retryableCodes = new Set(['40001', '40P01']);

/**
 * Runs a whole enrolment transaction again when PostgreSQL chose it as the victim of a deadlock
 * or a serialisation conflict: two `gym enrol` runs that share managers lock the same rows in
 * different orders, and one of them is rolled back (#16). All or nothing, so running it again is
 * safe; the other run has usually finished by then.
 */
async function retryingConflicts<T>(attempt: () => Promise<T>, tries = 8): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const code = (error as { code?: unknown } | undefined)?.code;
      if (n >= tries || typeof code !== 'string' || !retryableCodes.has(code)) throw error;
      // Jittered, so that two losers do not meet again at once.
      await sleep(Math.random() * 100 * n);
    }
  }
}

/** The enrolment use case's storage, over Kysely (PostgreSQL or PGlite). */
export function enrolmentStore(db: Kysely<Database> | Transaction<Database>): EnrolmentStore {
  return {
    ...consentReader(db),

    transaction: async (work) => {
      if (db.isTransaction) return work(enrolmentStore(db));
      const result = await retryingConflicts(() =>
        db.transaction().execute((trx) => work(enrolmentStore(trx))),
      );
      // A cohort import is a bulk load (36 deliveries a learner): fresh statistics keep the
      // planner from choosing a scan of the whole plan for the next reply or claim, before
      // autovacuum gets round to it.
      await sql`analyze learners, enrolments, deliveries`.execute(db);
      return result;
    },

    async saveManager({ email, name, timeZone, explicit }) {
      const row = await db
        .insertInto('managers')
        .values({ email, name, time_zone: timeZone })
        .onConflict((oc) =>
          oc
            .column('email')
            .doUpdateSet(
              explicit
                ? { name, time_zone: timeZone, updated_at: sql`now()` }
                : { name, updated_at: sql`now()` },
            ),
        )
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },

    async saveLearner(profile, managerId) {
      let organisation: string | null = null;
      if (profile.organisation) {
        organisation = organisationId(profile.organisation);
        const zone = profile.organisation_time_zone;
        await db
          .insertInto('organisations')
          .values({ id: organisation, name: profile.organisation, time_zone: zone ?? null })
          .onConflict((oc) =>
            zone === undefined
              ? oc.column('id').doNothing()
              : oc.column('id').doUpdateSet({ time_zone: zone }),
          )
          .execute();
      }
      const fields = {
        first_name: profile.first_name,
        last_name: profile.last_name,
        time_zone: profile.time_zone,
        role: profile.role,
        organisation_id: organisation,
        manager_id: managerId,
        profile: JSON.stringify({
          confidence: profile.confidence,
          barriers: profile.barriers,
          goals: profile.goals,
          share_with_manager: profile.share_with_manager,
          cohort: profile.cohort,
          ...profile.fields,
        }),
      };
      // xmax = 0 only for a row this statement inserted: tells a new learner from an update.
      const row = await db
        .insertInto('learners')
        .values({ email: profile.email, ...fields })
        .onConflict((oc) => oc.column('email').doUpdateSet({ ...fields, updated_at: sql`now()` }))
        .returning(['id', sql<boolean>`xmax = 0`.as('created')])
        .executeTakeFirstOrThrow();
      return { id: row.id, created: row.created };
    },

    async organisationTimeZone(organisation) {
      const row = await db
        .selectFrom('organisations')
        .select('time_zone')
        .where('id', '=', organisationId(organisation))
        .executeTakeFirst();
      return row?.time_zone ?? undefined;
    },

    async findLearnerId(email) {
      const row = await db
        .selectFrom('learners')
        .select('id')
        .where('email', '=', email)
        .executeTakeFirst();
      return row?.id;
    },

    async openEnrolment(learnerId) {
      const row = await db
        .selectFrom('enrolments')
        .innerJoin('sequence_versions', 'sequence_versions.id', 'enrolments.sequence_version_id')
        .select(['sequence_versions.sequence_id', 'enrolments.starts_on'])
        .where('enrolments.learner_id', '=', learnerId)
        .where('enrolments.status', 'in', ['active', 'paused'])
        .executeTakeFirst();
      return row === undefined
        ? undefined
        : { programmeId: row.sequence_id, startsOn: row.starts_on };
    },

    async saveProgrammeVersion({ sequence, hash }) {
      await db
        .insertInto('sequences')
        .values({ id: sequence.id, title: sequence.title })
        .onConflict((oc) => oc.column('id').doUpdateSet({ title: sequence.title }))
        .execute();
      const row = await db
        .insertInto('sequence_versions')
        .values({
          sequence_id: sequence.id,
          content_hash: hash,
          definition: JSON.stringify(sequence),
        })
        // A no-op update so that RETURNING gives the existing row's id too.
        .onConflict((oc) =>
          oc.columns(['sequence_id', 'content_hash']).doUpdateSet({ content_hash: hash }),
        )
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },

    async createEnrolment({ learnerId, versionId, cohort, startsOn, matchReason, deliveries }) {
      const enrolment = await db
        .insertInto('enrolments')
        .values({
          learner_id: learnerId,
          sequence_version_id: versionId,
          cohort: cohort ?? null,
          starts_on: startsOn,
          match_reason: matchReason,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (deliveries.length > 0) {
        await db
          .insertInto('deliveries')
          .values(
            deliveries.map((d) => ({
              enrolment_id: enrolment.id,
              step_key: d.stepKey,
              kind: d.kind,
              week: d.week,
              due_at: d.sendAt,
              starts_at: d.startsAt ?? null,
              planned_local: d.planned,
            })),
          )
          .execute();
      }
      return enrolment.id;
    },
  };
}
