import { sql, type Kysely, type Transaction } from 'kysely';
import type { ReplyStore } from '../engine/replies.js';
import type { SentContext } from '../replies/decide.js';
import type { Intent } from '../replies/types.js';
import { messageKey, storableText } from '../replies/storable.js';
import { acknowledgementKey, planKey } from '../planner/step-key.js';
import type { Sequence } from '../sequence/schema.js';
import { withdrawInvites } from './end-enrolment.js';
import {
  markLearnerBounced,
  stopProgramme,
  unsubscribeLearner,
  unsubscribeManager,
} from './opt-out.js';
import type { Database } from './schema.js';
import { programmeVersions } from './programme-versions.js';
import { shiftStore } from './shift-store.js';

type Db = Kysely<Database> | Transaction<Database>;

// PostgreSQL refuses U+0000 and lone surrogates in text and jsonb, and decoding puts them in mail
// easily (`=00`, an encoded word in UTF-16): every string stored goes through storableText, and
// every Message-ID through messageKey (a hash when too long for the unique index), so such a
// message is still recorded (#16).
const withoutNul = storableText;
const optionalText = (text: string | undefined) => (text === undefined ? null : withoutNul(text));
const json = (value: unknown) =>
  JSON.stringify(value, (_, v: unknown) => (typeof v === 'string' ? withoutNul(v) : v));

/**
 * The reply handler's storage, over Kysely (PostgreSQL or PGlite). Programme versions are read
 * once per process (`read` is shared by the stores of every transaction), not per reply.
 */
