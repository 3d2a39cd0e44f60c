import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  pausePlan,
  planEnrolment,
  resumePlan,
  type LearnerCalendar,
  type PlannedDelivery,
} from '../../src/planner/index.js';
import { dayNames, type DayName, type Sequence } from '../../src/sequence/schema.js';
import { addDays, instantOf, parseSlot, wallOf } from '../../src/planner/local-time.js';
import { programme, type StepSpec } from './helpers.js';

/**
 * Zones with every kind of clock: northern and southern summer time, none, half and quarter
 * hours, a 30-minute change (Lord Howe), a change at midnight (Santiago, Havana).
 */
const zones = [
  'Europe/London',
  'America/New_York',
  'Australia/Sydney',
  'Asia/Kolkata',
  'Pacific/Auckland',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'America/St_Johns',
  'America/Santiago',
  'America/Havana',
  'Asia/Tokyo',
  'UTC',
] as const;

const firstDay = DateTime.fromISO('2026-01-01', { zone: 'utc' });
const lastDay = DateTime.fromISO('2030-12-31', { zone: 'utc' });
const date = (offset: number) => firstDay.plus({ days: offset }).toISODate()!;
const startDate = fc.nat(lastDay.diff(firstDay, 'days').days).map(date);

const clock = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
  .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
const day = fc.constantFrom(...dayNames);

const stepSpecs = fc
  .array(fc.record({ day, at: fc.option(clock, { nil: undefined }), invite: fc.boolean() }), {
    minLength: 1,
    maxLength: 4,
  })
  .map((steps): StepSpec[] => steps.map((s, i) => ({ ...s, id: `s${i + 1}` })));

// Windows open from 04:00 at the earliest, so a time the clocks skip (all before 04:00 in these
// zones) can never land outside one.
const window = fc.oneof(
  fc.constant(undefined),
  fc
    .tuple(fc.integer({ min: 4, max: 12 }), fc.integer({ min: 13, max: 23 }))
    .map(([from, to]) => ({ from: `${String(from).padStart(2, '0')}:00`, to: `${to}:00` })),
  fc
    .tuple(fc.integer({ min: 18, max: 23 }), fc.integer({ min: 4, max: 7 }))
    .map(([from, to]) => ({ from: `${from}:00`, to: `0${to}:30` })),
);

const workingDays = fc.subarray([...dayNames], { minLength: 1 });

const enrolment = fc
  .record({
    zone: fc.constantFrom(...zones),
    startsOn: startDate,
    weeks: fc.array(stepSpecs, { minLength: 12, maxLength: 12 }),
    sendAt: clock,
    workingDays,
    window,
    holidayOffsets: fc.array(fc.integer({ min: -7, max: 120 }), { maxLength: 40 }),
  })
  .map((e) => {
    const start = DateTime.fromISO(e.startsOn, { zone: 'utc' });
    const holidays = new Set(
      e.holidayOffsets.map((offset) => start.plus({ days: offset }).toISODate()!),
    );
    const sequence = programme(e.weeks, {
      send_at: e.sendAt,
      working_days: e.workingDays,
      ...(e.window === undefined ? {} : { window: e.window }),
    });
    const calendar: LearnerCalendar = {
      zone: e.zone,
      workingDays: e.workingDays,
      holidays,
      window: e.window,
    };
    return { ...e, holidays, sequence, calendar };
  });

type Enrolment = { sequence: Pick<Sequence, 'schedule' | 'weeks'>; startsOn: string } & {
  calendar: LearnerCalendar;
};

function plan(e: Enrolment): PlannedDelivery[] {
  return planEnrolment({
    sequence: e.sequence,
    startsOn: e.startsOn,
    zone: e.calendar.zone,
    holidays: e.calendar.holidays,
  });
}

const localOf = (row: PlannedDelivery, zone: string) => DateTime.fromJSDate(row.dueAt, { zone });
const dayName = (local: DateTime): DayName => dayNames[local.weekday - 1]!;
const minuteOf = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

function insideWindow(local: DateTime, w: { from: string; to: string }): boolean {
  const m = local.hour * 60 + local.minute;
  const [from, to] = [minuteOf(w.from), minuteOf(w.to)];
  return from <= to ? m >= from && m <= to : m >= from || m <= to;
}

/** What every plan, paused or not, must be: on working days, in the window, in order. */
function expectWellPlaced(rows: readonly PlannedDelivery[], calendar: LearnerCalendar): void {
  rows.forEach((row, i) => {
    const local = localOf(row, calendar.zone);
    expect(row.local, row.stepKey).toBe(local.toFormat("yyyy-MM-dd'T'HH:mm"));
    expect(calendar.workingDays, row.stepKey).toContain(dayName(local));
    expect(calendar.holidays.has(local.toISODate()!), row.stepKey).toBe(false);
    if (calendar.window) expect(insideWindow(local, calendar.window), row.stepKey).toBe(true);
    const previous = rows[i - 1];
    if (previous) expect(row.dueAt >= previous.dueAt, row.stepKey).toBe(true);
  });
}

