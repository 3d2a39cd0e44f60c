import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchStore } from '../../src/db/dispatch-store.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { pauseByHand, resumeByHand, stopByHand } from '../../src/db/learner-actions.js';
import { replyStore } from '../../src/db/reply-store.js';
import { drainDue } from '../../src/engine/dispatcher-loop.js';
import type { DispatchDependencies } from '../../src/engine/dispatch.js';
import { enrolCohort } from '../../src/engine/enrol.js';
import { handleInbound, type ReplyDependencies } from '../../src/engine/replies.js';
import { createSmtpTransport } from '../../src/mail/smtp-transport.js';
import { readMessage } from '../../src/replies/read.js';
import { programmeCache } from '../../src/render/index.js';
import { exampleCohort, shippedProgrammes, testMail } from '../helpers/cohort.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';
import { answered, replyTo, type Answered } from '../inbound/reply-builder.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers.js';

// Daniel and Gareth follow programmes of the same shape (twelve weeks, the same step keys) in the
// same zone from the same Monday: whatever a reply does to Daniel's plan and invites, the
// trainer's command must do to Gareth's.
const byReply = 'daniel.evans@businessandtrade.gov.uk';
const byTrainer = 'gareth.jones@cardiff.gov.uk';
const monday = new Date('2027-01-04T09:05:00Z');

