import { calendarFor, pausePlan, sendingSchedule, type PlannedDelivery } from '../planner/index.js';
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
  recordPause(
    enrolmentId: number,
    pausedAt: Date,
    resumeAt: Date,
    shiftedWeeks: number,
  ): Promise<void>;
}

/**
 * Pauses an enrolment until `resumeAt` ("pause until 3 Jan", "pause for 2 weeks"): every step
 * still to come moves later by whole weeks (see `pausePlan`), emails and invites not sent yet are
 * rescheduled, and invites already in the learner's calendar are re-sent as updates with the
 * same UID and the next SEQUENCE, so calendars move the blocked time. Returns the whole weeks.
 * The reply reader calls this; it is here because the plan, the store and the invites are.
 */
export async function pauseEnrolment(
  store: ShiftStore,
  enrolmentId: number,
  { pausedAt, resumeAt }: { pausedAt: Date; resumeAt: Date },
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
    const shifted = pausePlan(rows, {
      ...calendarFor(sequence.schedule, zone, new Set()),
      pausedAt,
      resumeAt,
    });
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
    await tx.applyPlanChange(enrolmentId, { moved, updates }, pausedAt);
    await tx.recordPause(enrolmentId, pausedAt, resumeAt, shifted.shiftedWeeks);
    return shifted.shiftedWeeks;
  });
}