export function replyStore(db: Db, read: Map<number, Promise<Sequence>> = new Map()): ReplyStore {
  const programmes = programmeVersions(db, read);
  const sentContext = () =>
    db
      .selectFrom('deliveries')
      .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .select([
        'deliveries.id as deliveryId',
        'enrolments.id as enrolmentId',
        'enrolments.status as enrolmentStatus',
        'enrolments.sequence_version_id as versionId',
        'learners.id as learnerId',
        'learners.email as learnerEmail',
        'learners.time_zone as zone',
        'deliveries.week',
      ]);
  const one = async (
    row: (Omit<SentContext, 'totalWeeks'> & { versionId: number }) | undefined,
  ): Promise<SentContext | undefined> => {
    if (row === undefined) return undefined;
    const { versionId, ...sent } = row;
    return { ...sent, totalWeeks: (await programmes(versionId)).weeks.length };
  };

  return {
    transaction: (work) =>
      db.isTransaction
        ? work(replyStore(db, read))
        : db.transaction().execute((trx) => work(replyStore(trx, read))),

    async recordInbound(record) {
      const inserted = await db
        .insertInto('inbound_messages')
        .values({
          message_id: messageKey(record.messageId),
          mailbox: record.mailbox,
          uid: record.uid ?? null,
          received_at: record.receivedAt,
          from_address: optionalText(record.from),
          subject: optionalText(record.subject),
          classification: record.classification,
          summary: json(record.summary),
        })
        // The same message read twice (a restart, a rescan after UIDVALIDITY changed) is one row.
        .onConflict((oc) => oc.column('message_id').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted !== undefined) return inserted;
      const existing = await db
        .selectFrom('inbound_messages')
        .select(['status', 'classification', sql<boolean>`summary ? 'repairs'`.as('repaired')])
        .where('message_id', '=', messageKey(record.messageId))
        .executeTakeFirstOrThrow();
      return {
        duplicateOf: existing.status,
        unreadable: existing.classification === 'unknown' || existing.repaired === true,
      };
    },

    async settleInbound(id, outcome, now) {
      await db
        .updateTable('inbound_messages')
        .set({
          status: outcome.status,
          reason: optionalText(outcome.reason),
          learner_id: outcome.learnerId ?? null,
          delivery_id: outcome.deliveryId ?? null,
          ...('raw' in outcome ? { raw: outcome.raw } : {}),
          updated_at: now,
        })
        .where('id', '=', id)
        .execute();
    },

    async sent(by) {
      if ('deliveryId' in by)
        return one(
          await sentContext()
            .where('deliveries.id', '=', by.deliveryId)
            .where('deliveries.status', '=', 'sent')
            .executeTakeFirst(),
        );
      if ('inviteUid' in by)
        return one(
          await sentContext().where('deliveries.invite_uid', '=', by.inviteUid).executeTakeFirst(),
        );
      return one(
        await sentContext()
          .where('learners.email', '=', by.email)
          .where('deliveries.status', '=', 'sent')
          // The open enrolment first, then the latest; within it the latest message sent.
          .orderBy(sql`enrolments.status in ('active', 'paused')`, 'desc')
          .orderBy('enrolments.id', 'desc')
          .orderBy('deliveries.sent_at', 'desc')
          .orderBy('deliveries.id', 'desc')
          .limit(1)
          .executeTakeFirst(),
      );
    },

    async assignmentOf(enrolmentId, week) {
      const enrolment = await db
        .selectFrom('enrolments')
        .select('sequence_version_id')
        .where('id', '=', enrolmentId)
        .executeTakeFirstOrThrow();
      const steps = (await programmes(enrolment.sequence_version_id)).weeks.find(
        (w) => w.week === week,
      )?.steps;
      const step =
        steps?.find((s) => s.email?.assignment !== undefined) ?? steps?.find((s) => s.email);
      if (step === undefined) return undefined;
      const delivery = await db
        .selectFrom('deliveries')
        .select('id')
        .where('enrolment_id', '=', enrolmentId)
        .where('step_key', '=', planKey(week, step.id))
        .executeTakeFirst();
      return delivery?.id;
    },

    async addProgress(event) {
      await db
        .insertInto('progress_events')
        .values({
          enrolment_id: event.enrolmentId,
          delivery_id: event.deliveryId ?? null,
          inbound_message_id: event.inboundId,
          kind: event.kind,
          data: json(event.data),
          occurred_at: event.occurredAt,
        })
        .onConflict((oc) => oc.columns(['inbound_message_id', 'kind']).doNothing())
        .execute();
    },

    async progressOf(enrolmentId, week) {
      const rows = await db
        .selectFrom('progress_events')
        .select(sql<string>`distinct data ->> 'week'`.as('week'))
        .where('enrolment_id', '=', enrolmentId)
        .where('kind', '=', 'done')
        .execute();
      return {
        weeksDone: rows.length,
        thisWeekDone: rows.some((r) => r.week === String(week)),
      };
    },

    async proposalOf(inboundId) {
      const row = await db
        .selectFrom('inbound_messages')
        .select([
          'delivery_id',
          'summary',
          (eb) =>
            eb
              .exists(
                eb
                  .selectFrom('progress_events')
                  .select('id')
                  .where('inbound_message_id', '=', inboundId),
              )
              .as('answered'),
        ])
        .where('id', '=', inboundId)
        .executeTakeFirst();
      const intent = row?.summary?.intent as Intent | undefined;
      if (row?.delivery_id == null || intent === undefined) return undefined;
      const text = row.summary?.text;
      return {
        inboundId,
        deliveryId: row.delivery_id,
        intent,
        text: typeof text === 'string' ? text : '',
        answered: Boolean(row.answered),
      };
    },

    async skipWeek(enrolmentId, week, now) {
      const skipped = await db
        .updateTable('deliveries')
        .set({ status: 'skipped', reason: `the learner skipped week ${week}`, updated_at: now })
        .where('enrolment_id', '=', enrolmentId)
        .where('week', '=', week)
        .where('status', '=', 'pending')
        .where('kind', '!=', 'acknowledgement')
        // A withdrawal already queued (a second "skip") must still go out.
        .where('method', '!=', 'CANCEL')
        .executeTakeFirst();
      const enrolment = db.selectFrom('enrolments').select('id').where('id', '=', enrolmentId);
      await withdrawInvites(db, enrolment, { after: now, now, week });
      return Number(skipped.numUpdatedRows);
    },

    async stopEnrolment(enrolmentId, reason, now) {
      await stopProgramme(db, enrolmentId, { how: 'reply', reason, now });
    },

    async unsubscribe(learnerId, now, how) {
      await unsubscribeLearner(db, learnerId, how, now);
    },

    async softBouncesOf(learnerId) {
      const row = await db
        .selectFrom('inbound_messages')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('learner_id', '=', learnerId)
        .where('classification', '=', 'bounce')
        .where('status', '=', 'processed')
        .where('reason', 'like', 'soft bounce%')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async markBounced(learnerId, reason, now) {
      // The dispatcher sends nothing more to a bounced address; its rows end as cancelled.
      await markLearnerBounced(db, learnerId, reason, now);
    },

    async unsubscribeManager(managerId, how, now) {
      await unsubscribeManager(db, managerId, how, now);
    },

    async manager(by) {
      const row =
        'digestId' in by
          ? await db
              .selectFrom('manager_digests')
              .select('manager_id as id')
              .where('id', '=', by.digestId)
              .executeTakeFirst()
          : 'introductionId' in by
            ? await db
                .selectFrom('manager_introductions')
                .select('manager_id as id')
                .where('id', '=', by.introductionId)
                .executeTakeFirst()
            : await db
                .selectFrom('managers')
                .select('id')
                .where('email', '=', by.email.toLowerCase())
                .executeTakeFirst();
      if (row === undefined) return undefined;
      const team = await db
        .selectFrom('learners')
        .select(['id as learnerId', 'first_name as firstName', 'last_name as lastName'])
        .where('manager_id', '=', row.id)
        .execute();
      return { managerId: row.id, team };
    },

    async acknowledgementsSince(learnerId, since) {
      const row = await db
        .selectFrom('deliveries')
        .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('enrolments.learner_id', '=', learnerId)
        .where('deliveries.kind', '=', 'acknowledgement')
        .where('deliveries.due_at', '>=', since)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    async queueAcknowledgement(ack, now) {
      await db
        .insertInto('deliveries')
        .values({
          enrolment_id: ack.enrolmentId,
          step_key: acknowledgementKey(ack.inboundId),
          week: ack.week,
          kind: 'acknowledgement',
          due_at: now,
          planned_local: '',
          payload: json(ack.payload),
        })
        .onConflict((oc) => oc.columns(['enrolment_id', 'step_key']).doNothing())
        .execute();
    },

    shifts: () => shiftStore(db),

    async addManagerReply(reply) {
      await db
        .insertInto('manager_replies')
        .values({
          manager_id: reply.managerId,
          inbound_message_id: reply.inboundId,
          digest_id: reply.digestId ?? null,
          learner_id: reply.learnerId ?? null,
          action: reply.action,
          text: withoutNul(reply.text),
          occurred_at: reply.occurredAt,
        })
        .onConflict((oc) => oc.column('inbound_message_id').doNothing())
        .execute();
    },
  };
}
