import type { PlannedDelivery } from './plan.js';

/** A planned step with the moment it is sent, which for an invite comes before the slot itself. */
export interface ScheduledDelivery extends PlannedDelivery {
  /** When the message goes out. For an email, its `dueAt`. */
  readonly sendAt: Date;
  /** For an invite, the start of the practice slot (its `dueAt`); undefined for an email. */
  readonly startsAt: Date | undefined;
}

const dayMs = 24 * 60 * 60 * 1000;

/**
 * When each step is sent. An email goes at its own moment. An invite must reach the calendar
 * before the time it blocks, so it goes with the first step of its week (Wednesday's practice slot
 * arrives with Monday's email); when it is itself the first step of its week, with the step before
 * it; when it is the very first step of the programme, a day before its slot.
 *
 * Pure; `plan` in the planner's order (as `planEnrolment` returns it).
 *
 * @example
 * sendingSchedule(planEnrolment(...)).find((d) => d.stepKey === 'w01-practice')
 *   // { ..., dueAt: Wed 14:00, startsAt: Wed 14:00, sendAt: Mon 09:00 }
 */
export function sendingSchedule(plan: readonly PlannedDelivery[]): ScheduledDelivery[] {
  return plan.map((row, index) => {
    if (row.kind === 'email') return { ...row, sendAt: row.dueAt, startsAt: undefined };
    const firstOfWeek = plan.find((other) => other.week === row.week)!;
    const before = index > 0 ? plan[index - 1] : undefined;
    const sendAt =
      firstOfWeek.dueAt < row.dueAt
        ? firstOfWeek.dueAt
        : before !== undefined && before.dueAt < row.dueAt
          ? before.dueAt
          : new Date(row.dueAt.getTime() - dayMs);
    return { ...row, sendAt, startsAt: row.dueAt };
  });
}
