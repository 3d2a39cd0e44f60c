import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { holidaysFromIcs, holidaysFromList, planEnrolment } from '../../src/planner/index.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import type { Sequence } from '../../src/sequence/schema.js';
import { fixture, programme, show, type StepSpec } from './helpers.js';

const england = holidaysFromList(fixture('holidays/england-and-wales-2026-2028.txt')).holidays;
const shutdown = holidaysFromIcs(fixture('holidays/closures.ics')).holidays;
const allWeek = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const each = (steps: readonly StepSpec[]) => Array.from({ length: 12 }, () => steps);

interface Case {
  readonly name: string;
  readonly zone: string;
  readonly startsOn: string;
  readonly holidays?: ReadonlySet<string>;
  readonly sequence?: Pick<Sequence, 'schedule' | 'weeks'>;
  /** The weeks to show; all of them when absent. */
  readonly weeks: readonly number[];
  readonly expected: readonly string[];
}

const cases: Case[] = [
  {
    name: 'a start on Monday: the programme as written',
    zone: 'Europe/London',
    startsOn: '2027-01-04',
    weeks: [1, 2],
    expected: [
      'w01-kickoff Mon 2027-01-04 09:00 +00:00',
      'w01-practice Wed 2027-01-06 14:00 +00:00',
      'w01-nudge Thu 2027-01-07 09:00 +00:00',
      'w02-kickoff Mon 2027-01-11 09:00 +00:00',
      'w02-practice Wed 2027-01-13 14:00 +00:00',
      'w02-nudge Thu 2027-01-14 09:00 +00:00',
    ],
  },
  {
    name: "a start on Wednesday: Monday's kickoff comes on the start day, at its own time",
    zone: 'Europe/London',
    startsOn: '2027-01-06',
    weeks: [1, 2],
    expected: [
      'w01-kickoff Wed 2027-01-06 09:00 +00:00',
      'w01-practice Wed 2027-01-06 14:00 +00:00',
      'w01-nudge Thu 2027-01-07 09:00 +00:00',
      'w02-kickoff Mon 2027-01-11 09:00 +00:00',
      'w02-practice Wed 2027-01-13 14:00 +00:00',
      'w02-nudge Thu 2027-01-14 09:00 +00:00',
    ],
  },
  {
    name: 'a start on Saturday: week 1 is the week of the first working day, not crammed into Monday',
    zone: 'Europe/London',
    startsOn: '2027-01-09',
    weeks: [1],
    expected: [
      'w01-kickoff Mon 2027-01-11 09:00 +00:00',
      'w01-practice Wed 2027-01-13 14:00 +00:00',
      'w01-nudge Thu 2027-01-14 09:00 +00:00',
    ],
  },
  {
    name: 'the Early May bank holiday (England, Monday 2027-05-03) moves the kickoff to Tuesday',
    zone: 'Europe/London',
    startsOn: '2027-04-26',
    holidays: england,
    weeks: [2, 3],
    expected: [
      'w02-kickoff Tue 2027-05-04 09:00 +01:00',
      'w02-practice Wed 2027-05-05 14:00 +01:00',
      'w02-nudge Thu 2027-05-06 09:00 +01:00',
      'w03-kickoff Mon 2027-05-10 09:00 +01:00',
      'w03-practice Wed 2027-05-12 14:00 +01:00',
      'w03-nudge Thu 2027-05-13 09:00 +01:00',
    ],
  },
  {
    name: 'a start on the bank holiday itself begins on Tuesday',
    zone: 'Europe/London',
    startsOn: '2027-05-03',
    holidays: england,
    weeks: [1],
    expected: [
      'w01-kickoff Tue 2027-05-04 09:00 +01:00',
      'w01-practice Wed 2027-05-05 14:00 +01:00',
      'w01-nudge Thu 2027-05-06 09:00 +01:00',
    ],
  },
  {
    name: 'Christmas week in England, 2026: Boxing Day is on Monday 28th, so that kickoff is on Tuesday',
    zone: 'Europe/London',
    startsOn: '2026-12-07',
    holidays: england,
    weeks: [3, 4, 5],
    expected: [
      'w03-kickoff Mon 2026-12-21 09:00 +00:00',
      'w03-practice Wed 2026-12-23 14:00 +00:00',
      'w03-nudge Thu 2026-12-24 09:00 +00:00',
      'w04-kickoff Tue 2026-12-29 09:00 +00:00',
      'w04-practice Wed 2026-12-30 14:00 +00:00',
      'w04-nudge Thu 2026-12-31 09:00 +00:00',
      'w05-kickoff Mon 2027-01-04 09:00 +00:00',
      'w05-practice Wed 2027-01-06 14:00 +00:00',
      'w05-nudge Thu 2027-01-07 09:00 +00:00',
    ],
  },
  {
    // What the rules say, pinned so nobody is surprised: over a closure this long, pause the
    // cohort instead (pausePlan), which keeps the weekly rhythm.
    name: 'a Christmas shutdown (24 Dec to 1 Jan) crowds the steps it covers onto the day it ends, in order',
    zone: 'Europe/London',
    startsOn: '2026-12-07',
    holidays: new Set([...england, ...shutdown]),
    weeks: [3, 4, 5],
    expected: [
      'w03-kickoff Mon 2026-12-21 09:00 +00:00',
      'w03-practice Wed 2026-12-23 14:00 +00:00',
      'w03-nudge Mon 2027-01-04 09:00 +00:00',
      'w04-kickoff Mon 2027-01-04 09:00 +00:00',
      'w04-practice Mon 2027-01-04 14:00 +00:00',
      'w04-nudge Mon 2027-01-04 14:00 +00:00',
      'w05-kickoff Mon 2027-01-04 14:00 +00:00',
      'w05-practice Wed 2027-01-06 14:00 +00:00',
      'w05-nudge Thu 2027-01-07 09:00 +00:00',
    ],
  },
  {
    name: 'steps keep the programme order: Monday to Wednesday off, so the nudge waits for the practice',
    zone: 'Europe/London',
    startsOn: '2027-01-04',
    holidays: new Set(['2027-01-11', '2027-01-12', '2027-01-13']),
    weeks: [2, 3],
    expected: [
      'w02-kickoff Thu 2027-01-14 09:00 +00:00',
      'w02-practice Thu 2027-01-14 14:00 +00:00',
      'w02-nudge Thu 2027-01-14 14:00 +00:00',
      'w03-kickoff Mon 2027-01-18 09:00 +00:00',
      'w03-practice Wed 2027-01-20 14:00 +00:00',
      'w03-nudge Thu 2027-01-21 09:00 +00:00',
    ],
  },
  {
    name: 'Europe/London, clocks forward on Sunday 2027-03-28: 09:00 stays 09:00 (08:00 UTC)',
    zone: 'Europe/London',
    startsOn: '2027-03-15',
    weeks: [2, 3],
    expected: [
      'w02-kickoff Mon 2027-03-22 09:00 +00:00',
      'w02-practice Wed 2027-03-24 14:00 +00:00',
      'w02-nudge Thu 2027-03-25 09:00 +00:00',
      'w03-kickoff Mon 2027-03-29 09:00 +01:00',
      'w03-practice Wed 2027-03-31 14:00 +01:00',
      'w03-nudge Thu 2027-04-01 09:00 +01:00',
    ],
  },
  {
    name: 'Europe/London, clocks back on Sunday 2027-10-31',
    zone: 'Europe/London',
    startsOn: '2027-10-18',
    weeks: [2, 3],
    expected: [
      'w02-kickoff Mon 2027-10-25 09:00 +01:00',
      'w02-practice Wed 2027-10-27 14:00 +01:00',
      'w02-nudge Thu 2027-10-28 09:00 +01:00',
      'w03-kickoff Mon 2027-11-01 09:00 +00:00',
      'w03-practice Wed 2027-11-03 14:00 +00:00',
      'w03-nudge Thu 2027-11-04 09:00 +00:00',
    ],
  },
  {
    name: 'America/New_York, clocks forward on 2027-03-14, two weeks before London',
    zone: 'America/New_York',
    startsOn: '2027-03-01',
    weeks: [2, 3],
    expected: [
      'w02-kickoff Mon 2027-03-08 09:00 -05:00',
      'w02-practice Wed 2027-03-10 14:00 -05:00',
      'w02-nudge Thu 2027-03-11 09:00 -05:00',
      'w03-kickoff Mon 2027-03-15 09:00 -04:00',
      'w03-practice Wed 2027-03-17 14:00 -04:00',
      'w03-nudge Thu 2027-03-18 09:00 -04:00',
    ],
  },
  {
    name: 'America/New_York, clocks back on 2027-11-07, a week after London',
    zone: 'America/New_York',
    startsOn: '2027-10-25',
    weeks: [2, 3],
    expected: [
      'w02-kickoff Mon 2027-11-01 09:00 -04:00',
      'w02-practice Wed 2027-11-03 14:00 -04:00',
      'w02-nudge Thu 2027-11-04 09:00 -04:00',
      'w03-kickoff Mon 2027-11-08 09:00 -05:00',
      'w03-practice Wed 2027-11-10 14:00 -05:00',
      'w03-nudge Thu 2027-11-11 09:00 -05:00',
    ],
  },
  {
    name: 'Australia/Sydney, southern hemisphere: summer time ends on 2027-04-04',
    zone: 'Australia/Sydney',
    startsOn: '2027-03-22',
    weeks: [2, 3],
    expected: [
      'w02-kickoff Mon 2027-03-29 09:00 +11:00',
      'w02-practice Wed 2027-03-31 14:00 +11:00',
      'w02-nudge Thu 2027-04-01 09:00 +11:00',
      'w03-kickoff Mon 2027-04-05 09:00 +10:00',
      'w03-practice Wed 2027-04-07 14:00 +10:00',
      'w03-nudge Thu 2027-04-08 09:00 +10:00',
    ],
  },
  {
    name: 'Australia/Sydney: summer time starts on 2027-10-03',
    zone: 'Australia/Sydney',
    startsOn: '2027-09-20',
    weeks: [2, 3],
    expected: [
      'w02-kickoff Mon 2027-09-27 09:00 +10:00',
      'w02-practice Wed 2027-09-29 14:00 +10:00',
      'w02-nudge Thu 2027-09-30 09:00 +10:00',
      'w03-kickoff Mon 2027-10-04 09:00 +11:00',
      'w03-practice Wed 2027-10-06 14:00 +11:00',
      'w03-nudge Thu 2027-10-07 09:00 +11:00',
    ],
  },
  {
    name: 'Asia/Kolkata: no summer time, half an hour off the hour',
    zone: 'Asia/Kolkata',
    startsOn: '2027-03-22',
    weeks: [1],
    expected: [
      'w01-kickoff Mon 2027-03-22 09:00 +05:30',
      'w01-practice Wed 2027-03-24 14:00 +05:30',
      'w01-nudge Thu 2027-03-25 09:00 +05:30',
    ],
  },
  {
    name: "a sending window (08:00 to 18:00): 07:30 waits for 08:00; Friday's 19:00 goes to Monday, not before week 2",
    zone: 'Europe/London',
    startsOn: '2027-01-04',
    sequence: programme(
      each([
        { id: 'kickoff', day: 'mon' },
        { id: 'practice', day: 'wed', at: '12:00', invite: true },
        { id: 'evening', day: 'fri', at: '19:00' },
      ]),
      { send_at: '07:30', window: { from: '08:00', to: '18:00' } },
    ),
    weeks: [1, 2],
    expected: [
      'w01-kickoff Mon 2027-01-04 08:00 +00:00',
      'w01-practice Wed 2027-01-06 12:00 +00:00',
      'w01-evening Mon 2027-01-11 08:00 +00:00',
      'w02-kickoff Mon 2027-01-11 08:00 +00:00',
      'w02-practice Wed 2027-01-13 12:00 +00:00',
      'w02-evening Mon 2027-01-18 08:00 +00:00',
    ],
  },
  {
    name: 'a window over midnight (22:00 to 06:00) with weekends on',
    zone: 'Asia/Kolkata',
    startsOn: '2027-01-04',
    sequence: programme(
      each([
        { id: 'late', day: 'sat', at: '23:30' },
        { id: 'early', day: 'sun', at: '05:00' },
        { id: 'noon', day: 'sun', at: '12:00' },
      ]),
      { working_days: [...allWeek], window: { from: '22:00', to: '06:00' } },
    ),
    weeks: [1],
    expected: [
      'w01-late Sat 2027-01-09 23:30 +05:30',
      'w01-early Sun 2027-01-10 05:00 +05:30',
      'w01-noon Sun 2027-01-10 22:00 +05:30',
    ],
  },
  {
    name: 'a time the clocks skip (01:30 on 2027-03-28 in London) moves to the first minute after: 02:00 BST',
    zone: 'Europe/London',
    startsOn: '2027-03-22',
    sequence: programme(each([{ id: 'night', day: 'sun', at: '01:30' }]), {
      working_days: [...allWeek],
    }),
    weeks: [1, 2],
    expected: ['w01-night Sun 2027-03-28 02:00 +01:00', 'w02-night Sun 2027-04-04 01:30 +01:00'],
  },
  {
    name: 'a time that happens twice (01:30 on 2027-10-31 in London) is the first, still BST',
    zone: 'Europe/London',
    startsOn: '2027-10-25',
    sequence: programme(each([{ id: 'night', day: 'sun', at: '01:30' }]), {
      working_days: [...allWeek],
    }),
    weeks: [1, 2],
    expected: ['w01-night Sun 2027-10-31 01:30 +01:00', 'w02-night Sun 2027-11-07 01:30 +00:00'],
  },
  {
    name: 'America/New_York: 02:30 on 2027-03-14 does not exist, 03:00 EDT does; 01:30 on 2027-11-07 is EDT',
    zone: 'America/New_York',
    startsOn: '2027-03-08',
    sequence: programme(each([{ id: 'night', day: 'sun', at: '02:30' }]), {
      working_days: [...allWeek],
    }),
    weeks: [1, 2],
    expected: ['w01-night Sun 2027-03-14 03:00 -04:00', 'w02-night Sun 2027-03-21 02:30 -04:00'],
  },
];

