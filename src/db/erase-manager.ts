import type { Kysely } from 'kysely';
import { addressFingerprint, normaliseAddress } from '../consent/suppression.js';
import { GymError } from '../errors.js';
import type { ErasureResult } from './erase-learner.js';
import { keepNoesUnderFingerprint, stripInbound } from './erase-learner.js';
import { holdsManagerData, managerRecord } from './manager-record.js';
import type { Database } from './schema.js';

const erasedReason = 'the manager’s data was erased';

/**
 * `gym manager erase`: a manager's right to erasure (UK GDPR art. 17), as `eraseLearner` is a
 * learner's. In one transaction:
 *
 * - the manager row is anonymised in place (`erased-manager-<id>@erased.invalid`, no name, zone
 *   UTC, unsubscribed), so the counts of digests and replies stay, about nobody;
 * - their people stay on their programmes, no longer linked to them: no learner record names them;
 * - no introduction or digest goes to them any more (rows not sent yet are skipped);
 * - their mail to us keeps its kind and outcome and loses sender, subject, words, raw bytes and
 *   Message-ID; their notes ("talked to Sam") keep the action and lose the words;
 * - their suppressions move under the address's fingerprint, with one of scope `all`, so that a
 *   re-import that names them as a manager does not recreate them (see `enrolCohort`);
 * - an audit row says who erased, when, why and how much.
 *
 * The outbox copies of what we sent them (Maildir) are files: the caller removes them after the
 * commit, by the Message-IDs returned.
 */
export async function eraseManager(
  db: Kysely<Database>,
  input: { email: string; secret: string; by: string; reason: string; now: Date },
): Promise<ErasureResult> {
  const address = normaliseAddress(input.email);
  const fingerprint = addressFingerprint(input.secret, address);
  const { now } = input;
  return db.transaction().execute(async (trx) => {
    const record = await managerRecord(trx, address, input.secret);
    if (!holdsManagerData(record))
      throw new GymError(
        'USAGE',
        record.erasures.length > 0
          ? `${address} was erased already; nothing personal is held`
          : `no manager at ${address}; check the address`,
      );
    const managerId = (record.manager?.id as number | undefined) ?? -1;
    const sentMessageIds = [...record.introductions, ...record.digests]
      .map((d) => d.message_id)
      .filter((id): id is string => typeof id === 'string');

    const unsentDigests = await trx
      .updateTable('manager_digests')
      .set({ status: 'skipped', reason: erasedReason, claimed_by: null, lease_until: null })
      .where('manager_id', '=', managerId)
      .where('status', 'in', ['pending', 'claimed'])
      .executeTakeFirst();
    await trx
      .updateTable('manager_introductions')
      .set({ status: 'skipped', reason: erasedReason, claimed_by: null, lease_until: null })
      .where('manager_id', '=', managerId)
      .where('status', 'in', ['pending', 'claimed'])
      .execute();
    const replies = await stripInbound(trx, record.replies, input.secret, now);
    const notes = await trx
      .updateTable('manager_replies')
      .set({ text: '' })
      .where('manager_id', '=', managerId)
      .executeTakeFirst();
    const learners = await trx
      .updateTable('learners')
      .set({ manager_id: null, updated_at: now })
      .where('manager_id', '=', managerId)
      .executeTakeFirst();
    await keepNoesUnderFingerprint(trx, address, fingerprint, now);
    if (record.manager !== undefined) {
      await trx
        .updateTable('managers')
        .set({
          email: `erased-manager-${managerId}@erased.invalid`,
          name: '',
          time_zone: 'UTC',
          status: 'unsubscribed',
          updated_at: now,
        })
        .where('id', '=', managerId)
        .execute();
    }

    const removed = {
      manager: record.manager === undefined ? 0 : 1,
      learnersUnlinked: Number(learners.numUpdatedRows),
      introductions: record.introductions.length,
      digests: record.digests.length,
      digestsNotSent: Number(unsentDigests.numUpdatedRows),
      replies: record.replies.length,
      repliesStripped: replies,
      managerNotesCleared: Number(notes.numUpdatedRows),
      suppressions: record.suppressions.length,
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
