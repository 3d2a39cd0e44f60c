import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoff } from '../../src/mail/backoff.js';

const minute = 60_000;
const hour = 60 * minute;

describe('backoff', () => {
  it.each([
    // attempt, random, wait
    [1, 0, 0.5 * minute],
    [1, 0.999_999, 1 * minute],
    [2, 0, 1 * minute],
    [3, 0.5, 3 * minute],
    [4, 0, 4 * minute],
    [9, 0, 128 * minute],
    [10, 0, 3 * hour], // 256 minutes, capped at 6 hours
    [10, 1, 6 * hour],
    [1000, 0.5, 4.5 * hour],
    [0, 0, 0.5 * minute], // read as the first
    [Number.NaN, 0, 0.5 * minute],
  ])('waits after attempt %d with random %d: %d ms', (attempt, random, wait) => {
    expect(backoff(attempt, { random: () => random })).toBe(wait);
  });

  it('honours its own base and cap', () => {
    expect(backoff(1, { baseMs: 1000, maxMs: 5000, random: () => 0 })).toBe(500);
    expect(backoff(20, { baseMs: 1000, maxMs: 5000, random: () => 1 })).toBe(5000);
  });

  it('stays between half the step and the step, never above the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, r) => {
          const step = Math.min(6 * hour, minute * 2 ** (attempt - 1));
          const wait = backoff(attempt, { random: () => r });
          expect(wait).toBeGreaterThanOrEqual(Math.floor(step / 2));
          expect(wait).toBeLessThanOrEqual(step);
          expect(Number.isSafeInteger(wait)).toBe(true);
        },
      ),
    );
  });

  it('never waits less after more failures, for the same draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, r) => {
          expect(backoff(attempt + 1, { random: () => r })).toBeGreaterThanOrEqual(
            backoff(attempt, { random: () => r }),
          );
        },
      ),
    );
  });
});
