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
import { moveEnrolment, openEnrolmentOf } from './learner-actions.js';
import type { LearnerProfile } from '../enrol/profile.js';

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
        'deliveries.kind as deliveryKind',
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

    // The batch forms, for handleInboundBatch: the same rows as the one-at-a-time methods above
    // write and read, in one statement each for a whole batch of replies.

    async recordInboundMany(records) {
      if (records.length === 0) return [];
      const inserted = await db
        .insertInto('inbound_messages')
        .values(
          records.map((record) => ({
            message_id: messageKey(record.messageId),
            mailbox: record.mailbox,
            uid: record.uid ?? null,
            received_at: record.receivedAt,
            from_address: optionalText(record.from),
            subject: optionalText(record.subject),
            classification: record.classification,
            summary: json(record.summary),
          })),
        )
        .onConflict((oc) => oc.column('message_id').doNothing())
        .returning(['id', 'message_id'])
        .execute();
      const ids = new Map(inserted.map((row) => [row.message_id, row.id]));
      return records.map((record) => ids.get(messageKey(record.messageId)));
    },

    async prefetch({ deliveryIds, since }) {
      const sent = new Map<number, SentContext>();
      const weeksDone = new Map<number, Set<string>>();
      const acknowledgements = new Map<number, number>();
      const assignments = new Map<string, number | undefined>();
      if (deliveryIds.length === 0) return { sent, weeksDone, acknowledgements, assignments };
      const rows = await sentContext()
        .where('deliveries.id', 'in', [...new Set(deliveryIds)])
        .where('deliveries.status', '=', 'sent')
        .execute();
      const enrolments = new Map<number, number>();
      for (const row of rows) {
        const context = await one(row);
        if (context === undefined) continue;
        sent.set(row.deliveryId, context);
        enrolments.set(row.enrolmentId, row.versionId);
        weeksDone.set(row.enrolmentId, new Set());
        acknowledgements.set(row.learnerId, 0);
      }
      if (enrolments.size === 0) return { sent, weeksDone, acknowledgements, assignments };
      const done = await db
        .selectFrom('progress_events')
        .select(['enrolment_id', sql<string>`data ->> 'week'`.as('week')])
        .distinct()
        .where('enrolment_id', 'in', [...enrolments.keys()])
        .where('kind', '=', 'done')
        .execute();
      for (const row of done) weeksDone.get(row.enrolment_id)?.add(row.week);
      const counted = await db
        .selectFrom('deliveries')
        .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
        .select(['enrolments.learner_id', (eb) => eb.fn.countAll<number>().as('count')])
        .where('enrolments.learner_id', 'in', [...acknowledgements.keys()])
        .where('deliveries.kind', '=', 'acknowledgement')
        .where('deliveries.due_at', '>=', since)
        .groupBy('enrolments.learner_id')
        .execute();
      for (const row of counted) acknowledgements.set(row.learner_id, Number(row.count));
      // The assignment of each reply's own week (what a "done" marks), as assignmentOf finds it.
      const wanted = new Map<string, { enrolmentId: number; stepKey: string }>();
      for (const context of sent.values()) {
        const key = `${context.enrolmentId}:${context.week}`;
        if (assignments.has(key)) continue;
        const steps = (await programmes(enrolments.get(context.enrolmentId)!)).weeks.find(
          (w) => w.week === context.week,
        )?.steps;
        const step =
          steps?.find((s) => s.email?.assignment !== undefined) ?? steps?.find((s) => s.email);
        assignments.set(key, undefined);
        if (step !== undefined)
          wanted.set(key, {
            enrolmentId: context.enrolmentId,
            stepKey: planKey(context.week, step.id),
          });
      }
      if (wanted.size > 0) {
        const found = await db
          .selectFrom('deliveries')
          .select(['id', 'enrolment_id', 'step_key'])
          .where('enrolment_id', 'in', [...new Set([...wanted.values()].map((w) => w.enrolmentId))])
          .where('step_key', 'in', [...new Set([...wanted.values()].map((w) => w.stepKey))])
          .execute();
        const byStep = new Map(found.map((row) => [`${row.enrolment_id}:${row.step_key}`, row.id]));
        for (const [key, want] of wanted)
          assignments.set(key, byStep.get(`${want.enrolmentId}:${want.stepKey}`));
      }
      return { sent, weeksDone, acknowledgements, assignments };
    },

    async addProgressMany(events) {
      if (events.length === 0) return;
      await db
        .insertInto('progress_events')
        .values(
          events.map((event) => ({
            enrolment_id: event.enrolmentId,
            delivery_id: event.deliveryId ?? null,
            inbound_message_id: event.inboundId,
            kind: event.kind,
            data: json(event.data),
            occurred_at: event.occurredAt,
          })),
        )
        .onConflict((oc) => oc.columns(['inbound_message_id', 'kind']).doNothing())
        .execute();
    },

    async settleProcessedMany(settled, now) {
      if (settled.length === 0) return;
      const values = sql.join(
        settled.map(
          (row) =>
            sql`(${row.id}::integer, ${optionalText(row.reason)}::text, ${row.learnerId ?? null}::integer, ${row.deliveryId ?? null}::integer)`,
        ),
      );
      await sql`
        update inbound_messages as m
        set status = 'processed', reason = v.reason, learner_id = v.learner_id,
            delivery_id = v.delivery_id, updated_at = ${now}
        from (values ${values}) as v (id, reason, learner_id, delivery_id)
        where m.id = v.id`.execute(db);
    },

    async queueAcknowledgementMany(acks, now) {
      if (acks.length === 0) return;
      await db
        .insertInto('deliveries')
        .values(
          acks.map((ack) => ({
            enrolment_id: ack.enrolmentId,
            step_key: acknowledgementKey(ack.inboundId),
            week: ack.week,
            kind: 'acknowledgement',
            due_at: now,
            planned_local: '',
            payload: json(ack.payload),
          })),
        )
        .onConflict((oc) => oc.columns(['enrolment_id', 'step_key']).doNothing())
        .execute();
    },

    shifts: () => shiftStore(db),

    async intakeOf(enrolmentId) {
      const enrolment = await db
        .selectFrom('enrolments')
        .innerJoin('sequence_versions', 'sequence_versions.id', 'enrolments.sequence_version_id')
        .select(['enrolments.sequence_version_id as versionId', 'enrolments.status'])
        .where('enrolments.id', '=', enrolmentId)
        .executeTakeFirst();
      if (enrolment === undefined) return undefined;
      const programme = await programmes(enrolment.versionId);
      const questions = programme.intake ?? [];
      if (questions.length === 0) return undefined;
      const translations = Object.values(programme.translations ?? {})
        .map((t) => t.intake ?? [])
        .filter((t) => t.length === questions.length);
      // Week 1 has begun once any step of the programme went out (the welcome is no step).
      const sent = await db
        .selectFrom('deliveries')
        .select('id')
        .where('enrolment_id', '=', enrolmentId)
        .where('status', '=', 'sent')
        .where('kind', 'in', ['email', 'invite'])
        .executeTakeFirst();
      return {
        programmeId: programme.id,
        questions,
        translations,
        started: sent !== undefined,
        open: enrolment.status === 'active' || enrolment.status === 'paused',
      };
    },

    async updateProfile(learnerId, answers, now) {
      const learner = await db
        .selectFrom('learners')
        .leftJoin('organisations', 'organisations.id', 'learners.organisation_id')
        .leftJoin('managers', 'managers.id', 'learners.manager_id')
        .select([
          'learners.email',
          'learners.first_name',
          'learners.last_name',
          'learners.time_zone',
          'learners.role',
          'learners.profile',
          'organisations.name as organisation',
          'managers.email as manager_email',
          'managers.name as manager_name',
        ])
        .where('learners.id', '=', learnerId)
        .executeTakeFirstOrThrow();
      let role = learner.role;
      const stored: Record<string, unknown> = { ...learner.profile };
      for (const answer of answers) {
        if (answer.field === 'role') role = String(answer.value);
        else stored[answer.field] = answer.value;
      }
      await db
        .updateTable('learners')
        .set({ role, profile: json(stored), updated_at: now })
        .where('id', '=', learnerId)
        .execute();
      return profileOf({ ...learner, role, profile: stored });
    },

    async latestProgrammes() {
      const rows = await db
        .selectFrom('sequence_versions')
        .select(['id', 'sequence_id', 'content_hash'])
        .orderBy('id', 'desc')
        .execute();
      const latest = new Map<string, { id: number; hash: string }>();
      for (const row of rows)
        if (!latest.has(row.sequence_id))
          latest.set(row.sequence_id, { id: row.id, hash: row.content_hash });
      return Promise.all(
        [...latest.values()].map(async (v) => ({ sequence: await programmes(v.id), hash: v.hash })),
      );
    },

    async moveForIntake(learnerEmail, target, reasons, now, secret) {
      const open = await openEnrolmentOf(db, learnerEmail);
      return moveEnrolment(db, open, target, {
        secret,
        now,
        ended: reasons.ended,
        matchReason: () => reasons.matchReason,
        withEnd: true,
      });
    },

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

/** The profile as the matcher reads it, from a learner's stored row. */
function profileOf(row: {
  email: string;
  first_name: string;
  last_name: string;
  time_zone: string;
  role: string | null;
  profile: Record<string, unknown>;
  organisation: string | null;
  manager_email: string | null;
  manager_name: string | null;
}): LearnerProfile {
  const { confidence, barriers, goals, share_with_manager, cohort, ...free } = row.profile;
  const list = (value: unknown) =>
    Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
  return {
    email: row.email,
    first_name: row.first_name,
    last_name: row.last_name,
    time_zone: row.time_zone,
    role: row.role ?? '',
    organisation: row.organisation ?? '',
    manager_email: row.manager_email ?? '',
    manager_name: row.manager_name ?? '',
    start_date: '',
    ...(typeof cohort === 'string' ? { cohort } : {}),
    ...(typeof confidence === 'number' ? { confidence } : {}),
    barriers: list(barriers),
    goals: list(goals),
    share_with_manager: share_with_manager === true,
    fields: Object.fromEntries(
      Object.entries(free)
        .filter(([, v]) => v !== null && v !== undefined && v !== '')
        .map(([k, v]) => [k, Array.isArray(v) ? v.join('; ') : String(v)]),
    ),
  };
}
