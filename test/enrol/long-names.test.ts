import { describe, expect, it } from 'vitest';
import { maxEmailLength, maxNameLength, maxSlugLength } from '../../src/enrol/profile.js';
import { oneRow, problemLines, read } from './helpers.js';

/**
 * Long names (#16): a 1 MB name became a 1 MB To: header. Every field that reaches a header or a
 * rule is capped at enrol, with an error naming the file, line and column.
 */
describe('Long names', () => {
  it('Long names: a 1 MB first name is refused with a line-numbered error, not enrolled', () => {
    const text = oneRow({ first_name: 'A'.repeat(1024 * 1024) });
    expect(read(text).rows).toEqual([]);
    expect(problemLines(text)).toMatchInlineSnapshot(
      `"cohort.csv:2 first_name "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA..." is 1048576 characters long; a name here has at most 100"`,
    );
  });

  it.each([
    ['last_name', 'B'.repeat(maxNameLength + 1), `at most ${maxNameLength}`],
    ['manager_name', 'C'.repeat(maxNameLength + 1), `at most ${maxNameLength}`],
    ['organisation', 'D'.repeat(maxNameLength + 1), `at most ${maxNameLength}`],
    ['cohort', 'e'.repeat(maxNameLength + 1), `at most ${maxNameLength}`],
    ['email', `${'f'.repeat(250)}@example.gov.uk`, `at most ${maxEmailLength}`],
    ['role', 'g'.repeat(maxSlugLength + 1), `at most ${maxSlugLength}`],
  ])('Long names: %s over its cap is refused on its line', (column, value, says) => {
    const lines = problemLines(oneRow({ [column]: value }));
    expect(lines).toMatch(new RegExp(`^cohort\\.csv:2 ${column} `));
    expect(lines).toContain(says);
    expect(lines.length).toBeLessThan(400);
  });

  it('Long names: a name of exactly the cap is taken', () => {
    const name = 'Ñ'.repeat(maxNameLength);
    const { rows, problems } = read(oneRow({ first_name: name }));
    expect(problems).toEqual([]);
    expect(rows[0]!.first_name).toBe(name);
  });
});