describe('planEnrolment', () => {
  it.each(cases)('$name', (c) => {
    const rows = planEnrolment({
      sequence: c.sequence ?? programme(),
      startsOn: c.startsOn,
      zone: c.zone,
      holidays: c.holidays ?? new Set(),
    });
    expect(
      rows.filter((row) => c.weeks.includes(row.week)).map((row) => show(row, c.zone)),
    ).toEqual(c.expected);
  });

  it('gives each row its key, week, step, kind, instant, local time and planned slot', () => {
    const rows = planEnrolment({
      sequence: programme(),
      startsOn: '2027-05-03',
      zone: 'Europe/London',
      holidays: england,
    });
    expect(rows).toHaveLength(36);
    expect(rows.slice(0, 2)).toEqual([
      {
        stepKey: 'w01-kickoff',
        week: 1,
        stepId: 'kickoff',
        kind: 'email',
        dueAt: new Date('2027-05-04T08:00:00.000Z'),
        local: '2027-05-04T09:00',
        planned: '2027-05-04T09:00',
      },
      {
        stepKey: 'w01-practice',
        week: 1,
        stepId: 'practice',
        kind: 'invite',
        dueAt: new Date('2027-05-05T13:00:00.000Z'),
        local: '2027-05-05T14:00',
        planned: '2027-05-05T14:00',
      },
    ]);
  });

  it('keeps the planned slot apart from where the step landed', () => {
    const rows = planEnrolment({
      sequence: programme(),
      startsOn: '2027-04-26',
      zone: 'Europe/London',
      holidays: england,
    });
    const kickoff = rows.find((row) => row.stepKey === 'w02-kickoff')!;
    expect([kickoff.planned, kickoff.local]).toEqual(['2027-05-03T09:00', '2027-05-04T09:00']);
  });

  it('orders steps by day and time, whatever order the file lists them in', () => {
    const rows = planEnrolment({
      sequence: programme(
        each([
          { id: 'b', day: 'wed', at: '16:00' },
          { id: 'a', day: 'wed', at: '08:00' },
          { id: 'c', day: 'mon' },
        ]),
      ),
      startsOn: '2027-01-04',
      zone: 'Europe/London',
      holidays: new Set(),
    });
    expect(rows.slice(0, 3).map((row) => `${row.stepKey} ${row.local}`)).toEqual([
      'w01-c 2027-01-04T09:00',
      'w01-a 2027-01-06T08:00',
      'w01-b 2027-01-06T16:00',
    ]);
  });

  it('refuses a zone or a date that is not one, naming it', () => {
    const plan = (zone: string, startsOn: string) => () =>
      planEnrolment({ sequence: programme(), startsOn, zone, holidays: new Set() });
    expect(plan('Europe/Lundon', '2027-01-04')).toThrowErrorMatchingInlineSnapshot(
      `[GymError: time zone "Europe/Lundon" is not an IANA zone name (expected one such as Europe/London or America/New_York)]`,
    );
    expect(plan('+05:30', '2027-01-04')).toThrowErrorMatchingInlineSnapshot(
      `[GymError: time zone "+05:30" is not an IANA zone name (expected one such as Europe/London or America/New_York)]`,
    );
    expect(plan('Europe/London', '2027-02-30')).toThrowErrorMatchingInlineSnapshot(
      `[GymError: start date "2027-02-30" is not a date (expected YYYY-MM-DD, such as 2027-05-03)]`,
    );
  });
});

describe('the timeline of a shipped programme', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const [loaded] = loadSequenceFiles(['sequences/digital-foundations.yaml'], root);
  if (!loaded?.ok) throw new Error('sequences/digital-foundations.yaml does not load');

  it('digital-foundations from Monday 2027-05-03 (a bank holiday) in London: the first two weeks', () => {
    const rows = planEnrolment({
      sequence: loaded.sequence,
      startsOn: '2027-05-03',
      zone: 'Europe/London',
      holidays: england,
    });
    expect(rows).toHaveLength(loaded.sequence.weeks.flatMap((w) => w.steps).length);
    expect(
      rows.filter((row) => row.week <= 2).map((row) => `${row.stepKey} ${row.kind} ${row.local}`),
    ).toMatchInlineSnapshot(`
      [
        "w01-kickoff email 2027-05-04T09:00",
        "w01-practice invite 2027-05-05T14:00",
        "w01-nudge email 2027-05-06T09:00",
        "w02-kickoff email 2027-05-10T09:00",
        "w02-practice invite 2027-05-12T10:00",
        "w02-nudge email 2027-05-13T09:00",
      ]
    `);
  });
});
