import { describe, expect, it } from 'vitest';
import {
  holidaysFromList,
  pausePlan,
  planEnrolment,
  resumePlan,
  type PlannedDelivery,
} from '../../src/planner/index.js';
import type { DayName } from '../../src/sequence/schema.js';
import { fixture, londonWorkingWeek, programme, show, type StepSpec } from './helpers.js';

const england = holidaysFromList(fixture('holidays/england-and-wales-2026-2028.txt')).holidays;
const london = 'Europe/London';

function plan(startsOn: string, holidays: ReadonlySet<string> = new Set()) {
  return planEnrolment({ sequence: programme(), startsOn, zone: london, holidays });
}

const weeks = (rows: readonly PlannedDelivery[], ...numbers: number[]) =>
  rows.filter((row) => numbers.includes(row.week)).map((row) => show(row, london));

describe('pausePlan', () => {
  it('moves every pending row by the fewest whole weeks that clear the pause (the doc example)', () => {
    const rows = plan('2027-01-04');
    // Friday after the week's steps: "pause until 18 Jan".
    const paused = pausePlan(rows, {
      pausedAt: new Date('2027-01-08T17:00Z'),
      resumeAt: new Date('2027-01-18T00:00Z'),
      ...londonWorkingWeek,
    });
    expect(paused.shiftedWeeks).toBe(1);
    expect(weeks(paused.rows, 1, 2)).toEqual([
      'w01-kickoff Mon 2027-01-04 09:00 +00:00',
      'w01-practice Wed 2027-01-06 14:00 +00:00',
      'w01-nudge Thu 2027-01-07 09:00 +00:00',
      'w02-kickoff Mon 2027-01-18 09:00 +00:00',
      'w02-practice Wed 2027-01-20 14:00 +00:00',
      'w02-nudge Thu 2027-01-21 09:00 +00:00',
    ]);
    // Sent rows are the very same objects; every other row changed and is listed once.
    expect(paused.rows.slice(0, 3)).toEqual(rows.slice(0, 3));
    paused.rows.slice(0, 3).forEach((row, i) => expect(row).toBe(rows[i]));
    expect(paused.changed.map((row) => row.stepKey)).toEqual(
      rows.slice(3).map((row) => row.stepKey),
    );
    expect(paused.changed.filter((row) => row.kind === 'invite')).toHaveLength(11);
  });

  it('pauses mid-week: the rest of the week comes after the pause, in order (the doc example)', () => {
    const rows = plan('2027-01-04');
    const paused = pausePlan(rows, {
      pausedAt: new Date('2027-01-13T10:00Z'),
      resumeAt: new Date('2027-02-03T10:00Z'),
      ...londonWorkingWeek,
    });
    expect(paused.shiftedWeeks).toBe(3);
    expect(weeks(paused.rows, 2, 3)).toEqual([
      'w02-kickoff Mon 2027-01-11 09:00 +00:00',
      'w02-practice Wed 2027-02-03 14:00 +00:00',
      'w02-nudge Thu 2027-02-04 09:00 +00:00',
      'w03-kickoff Mon 2027-02-08 09:00 +00:00',
      'w03-practice Wed 2027-02-10 14:00 +00:00',
      'w03-nudge Thu 2027-02-11 09:00 +00:00',
    ]);
  });

  it('settles each row again: off last time’s bank holiday, onto the next one’s Tuesday', () => {
    const rows = plan('2027-04-26', england);
    expect(weeks(rows, 2)[0]).toBe('w02-kickoff Tue 2027-05-04 09:00 +01:00');
    const calendar = { ...londonWorkingWeek, holidays: england };

    const overOneWeek = pausePlan(rows, {
      pausedAt: new Date('2027-05-02T12:00Z'),
      resumeAt: new Date('2027-05-09T12:00Z'),
      ...calendar,
    });
    expect(weeks(overOneWeek.rows, 2)[0]).toBe('w02-kickoff Mon 2027-05-10 09:00 +01:00');

    const overFourWeeks = pausePlan(rows, {
      pausedAt: new Date('2027-05-02T12:00Z'),
      resumeAt: new Date('2027-05-30T12:00Z'),
      ...calendar,
    });
    expect(weeks(overFourWeeks.rows, 2)[0]).toBe('w02-kickoff Tue 2027-06-01 09:00 +01:00');
  });

  it('keeps the local time across a change of clocks', () => {
    const rows = plan('2027-03-01');
    const paused = pausePlan(rows, {
      pausedAt: new Date('2027-03-12T12:00Z'),
      resumeAt: new Date('2027-03-26T12:00Z'),
      ...londonWorkingWeek,
    });
    expect(weeks(paused.rows, 3)).toEqual([
      'w03-kickoff Mon 2027-03-29 09:00 +01:00',
      'w03-practice Wed 2027-03-31 14:00 +01:00',
      'w03-nudge Thu 2027-04-01 09:00 +01:00',
    ]);
  });

  it('moves a row that holidays pushed past its planned slot as many weeks as it takes', () => {
    // Fridays only, Christmas and New Year on Fridays: w03's Christmas Day step is due on
    // 8 January with w04's and w05's. A minute's pause then moves the plan three weeks, not
    // one: one and two weeks on, w03's planned slot still lands on the 8th, in the pause.
    const calendar = {
      ...londonWorkingWeek,
      workingDays: ['fri'] as DayName[],
      holidays: new Set(['2026-12-25', '2027-01-01']),
    };
    const fridays = Array.from({ length: 12 }, () => [{ id: 'step', day: 'fri' as const }]);
    const sequence = programme(fridays, { working_days: calendar.workingDays });
    const rows = planEnrolment({ sequence, startsOn: '2026-12-07', ...calendar });
    const paused = pausePlan(rows, {
      pausedAt: new Date('2027-01-08T09:00Z'),
      resumeAt: new Date('2027-01-08T09:01Z'),
      ...calendar,
    });
    expect(paused.shiftedWeeks).toBe(3);
    expect(weeks(rows, 3, 4, 5, 6)).toEqual([
      'w03-step Fri 2027-01-08 09:00 +00:00',
      'w04-step Fri 2027-01-08 09:00 +00:00',
      'w05-step Fri 2027-01-08 09:00 +00:00',
      'w06-step Fri 2027-01-15 09:00 +00:00',
    ]);
    expect(weeks(paused.rows, 3, 4, 5, 6)).toEqual([
      'w03-step Fri 2027-01-15 09:00 +00:00',
      'w04-step Fri 2027-01-22 09:00 +00:00',
      'w05-step Fri 2027-01-29 09:00 +00:00',
      'w06-step Fri 2027-02-05 09:00 +00:00',
    ]);
  });

  it.each([
    {
      name: 'the pause ends before the next row',
      pausedAt: '2027-01-08T17:00Z',
      resumeAt: '2027-01-11T00:00Z',
    },
    {
      name: 'resumeAt is not after pausedAt',
      pausedAt: '2027-01-08T17:00Z',
      resumeAt: '2027-01-08T17:00Z',
    },
    { name: 'the programme is over', pausedAt: '2027-04-01T00:00Z', resumeAt: '2027-05-01T00:00Z' },
  ])('changes nothing when $name', ({ pausedAt, resumeAt }) => {
    const rows = plan('2027-01-04');
    const paused = pausePlan(rows, {
      pausedAt: new Date(pausedAt),
      resumeAt: new Date(resumeAt),
      ...londonWorkingWeek,
    });
    expect(paused.shiftedWeeks).toBe(0);
    expect(paused.changed).toEqual([]);
    expect(paused.rows).toEqual(rows);
  });
});

