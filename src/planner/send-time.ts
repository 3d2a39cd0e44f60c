import { DateTime } from 'luxon';
import type { DayName, Step } from '../sequence/schema.js';
import { insideWindow, isWorkingDate, type SendingWindow } from './calendar.js';
import { addDays, instantOf, minutesOf, slotOf } from './local-time.js';
import { checkZone } from './plan.js';
import { durationMinutes } from './step-time.js';

export type DueDecision =
  | { readonly action: 'send' }
  | { readonly action: 'missed'; readonly reason: string }
  | { readonly action: 'wait'; readonly until: Date; readonly reason: string };

export interface DueInput {
  readonly dueAt: Date;
  /**
   * Lateness counts from here instead of `dueAt` when later: a row the relay's quota carried to
   * the next day is as fresh as when the quota let it go, and keeps its meaning (week 3 is week 3).
   */
  readonly lateSince?: Date | undefined;
  /** The dispatcher's clock (the database's), never the process's. */
  readonly now: Date;
  /** `schedule.late_grace`, such as "2d". */
  readonly lateGrace: string;
  readonly zone: string;
  readonly window?: SendingWindow | undefined;
  /** With these, a day off counts as outside the window. Without, every day is a sending day. */
  readonly workingDays?: readonly DayName[] | undefined;
  readonly holidays?: ReadonlySet<string> | undefined;
}

/**
 * Whether a claimed row goes out now. In order:
 * - not due yet: `wait` until it is;
 * - due longer ago than `late_grace` (the workers were down): `missed`, so that an outage never
 *   ends in a flood of stale emails;
 * - the learner's sending window is open (a working day, when working days are given, and
 *   inside the window's hours, when there is a window): `send`;
 * - else `wait` until it next opens (the window's opening on the next working day; with no
 *   window, the row's own time on the next working day), or `missed` when that is past
 *   `late_grace` anyway: a row never waits only to be missed.
 *
 * @example
 * dueDecision({ dueAt: new Date('2027-01-04T09:00Z'), now: new Date('2027-01-07T10:00Z'), lateGrace: '2d', zone: 'Europe/London' })
 *   // { action: 'missed', reason: 'due Mon 2027-01-04 09:00 Europe/London, 3d 1h ago: later than late_grace 2d' }
 */
export function dueDecision(input: DueInput): DueDecision {
  const { dueAt, now, zone, window } = input;
  checkZone(zone);
  const graceMs = durationMinutes(input.lateGrace) * 60_000;
  const due = `due ${localText(dueAt, zone)}`;
  if (now < dueAt) return { action: 'wait', until: dueAt, reason: `not due yet: ${due}` };
  const lateFrom =
    input.lateSince !== undefined && input.lateSince > dueAt ? input.lateSince : dueAt;
  const lateMs = now.getTime() - lateFrom.getTime();
  if (lateMs > graceMs)
    return {
      action: 'missed',
      reason: `${due}, ${durationText(lateMs)} ago: later than late_grace ${input.lateGrace}`,
    };

  const calendar = {
    zone,
    workingDays: input.workingDays ?? [],
    holidays: input.holidays ?? new Set<string>(),
  };
  const today = slotOf(now, zone);
  const dayOff = !isWorkingDate(today.date, calendar);
  const outside = window !== undefined && !insideWindow(today.minute, window);
  if (!dayOff && !outside) return { action: 'send' };

  // Without a window, a day off waits for the next working day at the row's own time, as the
  // planner would have moved it.
  const opensAt = window === undefined ? slotOf(dueAt, zone).minute : minutesOf(window.from);
  const opens = nextOpening(now, calendar, opensAt);
  const why = dayOff
    ? `${localText(now, zone, 'ccc yyyy-MM-dd')} is not a working day`
    : `${localText(now, zone)} is outside the sending window ${window!.from}-${window!.to}`;
  if (opens.getTime() - lateFrom.getTime() > graceMs)
    return {
      action: 'missed',
      reason: `${due}; ${why}, and sending resumes ${localText(opens, zone)}: later than late_grace ${input.lateGrace}`,
    };
  return {
    action: 'wait',
    until: opens,
    reason: `${why}; sending resumes ${localText(opens, zone)}`,
  };
}

export type ConditionDecision =
  { readonly send: true } | { readonly send: false; readonly reason: string };

/**
 * A step's `when`, checked when it is due. `doneStepIds` are the ids of the steps of the same
 * week the learner has said are done (a `when` names a step of its own week).
 *
 * @example evaluateCondition({ not_done: 'kickoff' }, new Set(['kickoff']))
 *   // { send: false, reason: 'kickoff is already done' }
 */
export function evaluateCondition(
  when: Step['when'],
  doneStepIds: ReadonlySet<string>,
): ConditionDecision {
  if (when?.not_done !== undefined && doneStepIds.has(when.not_done))
    return { send: false, reason: `${when.not_done} is already done` };
  if (when?.done !== undefined && !doneStepIds.has(when.done))
    return { send: false, reason: `${when.done} is not done yet` };
  return { send: true };
}

/** The next moment after `now` on a working day at `from` (minutes since midnight). */
function nextOpening(now: Date, calendar: Parameters<typeof isWorkingDate>[1], from: number): Date {
  const bound = 7 * (calendar.holidays.size + 2);
  let date = slotOf(now, calendar.zone).date;
  for (let step = 0; step < bound; step += 1, date = addDays(date, 1)) {
    if (!isWorkingDate(date, calendar)) continue;
    const opens = instantOf({ date, minute: from }, calendar.zone).toJSDate();
    if (opens > now) return opens;
  }
  return now;
}

/** "Mon 2027-01-04 09:00 Europe/London": the learner's clock, in English whatever the server's locale. */
function localText(instant: Date, zone: string, format = 'ccc yyyy-MM-dd HH:mm'): string {
  return `${DateTime.fromJSDate(instant, { zone }).toFormat(format, { locale: 'en-GB' })} ${zone}`;
}

/** 3d 1h, 2h 5m, 40m, 2d 1s. */
function durationText(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const parts = [
    [Math.floor(seconds / 86_400), 'd'],
    [Math.floor((seconds % 86_400) / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'm'],
    [seconds % 60, 's'],
  ] as const;
  return parts
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n}${unit}`)
    .join(' ');
}
