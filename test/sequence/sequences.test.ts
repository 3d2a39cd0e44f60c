import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the programmes shipped in sequences/', () => {
  const results = loadSequenceFiles(['sequences'], root);

  it('are all valid, together (unique ids, at most one default)', () => {
    const problems = results.flatMap((result) =>
      result.ok ? [] : result.problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.message}`),
    );
    expect(problems).toEqual([]);
  });

  it('are the three programmes, with the foundations one as the default', () => {
    const programmes = results.flatMap((r) => (r.ok ? [r.sequence] : []));
    expect(programmes.map((p) => [p.id, p.audience.default]).sort()).toEqual([
      ['digital-engagement-for-policy', false],
      ['digital-foundations', true],
      ['social-media-for-comms', false],
    ]);
  });

  it('give every week a tip, an example, an assignment, a practice slot and a manager tip', () => {
    for (const result of results) {
      if (!result.ok) continue;
      for (const week of result.sequence.weeks) {
        const where = `${result.sequence.id} week ${week.week}`;
        const emails = week.steps.flatMap((s) => (s.email ? [s.email] : []));
        expect(
          emails.some((e) => e.tip && e.example && e.assignment),
          where,
        ).toBe(true);
        expect(
          week.steps.some((s) => s.invite),
          where,
        ).toBe(true);
        expect(week.manager_tip.length, where).toBeGreaterThan(20);
      }
    }
  });
});