describe.each(testBackends())(
  'gym learner pause|resume|stop act as replies on $name',
  (backend) => {
    let database: TestDatabase;
    let smtp: TestSmtpServer;
    let dispatch: DispatchDependencies;
    let replies: ReplyDependencies;
    let clock = monday;
    const actor = () => ({ by: 'Ann Trainer', now: clock });

    const kickoffOf = async (email: string): Promise<Answered> => {
      for (const message of smtp.received) {
        const sent = await answered(message.data);
        if (sent.to === email && sent.subject.startsWith('Week 1')) return sent;
      }
      throw new Error(`no week 1 email to ${email}`);
    };
    const reply = async (text: string, id: string) => {
      const raw = await replyTo(await kickoffOf(byReply), text, {
        messageId: `<${id}@mail.example.test>`,
        date: clock,
      });
      expect(await handleInbound(replies, { raw, mailbox: 'INBOX', uid: undefined })).toBe(
        'processed',
      );
    };
    // Practice slots may differ between two learners (later weeks vary them): each row's slot is
    // compared as its move from the learner's own first plan.
    const firstSlots = new Map<string, number>();
    /** The learner's plan and invites as data that two learners on one programme can share. */
    const plan = async (email: string) => {
      const enrolment = await database.db
        .selectFrom('enrolments')
        .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
        .select([
          'enrolments.id',
          'enrolments.status',
          'enrolments.paused_until',
          'enrolments.paused_weeks',
        ])
        .where('learners.email', '=', email)
        .executeTakeFirstOrThrow();
      const rows = await database.db
        .selectFrom('deliveries')
        .select([
          'step_key',
          'status',
          'method',
          'due_at',
          'starts_at',
          'invite_sequence',
          'reason',
        ])
        .where('enrolment_id', '=', enrolment.id)
        // A reply is answered; a trainer's command has nothing to answer.
        .where('kind', '!=', 'acknowledgement')
        .orderBy('step_key')
        .execute();
      return {
        status: enrolment.status,
        pausedUntil: enrolment.paused_until,
        pausedWeeks: enrolment.paused_weeks,
        rows: rows.map(({ starts_at, ...r }) => ({
          ...r,
          slotMoved: slotMove(email, r.step_key, starts_at),
          // The only difference allowed: who stopped it.
          reason: r.reason?.startsWith('stopped by Ann Trainer')
            ? 'the learner replied stop'
            : r.reason,
        })),
      };
    };
    const slotMove = (email: string, stepKey: string, startsAt: Date | null) => {
      if (startsAt === null) return null;
      const key = `${email} ${stepKey.replace(/\.(cancel|r\d+)$/, '')}`;
      if (!firstSlots.has(key)) firstSlots.set(key, startsAt.getTime());
      return startsAt.getTime() - firstSlots.get(key)!;
    };
    const events = (email: string) =>
      database.db
        .selectFrom('progress_events')
        .innerJoin('enrolments', 'enrolments.id', 'progress_events.enrolment_id')
        .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
        .select(['progress_events.kind', 'progress_events.data'])
        .where('learners.email', '=', email)
        .orderBy('progress_events.id')
        .execute();
    const sentTo = async (email: string) => {
      const subjects: string[] = [];
      for (const message of smtp.received) {
        const sent = await answered(message.data);
        // What went, not the programme's wording: "Week 1", "Invitation", "Updated invitation"...
        if (sent.to === email && !sent.subject.startsWith('Re:'))
          subjects.push(sent.subject.replace(/:.*$/, ''));
      }
      return subjects;
    };

    beforeAll(async () => {
      database = await openMigrated(backend);
      smtp = await startSmtpServer();
      await enrolCohort(enrolmentStore(database.db), exampleCohort.rows, shippedProgrammes, {
        dryRun: false,
        holidays: new Set(),
      });
      dispatch = {
        store: dispatchStore(database.db),
        transport: createSmtpTransport({ url: smtp.url }),
        mail: testMail,
        workerId: 'test-worker',
        retryDelay: () => 60_000,
        compiled: programmeCache({ validation: 'soft' }),
      };
      replies = {
        store: replyStore(database.db),
        read: readMessage,
        secret: testMail.secret,
        replyAddress: testMail.replyAddress,
        now: () => clock,
      };
      await drainDue(dispatch, () => monday);
    });
    afterAll(async () => {
      await dispatch?.transport.close();
      await smtp?.close();
      await database?.close();
    });

    it('starts from the same plan for both learners', async () => {
      expect(await plan(byTrainer)).toEqual(await plan(byReply));
      expect(await sentTo(byTrainer)).toEqual(await sentTo(byReply));
    });

    it('pause --weeks 2 leaves the plan and invites a reply "pause for 2 weeks" leaves', async () => {
      clock = new Date('2027-01-04T12:00:00Z');
      await reply('pause for 2 weeks', 'daniel-pause');
      const paused = await pauseByHand(database.db, byTrainer, { weeks: 2 }, actor());
      expect(paused.weeks).toBe(2);

      const trainers = await plan(byTrainer);
      expect(trainers.pausedUntil?.toISOString()).toBe('2027-01-18T12:00:00.000Z');
      // Wednesday's practice invite is already in the calendar: an update moves it.
      expect(trainers.rows.filter((r) => r.step_key.includes('.r'))).toHaveLength(1);
      expect(trainers).toEqual(await plan(byReply));

      // The update goes out to both, the same.
      await drainDue(dispatch, () => clock);
      expect(await sentTo(byTrainer)).toEqual(await sentTo(byReply));
      expect((await sentTo(byTrainer)).filter((s) => s === 'Updated invitation')).toHaveLength(1);
      expect(await plan(byTrainer)).toEqual(await plan(byReply));
    });

    it('resume moves the plan back as a reply "resume" does', async () => {
      clock = new Date('2027-01-05T08:00:00Z');
      await reply('resume', 'daniel-resume');
      expect((await resumeByHand(database.db, byTrainer, actor())).weeks).toBe(-2);
      const trainers = await plan(byTrainer);
      expect(trainers.pausedUntil).toBeNull();
      expect(trainers).toEqual(await plan(byReply));
      await drainDue(dispatch, () => clock);
      expect(await sentTo(byTrainer)).toEqual(await sentTo(byReply));
    });

    it('stop ends the programme, withdraws the invites and records the no, as a reply "stop" does', async () => {
      clock = new Date('2027-01-05T09:30:00Z');
      await reply('stop', 'daniel-stop');
      await stopByHand(database.db, byTrainer, 'moving to another team', actor());
      const trainers = await plan(byTrainer);
      expect(trainers.status).toBe('stopped');
      expect(trainers.rows.filter((r) => r.status === 'pending').map((r) => r.step_key)).toEqual([
        'w01-practice.cancel',
      ]);
      expect(trainers).toEqual(await plan(byReply));
      await drainDue(dispatch, () => clock);
      expect(await sentTo(byTrainer)).toEqual(await sentTo(byReply));
      expect((await sentTo(byTrainer)).at(-1)).toBe('Cancelled');

      const noes = await database.db
        .selectFrom('suppressions')
        .select(['address', 'scope', 'how', 'detail'])
        .where('address', 'in', [byReply, byTrainer])
        .orderBy('address')
        .execute();
      expect(noes).toEqual([
        {
          address: byReply,
          scope: 'programme:digital-engagement-for-policy',
          how: 'reply',
          detail: null,
        },
        {
          address: byTrainer,
          scope: 'programme:digital-foundations',
          how: 'by_hand',
          detail: 'moving to another team (by Ann Trainer)',
        },
      ]);
    });

    it('records each command with who gave it, as the reply events are', async () => {
      const kinds = (rows: { kind: string }[]) => rows.map((e) => e.kind);
      expect(kinds(await events(byTrainer))).toEqual(kinds(await events(byReply)));
      expect((await events(byTrainer)).map((e) => e.data.by)).toEqual([
        'Ann Trainer',
        'Ann Trainer',
        'Ann Trainer',
      ]);
      // Nothing left to act on: the commands say so rather than doing nothing quietly.
      await expect(resumeByHand(database.db, byTrainer, actor())).rejects.toThrow(
        `${byTrainer} has no programme running`,
      );
    });
  },
);
