import { createHmac } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { addressFingerprint, normaliseAddress } from '../consent/suppression.js';
import { GymError } from '../errors.js';
import { holdsPersonalData, learnerRecord, recordCounts } from './learner-record.js';
import type { Database } from './schema.js';

export interface ErasureResult {
  readonly erasureId: number;
  readonly fingerprint: string;
  /** What was removed or anonymised, as counts (also in the audit row). */
  readonly removed: Record<string, number>;
  /** Message-IDs of what we sent them, so the caller can remove the outbox copies. */
  readonly sentMessageIds: readonly string[];
}

/**
 * `gym learner erase`: the right to erasure (UK GDPR art. 17). In one transaction:
 *
 * - the learner row is anonymised in place (`erased-<id>@erased.invalid`, no name, role,
 *   profile, manager or zone), so the report's counts (enrolments, weeks done, replies by kind)
 *   stay, about nobody;
 * - their open programme ends and nothing more is sent: every row not sent yet is cancelled,
 *   withdrawals included (an invite's CANCEL would need their address);
 * - their replies keep their kind and outcome, and lose the sender, subject, words, raw mail and
 *   Message-ID (replaced by a keyed hash); held ones leave `gym inbox`;
 * - progress events keep kind, week and rating, and lose the words; acknowledgements lose what
 *   they quoted; a manager's notes about them lose their text;
 * - their suppressions keep scope, how and date under the address's fingerprint (see
 *   `addressFingerprint`), and one of scope `all` is added, so a re-import refuses them;
 * - an audit row says who erased, when, why and how much.
 *
 * The outbox copies (Maildir) are files: the caller removes them after the commit.
 */
