import { describe, expect, it } from 'vitest';
import { planEnrolment, planProgrammeEnd, planWelcome } from '../../src/planner/index.js';
import { programme } from './helpers.js';

/**
 * The welcome and the programme end around a learner's twelve weeks (#14 §1). Week 1 here starts
 * on Monday 4 January 2027, in London unless said otherwise.
 */
const sequence = programme();
const input = (now: Date | undefined, zone = 'Europe/London', holidays = new Set<string>()) => ({
  sequence,
  zone,
  holidays,
  plan: planEnrolment({ sequence, startsOn: '2027-01-04', zone, holidays }),
  now,
});
const welcomeAt = (...args: Parameters<typeof input>) => planWelcome(input(...args)).local;

describe('when the welcome goes', () => {
  it('goes the next morning after enrolment, at the learner’s send time', () => {
    // Enrolled on Wednesday 30 December in the afternoon: Thursday morning.
    expect(welcomeAt(new Date('2026-12-30T15:00:00Z'))).toBe('2026-12-31T09:00');
    // Enrolled before 09:00: the same morning.
    expect(welcomeAt(new Date('2026-12-30T07:00:00Z'))).toBe('2026-12-30T09:00');
  });

  it('goes no later than the working day before week 1, whichever is sooner', () => {
    // Enrolled weeks ahead: the next morning, not a month of silence.
    expect(welcomeAt(new Date('2026-12-01T12:00:00Z'))).toBe('2026-12-02T09:00');
    // Enrolled on the Thursday evening: Friday morning, the working day before week 1.
    expect(welcomeAt(new Date('2026-12-31T18:00:00Z'))).toBe('2027-01-01T09:00');
    // Without a moment of enrolment (an old caller): the working day before week 1.
    expect(welcomeAt(undefined)).toBe('2027-01-01T09:00');
    // A bank holiday on that Friday: Thursday is the working day before week 1.
    expect(welcomeAt(undefined, 'Europe/London', new Set(['2027-01-01']))).toBe('2026-12-31T09:00');
  });

  it('goes on enrolment once that morning has passed, on a working day; else the next morning', () => {
    // Friday afternoon for a Monday start: at once.
    const friday = new Date('2027-01-01T15:30:00Z');
    expect(planWelcome(input(friday)).sendAt).toEqual(friday);
    // Saturday: Monday morning, with (and, being planned first, before) the first step.
    expect(welcomeAt(new Date('2027-01-02T10:00:00Z'))).toBe('2027-01-04T09:00');
    // In week 1 already, on a Tuesday: at once.
    const tuesday = new Date('2027-01-05T11:00:00Z');
    expect(planWelcome(input(tuesday)).sendAt).toEqual(tuesday);
  });

  it('reads the morning on the learner’s clock', () => {
    // 15:00 UTC on Wednesday is already Thursday 02:00 in Sydney: that Thursday's 09:00.
    expect(welcomeAt(new Date('2026-12-30T15:00:00Z'), 'Australia/Sydney')).toBe(
      '2026-12-31T09:00',
    );
    expect(planWelcome(input(new Date('2026-12-30T15:00:00Z'), 'Australia/Sydney')).sendAt).toEqual(
      new Date('2026-12-30T22:00:00Z'),
    );
  });
});

describe('when the programme end goes', () => {
  it('goes the working morning after the last step, and moves past holidays', () => {
    // The last step is week 12's Thursday nudge, 25 March 2027: Friday 26 March, 09:00.
    const end = planProgrammeEnd(input(undefined));
    expect(end).toMatchObject({ stepKey: 'programme-end', kind: 'programme_end', week: 12 });
    expect(end.local).toBe('2027-03-26T09:00');
    expect(planProgrammeEnd(input(undefined, 'Europe/London', new Set(['2027-03-26']))).local).toBe(
      '2027-03-29T09:00',
    );
  });
});