/** The programme's order, worked out here from the steps: week, day, time, place in the list. */
function programmeOrder(e: Enrolment): string[] {
  return e.sequence.weeks
    .flatMap((week) =>
      week.steps.map((step, index) => ({
        key: `w${String(week.week).padStart(2, '0')}-${step.id}`,
        order: [
          week.week,
          dayNames.indexOf(step.day),
          minuteOf(step.at ?? e.sequence.schedule.send_at),
          index,
        ],
      })),
    )
    .sort((a, b) => compare(a.order, b.order))
    .map((s) => s.key);
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** The fewest whole weeks that bring a row's planned slot to `instant` or later. */
function weeksUntil(row: PlannedDelivery, instant: Date, zone: string): number {
  const { date, minute } = parseSlot(row.planned)!;
  let weeks = 0;
  while (instantOf({ date: addDays(date, 7 * weeks), minute }, zone) < DateTime.fromJSDate(instant))
    weeks += 1;
  return weeks;
}

describe('planEnrolment, for any start (2026 to 2030), zone, holidays, working days and window', () => {
  it('gives one row per step, under a unique key, in the programme’s order', () => {
    fc.assert(
      fc.property(enrolment, (e) => {
        const rows = plan(e);
        expect(rows.map((row) => row.stepKey)).toEqual(programmeOrder(e));
        expect(new Set(rows.map((row) => row.stepKey)).size).toBe(rows.length);
      }),
    );
  });

  it('never before the start, never on a day off or a holiday, always in the window, never out of order', () => {
    fc.assert(
      fc.property(enrolment, (e) => {
        const rows = plan(e);
        const start = DateTime.fromISO(e.startsOn, { zone: e.calendar.zone }).startOf('day');
        for (const row of rows) {
          expect(row.dueAt >= start.toJSDate(), row.stepKey).toBe(true);
          expect(row.local >= e.startsOn, row.stepKey).toBe(true);
        }
        expectWellPlaced(rows, e.calendar);
      }),
    );
  });

  it('keeps the clock time through every change of clocks (09:00 stays 09:00)', () => {
    // Every day a working day, no holidays, no window, a Monday start: nothing moves, so every
    // row is at its planned time unless the clocks skip that time on that day.
    fc.assert(
      fc.property(enrolment, (e) => {
        const monday = DateTime.fromISO(e.startsOn, { zone: 'utc' }).startOf('week').toISODate()!;
        const free = {
          ...e,
          startsOn: monday,
          sequence: {
            ...e.sequence,
            schedule: { ...e.sequence.schedule, working_days: [...dayNames], window: undefined },
          },
          calendar: {
            ...e.calendar,
            holidays: new Set<string>(),
            workingDays: [...dayNames],
            window: undefined,
          },
        };
        for (const row of plan(free)) {
          if (row.local === row.planned) continue;
          // A moved row: its planned time does not exist in the zone, and it lands after it.
          const wanted = DateTime.fromISO(row.planned, { zone: e.calendar.zone });
          expect(wanted.toFormat("yyyy-MM-dd'T'HH:mm"), row.stepKey).not.toBe(row.planned);
          expect(row.local > row.planned, row.stepKey).toBe(true);
        }
      }),
    );
  });
});

describe('instantOf, for any wall-clock time, above all around changes of clocks', () => {
  /** Every day on which some zone of the list changes its clocks, 2026 to 2030. */
  const changes = zones.flatMap((zone) => {
    const days: { zone: string; date: string }[] = [];
    for (let d = firstDay; d <= lastDay; d = d.plus({ days: 1 })) {
      const noon = DateTime.fromObject(
        { year: d.year, month: d.month, day: d.day, hour: 12 },
        { zone },
      );
      if (noon.offset !== noon.minus({ days: 1 }).offset)
        days.push(
          { zone, date: d.minus({ days: 1 }).toISODate()! },
          { zone, date: d.toISODate()! },
        );
    }
    return days;
  });
  const wallTime = fc.oneof(
    fc.record({ zone: fc.constantFrom(...zones), date: startDate }),
    fc.constantFrom(...changes),
  );
  const slot = fc.record({
    at: wallTime,
    minute: fc.oneof(fc.integer({ min: 0, max: 1439 }), fc.integer({ min: 0, max: 4 * 60 })),
  });

  it('finds the time on the clock, the first of two, or the first minute after a skipped one', () => {
    expect(changes.length).toBeGreaterThan(50);
    fc.assert(
      fc.property(slot, ({ at: { zone, date }, minute }) => {
        const wall = `${date}T${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
        const instant = instantOf({ date, minute }, zone);
        const shown = wallOf(instant);
        const wallAt = (minutesBefore: number) => wallOf(instant.minus({ minutes: minutesBefore }));
        if (shown === wall) {
          // Not a later repeat of the same clock time (changes are of 30 or 60 minutes).
          for (const before of [30, 60, 120])
            expect(wallAt(before), `${zone} ${wall}`).not.toBe(wall);
        } else {
          // Skipped: the result is later, and the minute before it on the clock was skipped too.
          expect(shown > wall, `${zone} ${wall} -> ${shown}`).toBe(true);
          expect(wallAt(1) < wall, `${zone} ${wall} -> ${shown}`).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('pausePlan and resumePlan, for any plan and pause', () => {
  const pause = fc.record({
    /** Which row the pause comes just before or after. */
    at: fc.nat(),
    nudgeMinutes: fc.integer({ min: -3 * 24 * 60, max: 3 * 24 * 60 }),
    lengthMinutes: fc.integer({ min: 1, max: 70 * 24 * 60 }),
    resumeFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  });

  function paused(e: Enrolment, p: { at: number; nudgeMinutes: number; lengthMinutes: number }) {
    const rows = plan(e);
    const anchor = rows[p.at % rows.length]!.dueAt.getTime();
    const pausedAt = new Date(anchor + p.nudgeMinutes * 60_000);
    const resumeAt = new Date(pausedAt.getTime() + p.lengthMinutes * 60_000);
    const result = pausePlan(rows, { pausedAt, resumeAt, ...e.calendar });
    return { rows, pausedAt, resumeAt, result };
  }

  it('keeps sent rows, moves pending ones by whole weeks to or after the resume, well placed', () => {
    fc.assert(
      fc.property(enrolment, pause, (e, p) => {
        const { rows, pausedAt, resumeAt, result } = paused(e, p);
        expect(result.rows.map((row) => row.stepKey)).toEqual(rows.map((row) => row.stepKey));
        const n = result.shiftedWeeks;
        expect(n).toBeGreaterThanOrEqual(0);
        // The fewest weeks that bring the next pending row to the resume or later are never more
        // than bring its planned slot there, since settling only ever moves a row later. That is
        // the pause rounded up for a row at its planned slot, but not for one that holidays on the
        // working days had already pushed weeks on: a Friday-only step planned on Christmas Day
        // is due on 8 January; paused then for a minute, it takes three weeks to come after it.
        const next = rows.find((row) => row.dueAt >= pausedAt);
        expect(n).toBeLessThanOrEqual(next ? weeksUntil(next, resumeAt, e.calendar.zone) : 0);
        rows.forEach((before, i) => {
          const after = result.rows[i]!;
          if (before.dueAt < pausedAt) return expect(after).toBe(before);
          expect(after.dueAt >= resumeAt, after.stepKey).toBe(true);
          const planned = DateTime.fromISO(before.planned, { zone: 'utc' }).plus({ weeks: n });
          expect(after.planned).toBe(planned.toFormat("yyyy-MM-dd'T'HH:mm"));
        });
        const changed = result.rows.filter(
          (row, i) => row.dueAt.getTime() !== rows[i]!.dueAt.getTime(),
        );
        expect(result.changed).toEqual(changed);
        expectWellPlaced(result.rows, e.calendar);
      }),
    );
  });

  it('round-trips: resumed at the moment of the pause it is the plan again; at the planned time, unchanged', () => {
    fc.assert(
      fc.property(enrolment, pause, (e, p) => {
        const { rows, pausedAt, resumeAt, result } = paused(e, p);
        const calendar = { ...e.calendar, pausedWeeks: result.shiftedWeeks };
        const now = resumePlan(result.rows, { resumedAt: pausedAt, ...calendar });
        expect(now.rows).toEqual(rows);
        expect(now.shiftedWeeks + result.shiftedWeeks).toBe(0);
        if (result.shiftedWeeks > 0) {
          const asPlanned = resumePlan(result.rows, { resumedAt: resumeAt, ...calendar });
          expect(asPlanned.shiftedWeeks).toBe(0);
          expect(asPlanned.rows).toEqual(result.rows);
        }
      }),
    );
  });

  it('resumed early, continues from the resume, by whole weeks, never before the plan it paused', () => {
    fc.assert(
      fc.property(enrolment, pause, (e, p) => {
        const { rows, pausedAt, resumeAt, result } = paused(e, p);
        const resumedAt = new Date(
          pausedAt.getTime() + p.resumeFraction * (resumeAt.getTime() - pausedAt.getTime()),
        );
        const resumed = resumePlan(result.rows, {
          resumedAt,
          pausedWeeks: result.shiftedWeeks,
          ...e.calendar,
        });
        expect(resumed.shiftedWeeks).toBeLessThanOrEqual(0);
        expect(resumed.shiftedWeeks).toBeGreaterThanOrEqual(-result.shiftedWeeks);
        resumed.rows.forEach((row, i) => {
          if (result.rows[i]!.dueAt < resumedAt) return expect(row).toBe(result.rows[i]);
          expect(row.dueAt >= resumedAt, row.stepKey).toBe(true);
          expect(row.dueAt >= rows[i]!.dueAt, row.stepKey).toBe(true);
        });
        expectWellPlaced(resumed.rows, e.calendar);
      }),
    );
  });
});
