import { describe, expect, it } from 'vitest';
import { flagsOf, type TeamMember } from '../../src/engine/digests.js';
import { sampleSequence } from '../fixtures/sample-sequence.js';

/**
 * What a manager's digest flags about a learner (flagsOf): stuck, behind, quiet, paused. The
 * digest tests check the flags reach the email; these pin down each rule and its edges.
 */

// Monday 18 January 2027, the morning of a digest.
const now = new Date('2027-01-18T08:00:00Z');
const daysAgo = (days: number) => new Date(now.getTime() - days * 24 * 60 * 60 * 1000);

/** A learner on track: week 3, both earlier weeks done, replied three days ago. */
function member(overrides: Partial<TeamMember> = {}): TeamMember {
  return {
    learnerId: 1,
    firstName: 'Aisha',
    lastName: 'Khan',
    email: 'aisha.khan@businessandtrade.gov.uk',
    role: 'policy-officer',
    organisation: 'Department for Business and Trade',
    shareWithManager: true,
    versionId: 1,
    sequence: sampleSequence(),
    pausedUntil: null,
    currentWeek: 3,
    weeksDue: 2,
    weeksDone: 2,
    lastReplyAt: daysAgo(3),
    stuckSince: null,
    firstSentAt: daysAgo(14),
    reflection: null,
    ...overrides,
  };
}

describe('the flags of a learner in a manager digest', () => {
  it('flags nothing for a learner on track', () => {
    expect(flagsOf(member(), now, 'Europe/London')).toEqual([]);
  });

  it('flags "stuck" after a "too hard" or "help" not followed by "done"', () => {
    expect(flagsOf(member({ stuckSince: daysAgo(2) }), now, 'Europe/London')).toEqual([
      { kind: 'stuck' },
    ]);
  });

  it('flags "behind" two weeks short of what is due, not one', () => {
    expect(flagsOf(member({ weeksDue: 2, weeksDone: 0 }), now, 'Europe/London')).toEqual([
      { kind: 'behind' },
    ]);
    expect(flagsOf(member({ weeksDue: 2, weeksDone: 1 }), now, 'Europe/London')).toEqual([]);
  });

  it('flags "quiet" after ten days without a reply, counting from the first email if none', () => {
    expect(flagsOf(member({ lastReplyAt: daysAgo(10) }), now, 'Europe/London')).toEqual([
      { kind: 'quiet', detail: 'for 10 days' },
    ]);
    expect(flagsOf(member({ lastReplyAt: daysAgo(9) }), now, 'Europe/London')).toEqual([]);
    expect(
      flagsOf(member({ lastReplyAt: null, firstSentAt: daysAgo(14) }), now, 'Europe/London'),
    ).toEqual([{ kind: 'quiet', detail: 'for 14 days' }]);
    // Nothing sent yet: nothing to be quiet about.
    expect(flagsOf(member({ lastReplyAt: null, firstSentAt: null }), now, 'Europe/London')).toEqual(
      [],
    );
  });

  it('flags "paused" with the date, and nothing else but "stuck", while the pause lasts', () => {
    const paused = { pausedUntil: new Date('2027-01-25T00:00:00Z'), lastReplyAt: daysAgo(20) };
    expect(flagsOf(member({ ...paused, weeksDone: 0 }), now, 'Europe/London')).toEqual([
      { kind: 'paused', detail: 'until 25 January' },
    ]);
    expect(flagsOf(member({ ...paused, stuckSince: daysAgo(21) }), now, 'Europe/London')).toEqual([
      { kind: 'stuck' },
      { kind: 'paused', detail: 'until 25 January' },
    ]);
    // A pause that has ended is no pause: the usual flags are back.
    expect(
      flagsOf(member({ ...paused, pausedUntil: daysAgo(1), weeksDone: 0 }), now, 'Europe/London'),
    ).toEqual([{ kind: 'behind' }, { kind: 'quiet', detail: 'for 20 days' }]);
  });

  it("dates a pause's return on the manager's calendar, not UTC's", () => {
    // 00:00 UTC on Monday 25 January is still Sunday evening in New York, Monday in Sydney.
    const paused = member({ pausedUntil: new Date('2027-01-25T00:00:00Z') });
    expect(flagsOf(paused, now, 'America/New_York')).toEqual([
      { kind: 'paused', detail: 'until 24 January' },
    ]);
    expect(flagsOf(paused, now, 'Australia/Sydney')).toEqual([
      { kind: 'paused', detail: 'until 25 January' },
    ]);
  });
});
