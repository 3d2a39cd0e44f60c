import { describe, expect, it } from 'vitest';
import {
  dueDecision,
  evaluateCondition,
  type DueDecision,
  type DueInput,
} from '../../src/planner/index.js';

const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri'] as const;
const office = { from: '08:00', to: '18:00' };

interface Case {
  readonly name: string;
  readonly input: Omit<DueInput, 'lateGrace' | 'zone'> & Partial<DueInput>;
  readonly action: DueDecision['action'];
  /** For `wait`: until when (ISO, UTC). */
  readonly until?: string;
}

// 2027-01-04 is a Monday; London is on GMT (UTC) in January.
const cases: Case[] = [
  {
    name: 'due now',
    input: { dueAt: new Date('2027-01-04T09:00Z'), now: new Date('2027-01-04T09:00Z') },
    action: 'send',
  },
  {
    name: 'a minute early',
    input: { dueAt: new Date('2027-01-04T09:00Z'), now: new Date('2027-01-04T08:59Z') },
    action: 'wait',
    until: '2027-01-04T09:00:00.000Z',
  },
  {
    name: 'late, within late_grace (the workers were down for a day)',
    input: { dueAt: new Date('2027-01-04T09:00Z'), now: new Date('2027-01-05T10:00Z') },
    action: 'send',
  },
  {
    name: 'exactly late_grace late still goes',
    input: { dueAt: new Date('2027-01-04T09:00Z'), now: new Date('2027-01-06T09:00Z') },
    action: 'send',
  },
  {
    name: 'a second past late_grace is missed',
    input: { dueAt: new Date('2027-01-04T09:00Z'), now: new Date('2027-01-06T09:00:01Z') },
    action: 'missed',
  },
  {
    name: 'a longer late_grace keeps it',
    input: {
      dueAt: new Date('2027-01-04T09:00Z'),
      now: new Date('2027-01-07T08:00Z'),
      lateGrace: '3d',
    },
    action: 'send',
  },
  {
    name: 'inside the window',
    input: {
      dueAt: new Date('2027-01-04T17:55Z'),
      now: new Date('2027-01-04T18:00:59Z'),
      window: office,
      workingDays: weekdays,
    },
    action: 'send',
  },
  {
    name: 'after the window closes: the next working day when it opens',
    input: {
      dueAt: new Date('2027-01-04T17:55Z'),
      now: new Date('2027-01-04T18:30Z'),
      window: office,
      workingDays: weekdays,
    },
    action: 'wait',
    until: '2027-01-05T08:00:00.000Z',
  },
  {
    name: 'before the window opens: the same day',
    input: {
      dueAt: new Date('2027-01-04T06:00Z'),
      now: new Date('2027-01-04T07:00Z'),
      window: office,
      workingDays: weekdays,
    },
    action: 'wait',
    until: '2027-01-04T08:00:00.000Z',
  },
  {
    name: "Friday after the window: Monday's opening is past late_grace, so missed now rather than later",
    input: {
      dueAt: new Date('2027-01-08T17:55Z'),
      now: new Date('2027-01-08T18:30Z'),
      window: office,
      workingDays: weekdays,
    },
    action: 'missed',
  },
  {
    name: 'Friday after the window, late_grace 3d: waits for Monday',
    input: {
      dueAt: new Date('2027-01-08T17:55Z'),
      now: new Date('2027-01-08T18:30Z'),
      window: office,
      workingDays: weekdays,
      lateGrace: '3d',
    },
    action: 'wait',
    until: '2027-01-11T08:00:00.000Z',
  },
  {
    name: 'the window opens after a holiday',
    input: {
      dueAt: new Date('2027-01-04T17:55Z'),
      now: new Date('2027-01-04T18:30Z'),
      window: office,
      workingDays: weekdays,
      holidays: new Set(['2027-01-05']),
    },
    action: 'wait',
    until: '2027-01-06T08:00:00.000Z',
  },
  {
    name: 'no window, a Saturday: waits for the next working day at the row’s own time',
    input: {
      dueAt: new Date('2027-01-08T09:00Z'),
      now: new Date('2027-01-09T10:00Z'),
      workingDays: weekdays,
      lateGrace: '4d',
    },
    action: 'wait',
    until: '2027-01-11T09:00:00.000Z',
  },
  {
    name: 'no working days given: every day is a sending day',
    input: { dueAt: new Date('2027-01-08T09:00Z'), now: new Date('2027-01-09T10:00Z') },
    action: 'send',
  },
  {
    name: 'the window is on the learner’s clock: 18:30 in Kolkata is 13:00 UTC',
    input: {
      dueAt: new Date('2027-01-04T12:25Z'),
      now: new Date('2027-01-04T13:00Z'),
      zone: 'Asia/Kolkata',
      window: office,
      workingDays: weekdays,
    },
    action: 'wait',
    until: '2027-01-05T02:30:00.000Z',
  },
  {
    name: 'a window over midnight (22:00 to 06:00): 05:59 is inside',
    input: {
      dueAt: new Date('2027-01-05T05:00Z'),
      now: new Date('2027-01-05T05:59Z'),
      window: { from: '22:00', to: '06:00' },
    },
    action: 'send',
  },
  {
    name: 'a window over midnight: 07:00 waits for 22:00 the same day',
    input: {
      dueAt: new Date('2027-01-05T05:00Z'),
      now: new Date('2027-01-05T07:00Z'),
      window: { from: '22:00', to: '06:00' },
    },
    action: 'wait',
    until: '2027-01-05T22:00:00.000Z',
  },
  {
    name: 'the window opens at 08:00 BST after the clocks go forward',
    input: {
      dueAt: new Date('2027-03-26T17:55Z'),
      now: new Date('2027-03-26T18:30Z'),
      window: office,
      workingDays: weekdays,
      lateGrace: '4d',
    },
    action: 'wait',
    until: '2027-03-29T07:00:00.000Z',
  },
];

