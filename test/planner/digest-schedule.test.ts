import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { currentDigest, digestSchedule, isWorkingDate } from '../../src/planner/index.js';
import { addDays, slotOf } from '../../src/planner/local-time.js';
import { dayNames } from '../../src/sequence/schema.js';

/** What a digest looks like on the manager's clock: "Mon 2027-01-04 08:00". */
const local = (instant: Date, zone: string) =>
  DateTime.fromJSDate(instant, { zone }).toFormat('ccc yyyy-MM-dd HH:mm');

describe('the manager digest schedule', () => {
  it('sends one digest a fortnight from the anchor, and a wrap-up after week 12', () => {
    const slots = digestSchedule({ anchor: '2027-01-04', zone: 'Europe/London' });
    expect(
      slots.map((s) => [s.periodStartsOn, s.periodEndsOn, s.sendAt.toISOString(), s.weeks]),
    ).toEqual([
      ['2027-01-04', '2027-01-17', '2027-01-04T08:00:00.000Z', [1, 2]],
      ['2027-01-18', '2027-01-31', '2027-01-18T08:00:00.000Z', [3, 4]],
      ['2027-02-01', '2027-02-14', '2027-02-01T08:00:00.000Z', [5, 6]],
      ['2027-02-15', '2027-02-28', '2027-02-15T08:00:00.000Z', [7, 8]],
      ['2027-03-01', '2027-03-14', '2027-03-01T08:00:00.000Z', [9, 10]],
      ['2027-03-15', '2027-03-28', '2027-03-15T08:00:00.000Z', [11, 12]],
      // British Summer Time from 28 March: still 08:00 in London, an hour earlier in UTC.
      ['2027-03-29', '2027-04-11', '2027-03-29T07:00:00.000Z', [13, 14]],
    ]);
  });

  it('keeps 08:00 on a New York manager’s clock across the March change of clocks', () => {
    // The US clocks go forward on Sunday 14 March 2027: EST (UTC-5) before, EDT (UTC-4) after.
    const slots = digestSchedule({ anchor: '2027-03-01', zone: 'America/New_York' });
    expect(slots.slice(0, 2).map((s) => s.sendAt.toISOString())).toEqual([
      '2027-03-01T13:00:00.000Z',
      '2027-03-15T12:00:00.000Z',
    ]);
    expect(slots.map((s) => local(s.sendAt, 'America/New_York'))).toEqual([
      'Mon 2027-03-01 08:00',
      'Mon 2027-03-15 08:00',
      'Mon 2027-03-29 08:00',
      'Mon 2027-04-12 08:00',
      'Mon 2027-04-26 08:00',
      'Mon 2027-05-10 08:00',
      'Mon 2027-05-24 08:00',
    ]);
  });

  it('moves a digest off a holiday to the next working day, at the same time', () => {
    // Easter Monday 2027 is 29 March; the wrap-up goes on Tuesday instead, its period unchanged.
    const slots = digestSchedule({
      anchor: '2027-01-04',
      zone: 'Europe/London',
      holidays: new Set(['2027-03-29']),
      sendAt: '07:30',
    });
    const wrapUp = slots.at(-1)!;
    expect(wrapUp.periodStartsOn).toBe('2027-03-29');
    expect(local(wrapUp.sendAt, 'Europe/London')).toBe('Tue 2027-03-30 07:30');
    expect(local(slots[0]!.sendAt, 'Europe/London')).toBe('Mon 2027-01-04 07:30');
  });

  it('starts on the first working day of a fortnight that opens on a day off', () => {
    // An anchor on a Saturday (say, from a manager's hand-picked date) sends on the Monday.
    const [first] = digestSchedule({ anchor: '2027-01-02', zone: 'Europe/London', weeks: 2 });
    expect(local(first!.sendAt, 'Europe/London')).toBe('Mon 2027-01-04 08:00');
  });

  it('covers an odd length with whole fortnights, then the wrap-up', () => {
    const slots = digestSchedule({ anchor: '2027-01-04', zone: 'UTC', weeks: 5 });
    expect(slots.map((s) => s.weeks)).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ]);
  });

  it('refuses an anchor, zone, time or length that is not one, as the user’s error', () => {
    const bad = [
      { anchor: '2027-02-30', zone: 'Europe/London' },
      { anchor: '2027-01-04', zone: 'Europe/Londn' },
      { anchor: '2027-01-04', zone: 'Europe/London', sendAt: '8am' },
      { anchor: '2027-01-04', zone: 'Europe/London', weeks: 0 },
    ];
    for (const input of bad)
      expect(() => digestSchedule(input)).toThrowError(
        expect.objectContaining({ name: 'GymError', code: 'USAGE' }) as Error,
      );
  });

  it('finds the current digest: the latest one sent by now', () => {
    const slots = digestSchedule({ anchor: '2027-01-04', zone: 'Europe/London' });
    expect(currentDigest(slots, new Date('2027-01-04T07:59:59Z'))).toBeUndefined();
    expect(currentDigest(slots, new Date('2027-01-04T08:00:00Z'))?.weeks).toEqual([1, 2]);
    expect(currentDigest(slots, new Date('2027-01-20T12:00:00Z'))?.weeks).toEqual([3, 4]);
    expect(currentDigest(slots, new Date('2028-01-01T00:00:00Z'))?.weeks).toEqual([13, 14]);
    expect(currentDigest([], new Date())).toBeUndefined();
  });
});

/** Northern and southern summer time, none, half hours, and changes at midnight (Santiago, Havana). */
const zones = [
  'Europe/London',
  'America/New_York',
  'Australia/Sydney',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'America/Santiago',
  'America/Havana',
  'UTC',
] as const;

const firstDay = DateTime.fromISO('2026-01-01', { zone: 'utc' });
const date = (offset: number) => firstDay.plus({ days: offset }).toISODate()!;
const clock = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
  .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);

describe('the manager digest schedule, for any calendar', () => {
  it('sends on a working day, never before its fortnight starts, each after the one before', () => {
    fc.assert(
      fc.property(
        fc.record({
          anchor: fc.nat(5 * 365).map(date),
          zone: fc.constantFrom(...zones),
          // At least two working days a week and at most three holidays: every fortnight keeps a
          // working day, which is what the schedule promises its order on.
          workingDays: fc.subarray([...dayNames], { minLength: 2 }),
          holidayOffsets: fc.array(fc.nat(200), { maxLength: 3 }),
          sendAt: clock,
          weeks: fc.integer({ min: 1, max: 16 }),
        }),
        ({ anchor, zone, workingDays, holidayOffsets, sendAt, weeks }) => {
          const holidays = new Set(holidayOffsets.map((days) => addDays(anchor, days)));
          const slots = digestSchedule({ anchor, zone, workingDays, holidays, sendAt, weeks });
          const calendar = { zone, workingDays, holidays };
          expect(slots).toHaveLength(Math.ceil(weeks / 2) + 1);
          slots.forEach((slot, index) => {
            expect(isWorkingDate(slotOf(slot.sendAt, zone).date, calendar)).toBe(true);
            const periodStart = DateTime.fromISO(slot.periodStartsOn, { zone }).startOf('day');
            expect(slot.sendAt.getTime()).toBeGreaterThanOrEqual(periodStart.toMillis());
            const before = slots[index - 1];
            if (before) expect(slot.sendAt.getTime()).toBeGreaterThan(before.sendAt.getTime());
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
