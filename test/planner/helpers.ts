import { readFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import type { DayName, Sequence, Step } from '../../src/sequence/schema.js';
import type { PlannedDelivery } from '../../src/planner/index.js';

/** A step as the planner sees it: when, and whether it is an invite. */
export interface StepSpec {
  readonly id: string;
  readonly day: DayName;
  readonly at?: string;
  readonly invite?: boolean;
}

/** The usual week: a Monday kickoff email, a Wednesday 14:00 practice invite, a Thursday nudge. */
export const usualWeek: readonly StepSpec[] = [
  { id: 'kickoff', day: 'mon' },
  { id: 'practice', day: 'wed', at: '14:00', invite: true },
  { id: 'nudge', day: 'thu' },
];

/**
 * A 12-week programme for the planner: only what it reads (schedule, weeks, steps), with the
 * smallest valid email or invite on each step.
 */
export function programme(
  weeks: readonly (readonly StepSpec[])[] = Array.from({ length: 12 }, () => usualWeek),
  schedule: Partial<Sequence['schedule']> = {},
): Pick<Sequence, 'schedule' | 'weeks'> {
  return {
    schedule: {
      send_at: '09:00',
      working_days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      late_grace: '2d',
      ...schedule,
    },
    weeks: weeks.map((steps, i) => ({
      week: i + 1,
      theme: `Week ${i + 1}`,
      manager_tip: 'Ask how it went.',
      steps: steps.map((s): Step => ({
        id: s.id,
        day: s.day,
        ...(s.at === undefined ? {} : { at: s.at }),
        ...(s.invite
          ? { invite: { title: 'Practice', duration: '30m' } }
          : { email: { subject: 'Hello', body: 'Text.' } }),
      })),
    })),
  };
}

/** A row as a person reads it: "w01-kickoff Tue 2027-05-04 09:00 +01:00". */
export function show(row: PlannedDelivery, zone: string): string {
  const local = DateTime.fromJSDate(row.dueAt, { zone });
  return `${row.stepKey} ${local.toFormat('ccc yyyy-MM-dd HH:mm ZZ', { locale: 'en-GB' })}`;
}

export function fixture(path: string): string {
  return readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
}

export const londonWorkingWeek = {
  zone: 'Europe/London',
  workingDays: ['mon', 'tue', 'wed', 'thu', 'fri'] as DayName[],
  holidays: new Set<string>(),
};