const decide = (c: Case) => dueDecision({ lateGrace: '2d', zone: 'Europe/London', ...c.input });

describe('dueDecision', () => {
  it.each(cases)('$name', (c) => {
    const decision = decide(c);
    expect(decision.action).toBe(c.action);
    if (decision.action === 'wait') expect(decision.until.toISOString()).toBe(c.until);
    else expect(c.until).toBeUndefined();
  });

  it('says why, on the learner’s clock', () => {
    const reasons = cases.flatMap((c) => {
      const decision = decide(c);
      return decision.action === 'send' ? [] : [`${c.name}: ${decision.reason}`];
    });
    expect(reasons).toMatchInlineSnapshot(`
      [
        "a minute early: not due yet: due Mon 2027-01-04 09:00 Europe/London",
        "a second past late_grace is missed: due Mon 2027-01-04 09:00 Europe/London, 2d 1s ago: later than late_grace 2d",
        "after the window closes: the next working day when it opens: Mon 2027-01-04 18:30 Europe/London is outside the sending window 08:00-18:00; sending resumes Tue 2027-01-05 08:00 Europe/London",
        "before the window opens: the same day: Mon 2027-01-04 07:00 Europe/London is outside the sending window 08:00-18:00; sending resumes Mon 2027-01-04 08:00 Europe/London",
        "Friday after the window: Monday's opening is past late_grace, so missed now rather than later: due Fri 2027-01-08 17:55 Europe/London; Fri 2027-01-08 18:30 Europe/London is outside the sending window 08:00-18:00, and sending resumes Mon 2027-01-11 08:00 Europe/London: later than late_grace 2d",
        "Friday after the window, late_grace 3d: waits for Monday: Fri 2027-01-08 18:30 Europe/London is outside the sending window 08:00-18:00; sending resumes Mon 2027-01-11 08:00 Europe/London",
        "the window opens after a holiday: Mon 2027-01-04 18:30 Europe/London is outside the sending window 08:00-18:00; sending resumes Wed 2027-01-06 08:00 Europe/London",
        "no window, a Saturday: waits for the next working day at the row’s own time: Sat 2027-01-09 Europe/London is not a working day; sending resumes Mon 2027-01-11 09:00 Europe/London",
        "the window is on the learner’s clock: 18:30 in Kolkata is 13:00 UTC: Mon 2027-01-04 18:30 Asia/Kolkata is outside the sending window 08:00-18:00; sending resumes Tue 2027-01-05 08:00 Asia/Kolkata",
        "a window over midnight: 07:00 waits for 22:00 the same day: Tue 2027-01-05 07:00 Europe/London is outside the sending window 22:00-06:00; sending resumes Tue 2027-01-05 22:00 Europe/London",
        "the window opens at 08:00 BST after the clocks go forward: Fri 2027-03-26 18:30 Europe/London is outside the sending window 08:00-18:00; sending resumes Mon 2027-03-29 08:00 Europe/London",
      ]
    `);
  });
});

describe('evaluateCondition', () => {
  it.each([
    { when: undefined, done: [], expected: { send: true } },
    { when: { not_done: 'kickoff' }, done: [], expected: { send: true } },
    { when: { not_done: 'kickoff' }, done: ['practice'], expected: { send: true } },
    {
      when: { not_done: 'kickoff' },
      done: ['kickoff'],
      expected: { send: false, reason: 'kickoff is already done' },
    },
    { when: { done: 'kickoff' }, done: ['kickoff'], expected: { send: true } },
    {
      when: { done: 'kickoff' },
      done: [],
      expected: { send: false, reason: 'kickoff is not done yet' },
    },
  ])('$when with $done done', ({ when, done, expected }) => {
    expect(evaluateCondition(when, new Set(done))).toEqual(expected);
  });
});