describe('resumePlan', () => {
  const rows = plan('2027-01-04');
  const pausedAt = new Date('2027-01-13T10:00Z');
  const paused = pausePlan(rows, {
    pausedAt,
    resumeAt: new Date('2027-02-03T10:00Z'),
    ...londonWorkingWeek,
  });

  it('moves back by the weeks not used, keeping the next step at or after the resume (the doc example)', () => {
    const resumed = resumePlan(paused.rows, {
      resumedAt: new Date('2027-01-19T08:00Z'),
      pausedWeeks: paused.shiftedWeeks,
      ...londonWorkingWeek,
    });
    expect(resumed.shiftedWeeks).toBe(-2);
    expect(weeks(resumed.rows, 2, 3)).toEqual([
      'w02-kickoff Mon 2027-01-11 09:00 +00:00',
      'w02-practice Wed 2027-01-20 14:00 +00:00',
      'w02-nudge Thu 2027-01-21 09:00 +00:00',
      'w03-kickoff Mon 2027-01-25 09:00 +00:00',
      'w03-practice Wed 2027-01-27 14:00 +00:00',
      'w03-nudge Thu 2027-01-28 09:00 +00:00',
    ]);
    expect(resumed.changed).toHaveLength(rows.length - 4);
  });

  it('a day later, the practice slot has gone by: one week back, carrying on from the practice', () => {
    const resumed = resumePlan(paused.rows, {
      resumedAt: new Date('2027-01-21T08:00Z'),
      pausedWeeks: paused.shiftedWeeks,
      ...londonWorkingWeek,
    });
    expect(resumed.shiftedWeeks).toBe(-1);
    expect(weeks(resumed.rows, 2)[1]).toBe('w02-practice Wed 2027-01-27 14:00 +00:00');
  });

  it('at the moment of the pause gives back the plan before it', () => {
    const resumed = resumePlan(paused.rows, {
      resumedAt: pausedAt,
      pausedWeeks: paused.shiftedWeeks,
      ...londonWorkingWeek,
    });
    expect(resumed.shiftedWeeks).toBe(-3);
    expect(resumed.rows).toEqual(rows);
  });

  it('at the planned time changes nothing', () => {
    const resumed = resumePlan(paused.rows, {
      resumedAt: new Date('2027-02-03T10:00Z'),
      pausedWeeks: paused.shiftedWeeks,
      ...londonWorkingWeek,
    });
    expect(resumed.shiftedWeeks).toBe(0);
    expect(resumed.changed).toEqual([]);
    expect(resumed.rows).toEqual(paused.rows);
  });

  it('never moves a row back further than the pause moved it', () => {
    const resumed = resumePlan(paused.rows, {
      resumedAt: pausedAt,
      pausedWeeks: 1,
      ...londonWorkingWeek,
    });
    expect(resumed.shiftedWeeks).toBe(-1);
  });
});

