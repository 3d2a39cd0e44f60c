import {
  calendarFor,
  pausePlan,
  resumePlan,
  sendingSchedule,
  type LearnerCalendar,
  type PlannedDelivery,
  type ShiftedPlan,
} from '../planner/index.js';
import type { Sequence } from '../sequence/schema.js';

/** One step of an enrolment's plan as stored, with its latest invite version folded in. */
export interface StoredStep {
  /** The plan's row (`w03-practice`). */
  readonly id: number;
  readonly stepKey: string;
  readonly week: number;
  readonly kind: 'email' | 'invite';
  readonly status: string;
  /** The step's moment: an email's send time, an invite's slot (its latest version's). */
  readonly moment: Date;
  readonly plannedLocal: string;
  /** The invite's latest SEQUENCE (0 until an update was sent). */
  readonly inviteSequence: number;
  /** An update of this invite that is still waiting to be sent, if any. */
  readonly pendingUpdateId: number | undefined;
}

/** What a change of plan writes. */
export interface PlanChange {
  /** Rows not sent yet: their new send time and slot. */
  readonly moved: readonly {
    id: number;
    dueAt: Date;
    startsAt: Date | undefined;
    plannedLocal: string;
  }[];
  /** Invites already in the learner's calendar whose slot moved: an update (same UID, next SEQUENCE). */
  readonly updates: readonly {
    stepKey: string;
    week: number;
    startsAt: Date;
    plannedLocal: string;
    inviteSequence: number;
    /** Set when an update still waiting to be sent is rewritten instead of adding another. */
    replaces: number | undefined;
  }[];
}

export interface ShiftStore {
  transaction<T>(work: (store: ShiftStore) => Promise<T>): Promise<T>;
  plan(enrolmentId: number): Promise<{ sequence: Sequence; zone: string; steps: StoredStep[] }>;
  applyPlanChange(enrolmentId: number, change: PlanChange, now: Date): Promise<void>;
  /** Records a pause (when, until when, by how many weeks the plan moved), or clears it. */
  recordPause(
    enrolmentId: number,
    pause: { pausedAt: Date; resumeAt: Date; weeks: number } | undefined,
  ): Promise<void>;
  /** The weeks the current pause moved the plan; 0 when not paused. */
  pausedWeeks(enrolmentId: number): Promise<number>;
}

/**
 * Pauses an enrolment until `resumeAt` ("pause until 3 Jan", "pause for 2 weeks"): every step
 * still to come moves later by whole weeks (see `pausePlan`), emails and invites not sent yet are
 * rescheduled, and invites already in the learner's calendar are re-sent as updates with the
 * same UID and the next SEQUENCE, so calendars move the blocked time. Returns the whole weeks.
 * The plan then simply waits: nothing is due before `resumeAt`, and it carries on by itself.
 */
export function pauseEnrolment(
  store: ShiftStore,
  enrolmentId: number,
  { pausedAt, resumeAt }: { pausedAt: Date; resumeAt: Date },
): Promise<number> {
  return changePlan(
    store,
    enrolmentId,
    pausedAt,
    (rows, calendar) => pausePlan(rows, { ...calendar, pausedAt, resumeAt }),
    (tx, weeks) => tx.recordPause(enrolmentId, { pausedAt, resumeAt, weeks }),
  );
}

/**
 * Ends a pause early ("resume" before the date): the steps still to come move back by the whole
 * weeks not used, never before `resumedAt` nor earlier than the plan before the pause (see
 * `resumePlan`); invites already sent are updated. Returns the (zero or negative) weeks moved.
 */
export async function resumeEnrolment(
  store: ShiftStore,
  enrolmentId: number,
  { resumedAt }: { resumedAt: Date },
): Promise<number> {
  const pausedWeeks = await store.pausedWeeks(enrolmentId);
  if (pausedWeeks === 0) return 0;
  return changePlan(
    store,
    enrolmentId,
    resumedAt,
    (rows, calendar) => resumePlan(rows, { ...calendar, resumedAt, pausedWeeks }),
    (tx) => tx.recordPause(enrolmentId, undefined),
  );
}

/** Applies a shift of the plan and records why (`record`), in one transaction; returns the weeks. */
async function changePlan(
  store: ShiftStore,
  enrolmentId: number,
  now: Date,
  shiftPlan: (rows: PlannedDelivery[], calendar: LearnerCalendar) => ShiftedPlan,
  record: (tx: ShiftStore, weeks: number) => Promise<void>,
): Promise<number> {
  return store.transaction(async (tx) => {
    const { sequence, zone, steps } = await tx.plan(enrolmentId);
    const rows: PlannedDelivery[] = steps.map((s) => ({
      stepKey: s.stepKey,
      week: s.week,
      stepId: s.stepKey.replace(/^w\d+-/, ''),
      kind: s.kind,
      dueAt: s.moment,
      local: s.plannedLocal,
      planned: s.plannedLocal,
    }));
    const shifted = shiftPlan(rows, calendarFor(sequence.schedule, zone, new Set()));
    const schedule = sendingSchedule(shifted.rows);
    const moved: PlanChange['moved'][number][] = [];
    const updates: PlanChange['updates'][number][] = [];
    steps.forEach((step, i) => {
      const next = schedule[i]!;
      const slotMoved = next.dueAt.getTime() !== step.moment.getTime();
      if (step.status === 'pending' && (slotMoved || next.planned !== step.plannedLocal)) {
        moved.push({
          id: step.id,
          dueAt: next.sendAt,
          startsAt: next.startsAt,
          plannedLocal: next.planned,
        });
      } else if (step.kind === 'invite' && step.status === 'sent' && slotMoved) {
        updates.push({
          stepKey: step.stepKey,
          week: step.week,
          startsAt: next.dueAt,
          plannedLocal: next.planned,
          inviteSequence:
            step.pendingUpdateId === undefined ? step.inviteSequence + 1 : step.inviteSequence,
          replaces: step.pendingUpdateId,
        });
      }
    });
    await tx.applyPlanChange(enrolmentId, { moved, updates }, now);
    await record(tx, shifted.shiftedWeeks);
    return shifted.shiftedWeeks;
  });
}
