import type { Kysely, Transaction } from 'kysely';
import { addressFingerprint, normaliseAddress } from '../consent/suppression.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Everything held about one manager, by their address: what a subject access request asks for
 * (`gym manager export`), as `learnerRecord` is for a learner. Plain rows as stored, with raw
 * mail as base64. After an erasure, found by the address's fingerprint: the audit rows and the
 * suppressions it kept, and nothing else.
 */
export interface ManagerRecord {
  readonly address: string;
  readonly manager: Record<string, unknown> | undefined;
  /** The people they manage, by name, with their programmes' status. */
  readonly learners: Record<string, unknown>[];
  readonly introductions: Record<string, unknown>[];
  /** Digests sent (or tried), with their Message-IDs. */
  readonly digests: Record<string, unknown>[];
  /** Their mail to us, text and raw bytes. */
  readonly replies: Record<string, unknown>[];
  /** What their replies recorded ("talked to Sam"). */
  readonly notes: Record<string, unknown>[];
  readonly suppressions: Record<string, unknown>[];
  readonly erasures: Record<string, unknown>[];
}

export async function managerRecord(db: Db, email: string, secret: string): Promise<ManagerRecord> {
  const address = normaliseAddress(email);
  const fingerprint = addressFingerprint(secret, address);
  const manager = await db
    .selectFrom('managers')
    .selectAll()
    .where('email', '=', address)
    .executeTakeFirst();
  const id = manager?.id ?? -1;
  const learners = await db
    .selectFrom('learners')
    .leftJoin('enrolments', 'enrolments.learner_id', 'learners.id')
    .leftJoin('sequence_versions', 'sequence_versions.id', 'enrolments.sequence_version_id')
    .select([
      'learners.id',
      'learners.first_name',
      'learners.last_name',
      'sequence_versions.sequence_id as programme',
      'enrolments.status as enrolment_status',
    ])
    .where('learners.manager_id', '=', id)
    .orderBy('learners.id')
    .orderBy('enrolments.id')
    .execute();
  const introductions = await db
    .selectFrom('manager_introductions')
    .select(['id', 'status', 'message_id', 'sent_at', 'reason'])
    .where('manager_id', '=', id)
    .orderBy('id')
    .execute();
  const digests = await db
    .selectFrom('manager_digests')
    .select(['id', 'period_starts_on', 'status', 'message_id', 'sent_at', 'learners', 'reason'])
    .where('manager_id', '=', id)
    .orderBy('id')
    .execute();
  const replies = await db
    .selectFrom('inbound_messages')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb('from_address', '=', address),
        eb(
          'id',
          'in',
          eb
            .selectFrom('manager_replies')
            .select('inbound_message_id')
            .where('manager_id', '=', id),
        ),
      ]),
    )
    .orderBy('id')
    .execute();
  const notes = await db
    .selectFrom('manager_replies')
    .leftJoin('learners', 'learners.id', 'manager_replies.learner_id')
    .select([
      'manager_replies.id',
      'manager_replies.digest_id',
      'manager_replies.action',
      'manager_replies.text',
      'manager_replies.occurred_at',
      'learners.first_name as about_first_name',
      'learners.last_name as about_last_name',
    ])
    .where('manager_replies.manager_id', '=', id)
    .orderBy('manager_replies.id')
    .execute();
  const suppressions = await db
    .selectFrom('suppressions')
    .selectAll()
    .where('address', 'in', [address, fingerprint])
    .orderBy('id')
    .execute();
  const erasures = await db
    .selectFrom('erasures')
    .selectAll()
    .where('fingerprint', '=', fingerprint)
    .orderBy('id')
    .execute();
  return {
    address,
    manager,
    learners,
    introductions,
    digests,
    replies: replies.map(({ raw, summary, ...reply }) => ({
      ...reply,
      text: typeof summary?.text === 'string' ? summary.text : null,
      summary,
      raw: raw === null ? null : Buffer.from(raw).toString('base64'),
    })),
    notes,
    suppressions,
    erasures,
  };
}

/** True when the record holds anything about the manager beyond the fact of an erasure. */
export function holdsManagerData(record: ManagerRecord): boolean {
  return (
    record.manager !== undefined ||
    record.replies.length > 0 ||
    record.suppressions.some((s) => s.address === record.address)
  );
}