export async function eraseLearner(
  db: Kysely<Database>,
  input: { email: string; secret: string; by: string; reason: string; now: Date },
): Promise<ErasureResult> {
  const address = normaliseAddress(input.email);
  const fingerprint = addressFingerprint(input.secret, address);
  const { now } = input;
  return db.transaction().execute(async (trx) => {
    const record = await learnerRecord(trx, address, input.secret);
    if (!holdsPersonalData(record))
      throw new GymError(
        'USAGE',
        record.erasures.length > 0
          ? `${address} was erased already; nothing personal is held`
          : `nothing is held about ${address}; check the address`,
      );
    const learnerId = (record.learner?.id as number | undefined) ?? -1;
    const enrolments = trx
      .selectFrom('enrolments')
      .select('id')
      .where('learner_id', '=', learnerId);
    const sentMessageIds = record.deliveries
      .map((d) => d.message_id)
      .filter((id): id is string => typeof id === 'string');

    const cancelled = await trx
      .updateTable('deliveries')
      .set({ status: 'cancelled', reason: 'the learner’s data was erased', updated_at: now })
      .where('enrolment_id', 'in', enrolments)
      .where('status', 'in', ['pending', 'claimed'])
      .executeTakeFirst();
    // Reasons may name the address ("sam@… unsubscribed on …").
    await trx
      .updateTable('deliveries')
      .set({ reason: 'the learner’s data was erased' })
      .where('enrolment_id', 'in', enrolments)
      .where('reason', 'like', `%${address}%`)
      .execute();
    const acknowledgements = await trx
      .updateTable('deliveries')
      .set({
        payload: JSON.stringify({ message: '', subject: '', inReplyTo: undefined, references: [] }),
      })
      .where('enrolment_id', 'in', enrolments)
      .where('kind', '=', 'acknowledgement')
      .executeTakeFirst();
    await trx
      .updateTable('enrolments')
      .set({ status: 'stopped', ended_at: now, updated_at: now })
      .where('learner_id', '=', learnerId)
      .where('status', 'in', ['active', 'paused'])
      .execute();
    // Words out, counts kept: the kind, week, rating and pause lengths stay for the report.
    const events = await trx
      .updateTable('progress_events')
      .set({ data: sql`data - 'text' - 'reason'` })
      .where('enrolment_id', 'in', enrolments)
      .executeTakeFirst();

    const replies = await stripInbound(trx, record.replies, input.secret, now);
    // A manager's reply about them ("Talked to Sam about…"): the note and its mail lose the words.
    await trx
      .updateTable('inbound_messages')
      .set({ raw: null, raw_cleared_at: now, summary: sql`summary - 'text'`, updated_at: now })
      .where(
        'id',
        'in',
        trx
          .selectFrom('manager_replies')
          .select('inbound_message_id')
          .where('learner_id', '=', learnerId),
      )
      .execute();
    const notes = await trx
      .updateTable('manager_replies')
      .set({ text: '' })
      .where('learner_id', '=', learnerId)
      .executeTakeFirst();

    await keepNoesUnderFingerprint(trx, address, fingerprint, now);

    if (record.learner !== undefined) {
      await trx
        .updateTable('learners')
        .set({
          email: `erased-${learnerId}@erased.invalid`,
          first_name: '',
          last_name: '',
          role: null,
          manager_id: null,
          time_zone: 'UTC',
          profile: JSON.stringify({}),
          status: 'unsubscribed',
          updated_at: now,
        })
        .where('id', '=', learnerId)
        .execute();
    }

    const removed = {
      ...recordCounts(record),
      cancelled: Number(cancelled.numUpdatedRows),
      acknowledgements: Number(acknowledgements.numUpdatedRows),
      progressEventsStripped: Number(events.numUpdatedRows),
      repliesStripped: replies,
      managerNotesCleared: Number(notes.numUpdatedRows),
    };
    const audit = await trx
      .insertInto('erasures')
      .values({
        fingerprint,
        erased_at: now,
        erased_by: input.by,
        reason: input.reason,
        removed: JSON.stringify(removed),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { erasureId: audit.id, fingerprint, removed, sentMessageIds };
  });
}

/**
 * A person's own mail, as stored inbound: it keeps its kind and outcome, and loses the sender,
 * subject, words, raw mail and Message-ID (replaced by a keyed hash); held ones leave `gym inbox`.
 * Returns how many rows it stripped.
 */
export async function stripInbound(
  trx: Transaction<Database>,
  rows: readonly Record<string, unknown>[],
  secret: string,
  now: Date,
): Promise<number> {
  let stripped = 0;
  for (const reply of rows) {
    const id = reply.id as number;
    const hashed = createHmac('sha256', secret)
      .update(`digital-gym:erased-message:v1:${String(reply.message_id)}`)
      .digest('hex')
      .slice(0, 40);
    const summary = reply.summary as Record<string, unknown> | null;
    await trx
      .updateTable('inbound_messages')
      .set({
        message_id: `<erased-${hashed}@erased.invalid>`,
        from_address: null,
        subject: null,
        raw: null,
        raw_cleared_at: now,
        summary: JSON.stringify({
          kind: summary?.kind ?? null,
          intent: (summary?.intent as { type?: unknown } | undefined)?.type ?? null,
          erased: true,
        }),
        reason: 'erased at the person’s request',
        status: sql`case when status in ('parked', 'quarantined') then 'discarded' else status end`,
        updated_at: now,
      })
      .where('id', '=', id)
      .execute();
    stripped += 1;
  }
  return stripped;
}

/**
 * The noes of an erased address stay, under its fingerprint (see `addressFingerprint`), and one
 * of scope `all` is added, so that a re-import refuses them; the words given with them go.
 */
export async function keepNoesUnderFingerprint(
  trx: Transaction<Database>,
  address: string,
  fingerprint: string,
  now: Date,
): Promise<void> {
  await trx
    .updateTable('suppressions')
    .set({ address: fingerprint, detail: null, organisation_id: null })
    .where('address', '=', address)
    // The erasure's own row below keeps its place when an active `all` is already there.
    .where((eb) =>
      eb.not(
        eb.and([
          eb('lifted_at', 'is', null),
          eb.exists(
            eb
              .selectFrom('suppressions as kept')
              .select('kept.id')
              .where('kept.address', '=', fingerprint)
              .whereRef('kept.scope', '=', 'suppressions.scope')
              .where('kept.lifted_at', 'is', null),
          ),
        ]),
      ),
    )
    .execute();
  await trx.deleteFrom('suppressions').where('address', '=', address).execute();
  await trx
    .insertInto('suppressions')
    .values({ address: fingerprint, scope: 'all', how: 'erasure', created_at: now })
    .onConflict((oc) => oc.columns(['address', 'scope']).where('lifted_at', 'is', null).doNothing())
    .execute();
}
