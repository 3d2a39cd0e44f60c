import type { Kysely, Transaction } from 'kysely';
import { addressFingerprint, normaliseAddress } from '../consent/suppression.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Everything held about one person, by their address: what a subject access request asks for
 * (`gym learner export`), and what `gym learner show` summarises. Plain rows as stored, with raw
 * mail as base64. Found by the address and by its fingerprint (the suppressions and audit rows an
 * erasure left), so after an erasure it says that an erasure happened, and holds nothing else.
 */
export interface LearnerRecord {
  readonly address: string;
  readonly learner: Record<string, unknown> | undefined;
  readonly manager: Record<string, unknown> | undefined;
  readonly organisation: Record<string, unknown> | undefined;
  readonly enrolments: Record<string, unknown>[];
  readonly deliveries: Record<string, unknown>[];
  readonly progressEvents: Record<string, unknown>[];
  readonly replies: Record<string, unknown>[];
  readonly suppressions: Record<string, unknown>[];
  readonly managerNotes: Record<string, unknown>[];
  readonly erasures: Record<string, unknown>[];
}

/** Reads the record of `email`; `secret` finds what an erasure kept under the fingerprint. */
export async function learnerRecord(db: Db, email: string, secret: string): Promise<LearnerRecord> {
  const address = normaliseAddress(email);
  const fingerprint = addressFingerprint(secret, address);
  const learner = await db
    .selectFrom('learners')
    .selectAll()
    .where('email', '=', address)
    .executeTakeFirst();
  const id = learner?.id ?? -1;
  const manager =
    learner?.manager_id == null
      ? undefined
      : await db
          .selectFrom('managers')
          .select(['id', 'name', 'email', 'time_zone'])
          .where('id', '=', learner.manager_id)
          .executeTakeFirst();
  const organisation =
    learner?.organisation_id == null
      ? undefined
      : await db
          .selectFrom('organisations')
          .select(['id', 'name'])
          .where('id', '=', learner.organisation_id)
          .executeTakeFirst();
  const enrolments = await db
    .selectFrom('enrolments')
    .innerJoin('sequence_versions', 'sequence_versions.id', 'enrolments.sequence_version_id')
    .selectAll('enrolments')
    .select(['sequence_versions.sequence_id as programme', 'sequence_versions.content_hash'])
    .where('learner_id', '=', id)
    .orderBy('enrolments.id')
    .execute();
  const enrolmentIds = enrolments.length === 0 ? [-1] : enrolments.map((e) => e.id);
  const deliveries = await db
    .selectFrom('deliveries')
    .selectAll()
    .where('enrolment_id', 'in', enrolmentIds)
    .orderBy('id')
    .execute();
  const progressEvents = await db
    .selectFrom('progress_events')
    .selectAll()
    .where('enrolment_id', 'in', enrolmentIds)
    .orderBy('id')
    .execute();
  const replies = await db
    .selectFrom('inbound_messages')
    .selectAll()
    .where((eb) => eb.or([eb('learner_id', '=', id), eb('from_address', '=', address)]))
    .orderBy('id')
    .execute();
  const suppressions = await db
    .selectFrom('suppressions')
    .selectAll()
    .where('address', 'in', [address, fingerprint])
    .orderBy('id')
    .execute();
  const managerNotes = await db
    .selectFrom('manager_replies')
    .innerJoin('managers', 'managers.id', 'manager_replies.manager_id')
    .select([
      'manager_replies.id',
      'managers.name as manager',
      'manager_replies.action',
      'manager_replies.text',
      'manager_replies.occurred_at',
    ])
    .where('manager_replies.learner_id', '=', id)
    .orderBy('manager_replies.id')
    .execute();
  const erasures = await db
    .selectFrom('erasures')
    .selectAll()
    .where('fingerprint', '=', fingerprint)
    .orderBy('id')
    .execute();
  return {
    address,
    learner,
    manager,
    organisation,
    enrolments,
    deliveries,
    progressEvents,
    replies: replies.map(({ raw, summary, ...reply }) => ({
      ...reply,
      text: typeof summary?.text === 'string' ? summary.text : null,
      summary,
      raw: raw === null ? null : Buffer.from(raw).toString('base64'),
    })),
    suppressions,
    managerNotes,
    erasures,
  };
}

/** True when the record holds anything about a person beyond the fact of an erasure. */
export function holdsPersonalData(record: LearnerRecord): boolean {
  return (
    record.learner !== undefined ||
    record.replies.length > 0 ||
    record.suppressions.some((s) => s.address === record.address)
  );
}

/** Counts of a record, for the audit row of an erasure. */
export function recordCounts(record: LearnerRecord): Record<string, number> {
  return {
    enrolments: record.enrolments.length,
    deliveries: record.deliveries.length,
    progressEvents: record.progressEvents.length,
    replies: record.replies.length,
    suppressions: record.suppressions.length,
    managerNotes: record.managerNotes.length,
  };
}