describe('a crowded one-day week past a holiday (a fast-check counterexample)', () => {
  // Fridays only, sent 04:00 to 13:00, Good Friday 2026-03-27 a holiday: every step moves to a
  // Friday at 04:00, and from week 11 three steps crowd onto Friday 3 April. Paused for a minute
  // at the first step, the plan moves one week; w11-s2 and w12-s1 land on 3 April again, but
  // their planned slots move a week all the same, and the resume must start from there.
  const calendar = {
    zone: london,
    workingDays: ['fri'] as DayName[],
    holidays: new Set(['2026-03-27']),
    window: { from: '04:00', to: '13:00' },
  };
  const mondays = (count: number): StepSpec[] =>
    Array.from({ length: count }, (_, i) => ({ id: `s${i + 1}`, day: 'mon' }));
  const sequence = programme(
    [
      ...[1, 1, 2, 2, 2, 3, 3, 2, 1, 1].map(mondays),
      [
        { id: 's1', day: 'mon', at: '00:00' },
        { id: 's2', day: 'sat' },
      ],
      mondays(1),
    ],
    { send_at: '00:00', working_days: calendar.workingDays, window: calendar.window },
  );
  const rows = planEnrolment({ sequence, startsOn: '2026-01-03', ...calendar });
  const pausedAt = rows[0]!.dueAt;
  const paused = pausePlan(rows, {
    pausedAt,
    resumeAt: new Date(pausedAt.getTime() + 60_000),
    ...calendar,
  });
  const resumed = resumePlan(paused.rows, {
    resumedAt: pausedAt,
    pausedWeeks: paused.shiftedWeeks,
    ...calendar,
  });
  const row = (plan: readonly PlannedDelivery[], stepKey: string) =>
    plan.find((r) => r.stepKey === stepKey)!;

  it.each([
    {
      stepKey: 'w10-s1',
      before: ['w10-s1 Fri 2026-03-13 04:00 +00:00', '2026-03-09T00:00'],
      paused: ['w10-s1 Fri 2026-03-20 04:00 +00:00', '2026-03-16T00:00'],
      changed: true,
    },
    {
      stepKey: 'w11-s1',
      before: ['w11-s1 Fri 2026-03-20 04:00 +00:00', '2026-03-16T00:00'],
      paused: ['w11-s1 Fri 2026-04-03 04:00 +01:00', '2026-03-23T00:00'],
      changed: true,
    },
    {
      stepKey: 'w11-s2',
      before: ['w11-s2 Fri 2026-04-03 04:00 +01:00', '2026-03-21T00:00'],
      paused: ['w11-s2 Fri 2026-04-03 04:00 +01:00', '2026-03-28T00:00'],
      changed: false,
    },
    {
      stepKey: 'w12-s1',
      before: ['w12-s1 Fri 2026-04-03 04:00 +01:00', '2026-03-23T00:00'],
      paused: ['w12-s1 Fri 2026-04-03 04:00 +01:00', '2026-03-30T00:00'],
      changed: false,
    },
  ])('$stepKey: planned a week on by the pause, back by the resume', (expected) => {
    const shown = (r: PlannedDelivery) => [show(r, london), r.planned];
    expect(paused.shiftedWeeks).toBe(1);
    expect(resumed.shiftedWeeks).toBe(-1);
    expect(shown(row(rows, expected.stepKey))).toEqual(expected.before);
    expect(shown(row(paused.rows, expected.stepKey))).toEqual(expected.paused);
    expect(paused.changed.some((r) => r.stepKey === expected.stepKey)).toBe(expected.changed);
    expect(shown(row(resumed.rows, expected.stepKey))).toEqual(expected.before);
  });

  it('resumed at the moment of the pause, is the plan again, never before it', () => {
    expect(resumed.rows).toEqual(rows);
    resumed.rows.forEach((r, i) => expect(r.dueAt >= rows[i]!.dueAt, r.stepKey).toBe(true));
  });
});
