import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { EnrolmentStore, KnownLearner } from '../engine/enrol.js';
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

/**
 * The enrolment use case's storage, over Kysely (PostgreSQL or PGlite). With the instance's
 * `secret`, erased people (kept only as a fingerprint of their address) are refused as suppressed.
 */
export function enrolmentStore(
  db: Kysely<Database> | Transaction<Database>,
  options: { secret?: string | undefined } = {},
): EnrolmentStore {
  return {
    ...consentReader(db, options),

    transaction: async (work) => {
      if (db.isTransaction) return work(enrolmentStore(db, options));
      const result = await retryingConflicts(() =>
        db.transaction().execute(async (trx) => {
          // One import at a time: two imports that share managers would otherwise lock the same
          // rows in different orders. Imports are rare, so waiting costs nothing, and a loaded
          // machine can no longer exhaust the retries below (#16).
          await sql`select pg_advisory_xact_lock(hashtext('gym-enrol'))`.execute(trx);
          return work(enrolmentStore(trx, options));
        }),
      );
      // A cohort import is a bulk load (36 deliveries a learner): fresh statistics keep the
      // planner from choosing a scan of the whole plan for the next reply or claim, before
      // autovacuum gets round to it.
      await sql`analyze learners, enrolments, deliveries`.execute(db);
      return result;
    },

    async saveManager({ email, name, timeZone, explicit, language }) {
      const row = await db
        .insertInto('managers')
        .values({ email, name, time_zone: timeZone, language: language.value })
        .onConflict((oc) =>
          oc.column('email').doUpdateSet({
            name,
            // A zone or language the file gave replaces the stored one; a fallback never does.
            ...(explicit ? { time_zone: timeZone } : {}),
            ...(language.given ? { language: language.value } : {}),
            updated_at: sql`now()`,
          }),
        )
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },

    async saveLearner(profile, managerId, language, organisationLanguage) {
      let organisation: string | null = null;
      if (profile.organisation) {
        organisation = organisationId(profile.organisation);
        const zone = profile.organisation_time_zone;
        await db
          .insertInto('organisations')
          .values({
            id: organisation,
            name: profile.organisation,
            language: organisationLanguage ?? null,
            time_zone: zone ?? null,
          })
          .onConflict((oc) =>
            organisationLanguage === undefined && zone === undefined
              ? oc.column('id').doNothing()
              : oc.column('id').doUpdateSet({
                  ...(organisationLanguage === undefined ? {} : { language: organisationLanguage }),
                  ...(zone === undefined ? {} : { time_zone: zone }),
                }),
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
        .values({ email: profile.email, ...fields, language: language.value })
        .onConflict((oc) =>
          oc.column('email').doUpdateSet({
            ...fields,
            ...(language.given ? { language: language.value } : {}),
            updated_at: sql`now()`,
          }),
        )
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

    async organisationLanguage(name) {
      const row = await db
        .selectFrom('organisations')
        .select('language')
        .where('id', '=', organisationId(name))
        .executeTakeFirst();
      return row?.language ?? undefined;
    },

    async knownLearners(emails) {
      const known = new Map<string, KnownLearner>();
      if (emails.length === 0) return known;
      const rows = await db
        .selectFrom('learners')
        .leftJoin('enrolments', (join) =>
          join
            .onRef('enrolments.learner_id', '=', 'learners.id')
            .on('enrolments.status', 'in', ['active', 'paused']),
        )
        .leftJoin('sequence_versions', 'sequence_versions.id', 'enrolments.sequence_version_id')
        .select([
          'learners.id',
          'learners.email',
          'sequence_versions.sequence_id',
          'enrolments.starts_on',
        ])
        .where('learners.email', 'in', [...new Set(emails)])
        .execute();
      for (const row of rows) {
        known.set(row.email, {
          learnerId: row.id,
          open:
            row.sequence_id === null || row.starts_on === null
              ? undefined
              : { programmeId: row.sequence_id, startsOn: row.starts_on },
        });
      }
      return known;
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

    async createEnrolment({
      learnerId,
      versionId,
      cohort,
      startsOn,
      matchReason,
      language,
      deliveries,
    }) {
      const enrolment = await db
        .insertInto('enrolments')
        .values({
          learner_id: learnerId,
          sequence_version_id: versionId,
          cohort: cohort ?? null,
          starts_on: startsOn,
          match_reason: matchReason,
          language,
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
