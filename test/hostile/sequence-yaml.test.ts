import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import { loadSequence, type LoadResult } from '../../src/sequence/loader.js';
import { runGym } from '../helpers/cli.js';
import { root } from './helpers.js';

/**
 * Malformed and hostile sequence files: the loader returns problems with file:line:col, never
 * throws, and never hangs (test/sequence/loader.test.ts has the everyday mistakes and a fuzz of
 * YAML pieces; these are the attacks: alias bombs, deep nesting, tags, huge files).
 */

const good = readFileSync(`${root}/test/fixtures/sequences/good/minimal.yaml`, 'utf8');

/**
 * Loads, checking every problem points into the file. No timing is asserted (a loaded machine
 * would make it flaky): a hang or a quadratic blow-up shows as the test's timeout.
 */
function load(text: string): { result: LoadResult } {
  const result = loadSequence('p.yaml', text, () => undefined);
  if (!result.ok) {
    const lines = text.split('\n').length;
    expect(result.problems.length).toBeGreaterThan(0);
    for (const problem of result.problems) {
      expect(problem.file).toBe('p.yaml');
      expect(problem.line).toBeGreaterThanOrEqual(1);
      expect(problem.line).toBeLessThanOrEqual(lines);
      expect(problem.column).toBeGreaterThanOrEqual(1);
      expect(problem.message).not.toBe('');
    }
  }
  return { result };
}

const problemsOf = (text: string) => {
  const { result } = load(text);
  expect(result.ok).toBe(false);
  return result.ok ? [] : result.problems.map((p) => `${p.line}:${p.column} ${p.message}`);
};

/** The classic billion laughs: nine levels of nine aliases each. */
function billionLaughs(levels = 9): string {
  const lines = [`l0: &l0 [${Array(9).fill('"lol"').join(', ')}]`];
  for (let i = 1; i < levels; i++)
    lines.push(
      `l${i}: &l${i} [${Array(9)
        .fill(`*l${i - 1}`)
        .join(', ')}]`,
    );
  return `${lines.join('\n')}\n`;
}

describe('alias bombs', () => {
  it('refuses a billion laughs as a problem of the file', () => {
    const { result } = load(billionLaughs());
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]!.message).toMatch(/YAML: excessive alias count/i);
  });

  it('refuses a billion laughs hidden under a key of a good programme', () => {
    const text = `${good}x-bomb:\n${billionLaughs()
      .split('\n')
      .map((line) => `  ${line}`)
      .join('\n')}`;
    expect(problemsOf(text).join('\n')).toMatch(/excessive alias count/i);
  });

  it('refuses nested merge keys (<<) that multiply', () => {
    const merges = Array.from(
      { length: 20 },
      (_, i) =>
        `m${i}: &m${i}\n  <<: [${Array(10)
          .fill(i === 0 ? '*a' : `*m${i - 1}`)
          .join(', ')}]`,
    );
    const { result } = load(`a: &a { x: 1 }\n${merges.join('\n')}\n`);
    expect(result.ok).toBe(false);
  });

  it('refuses 2,000 aliases of one anchor, pointing at the first alias past the limit', () => {
    const text = `a: &x v\n${Array.from({ length: 2000 }, (_, i) => `k${i}: *x`).join('\n')}\n`;
    expect(problemsOf(text)).toEqual([
      '1002:8 YAML: more than 1,000 aliases ("*name"); a sequence file may repeat anchors at ' +
        'most that often: write the repeated values out instead',
    ]);
  });
});

describe('syntax that breaks parsers', () => {
  it.each([
    [
      'tabs for indentation',
      good.replace(/\n {2}/g, '\n\t'),
      /6:1 YAML: a tab is used for indentation/,
    ],
    [
      'an unclosed double quote',
      good.replace(/title: .*/, 'title: "Unclosed'),
      /^3:\d+ YAML: missing closing "quote/,
    ],
    [
      'an unclosed single quote',
      good.replace(/title: .*/, "title: 'Unclosed"),
      /YAML: missing closing 'quote/,
    ],
    [
      'an unclosed flow sequence',
      good.replace(/title: .*/, 'title: [a, b'),
      /YAML: a "\[" is not closed/,
    ],
    [
      'a JavaScript tag',
      good.replace(/title: .*/, 'title: !!js/function "function(){}"'),
      /3:8 YAML: unknown tag/,
    ],
    [
      'a Python object tag',
      good.replace(/title: .*/, 'title: !<tag:yaml.org,2002:python/object> x'),
      /3:8 YAML: unknown tag/,
    ],
    ['a second document', `${good}---\n${good}`, /remove the "---" line/],
    ['a NUL in a key', good.replace('title', 'ti\0tle'), /3:1 unknown key/],
    [
      '__proto__ and constructor keys',
      `${good}__proto__: { polluted: true }\nconstructor: { prototype: { x: 1 } }\n`,
      /unknown key "__proto__"/,
    ],
  ])('%s: a problem with its position', (_, text, expected) => {
    expect(problemsOf(text).join('\n')).toMatch(expected);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it.each([
    ['5,000 nested flow sequences', `${'['.repeat(5000)}${']'.repeat(5000)}`],
    [
      '2,000 nested mappings',
      Array.from({ length: 2000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n'),
    ],
    [
      '3,000 nested block sequences',
      Array.from({ length: 3000 }, (_, i) => `${'  '.repeat(i)}-`).join('\n'),
    ],
    ['a 5 MB line', `title: ${'x'.repeat(5_000_000)}\n`],
    ['2,000 anchors', Array.from({ length: 2000 }, (_, i) => `k${i}: &a${i} v`).join('\n')],
  ])('%s: problems, no throw, no hang', (_, text) => {
    const { result } = load(text);
    expect(result.ok).toBe(false);
  });
});

describe('fuzzing the loader with hostile YAML', () => {
  const piece = fc.constantFrom(
    ...['id: a', 'title: t', 'weeks:', '- week: 1', '  steps:', '    - id: s', 'audience:'],
    ...['&a ', '&b ', '*a', '*b', '<<: *a', '<<: [*a, *b]', '? ', ': ', '- ', '\n', '  ', '\t'],
    ...['!!binary ', '!!js/function ', '!<tag:x> ', '!local ', '!!map ', '!!seq ', '!!str '],
    ...['"', "'", '[', ']', '{', '}', '|', '>', '|-', '#', '%YAML 1.2\n', '---\n', '...\n'],
    ...['\u0000', '\uFEFF', '\u2028', '\r', '\\u0000', '"\\x00"', '1e400', '0x', '~', 'null'],
    ...[
      '{{ learner.first_name }}',
      '{% raw %}',
      '{% include "x" %}',
      '__proto__: ',
      'constructor: ',
    ],
  );

  it('returns problems with positions, never throws (alias- and tag-heavy text)', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 80 }), (pieces) => {
        load(pieces.join(''));
      }),
      { numRuns: 300 },
    );
  });

  it('returns problems with positions, never throws (a good programme with anchors and aliases spliced in)', () => {
    const edit = fc.record({
      at: fc.nat({ max: good.length }),
      remove: fc.nat({ max: 8 }),
      insert: piece,
    });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 6 }), (edits) => {
        let text = good;
        for (const { at, remove, insert } of edits)
          text = text.slice(0, at) + insert + text.slice(at + remove);
        load(text);
      }),
      { numRuns: 150 },
    );
  });
});

describe('gym validate on hostile files', () => {
  it('prints file:line:col for each and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gym-hostile-yaml-'));
    const files = {
      'tabs.yaml': good.replace(/\n {2}/g, '\n\t'),
      'unclosed.yaml': good.replace(/title: .*/, 'title: "Unclosed'),
      'laughs.yaml': billionLaughs(),
      'nested.yaml': `${'['.repeat(5000)}${']'.repeat(5000)}`,
      'binary.yaml': Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 131) % 256)).toString(
        'latin1',
      ),
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const result = await runGym(['validate', dir]);
    expect(result.code).toBe(1);
    const shown = relative(root, dir);
    for (const name of Object.keys(files))
      expect(result.stdout, name).toMatch(
        new RegExp(
          `^${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/${name.replace('.', '\\.')}:\\d+:\\d+ \\S`,
          'm',
        ),
      );
    expect(result.stdout).toContain('tabs.yaml:6:1 YAML: a tab is used for indentation');
    expect(result.stdout).toMatch(/laughs\.yaml:\d+:\d+ YAML: excessive alias count/i);
    expect(result.stdout).toMatch(/5 sequence files: 0 ok, 5 with problems\n$/);
    expect(result.stderr).toMatch(/^gym: \d+ problems? in 5 files\n$/);
  });
});

// Issue #16, "Validation time": 693 KB of aliases took 78 s and 3 MB of keys 107 s, because the
// YAML library compares each key with every key before it and resolves each alias by scanning
// the ones before it. Files are capped at 2 MB and 1,000 aliases, and the rest is linear.
describe('Validation time', () => {
  /** `count` audience rules in the minimal programme, each a key of its own. */
  const withRules = (count: number) =>
    good.replace(
      '  match:\n',
      `  match:\n${Array.from({ length: count }, (_, i) => `    field_${i}: [value ${i}, other ${i}]\n`).join('')}`,
    );

  it('refuses a 3 MB sequence file by name, before reading it, and loads the others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gym-validation-time-'));
    writeFileSync(join(dir, 'big.yaml'), `${good}# ${'x'.repeat(3 * 1024 * 1024)}\n`);
    writeFileSync(join(dir, 'small.yaml'), good);
    const [big, small] = loadSequenceFiles([dir], dir);
    expect(big).toEqual({
      ok: false,
      path: 'big.yaml',
      problems: [
        {
          file: 'big.yaml',
          line: 1,
          column: 1,
          message:
            'the file is 3.0 MB; a sequence file may be at most 2.0 MB (a 12-week programme is ' +
            'about 50 KB): move long texts into Markdown files ({ file: week-1/tip.md }) or ' +
            'split the file',
        },
      ],
    });
    expect(small?.ok).toBe(true);
  });

  it('refuses the same 3 MB in one line from gym validate, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gym-validation-time-'));
    const file = join(dir, 'big.yaml');
    writeFileSync(file, `${good}# ${'x'.repeat(3 * 1024 * 1024)}\n`);
    const result = await runGym(['validate', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      `${relative(root, file)}:1:1 the file is 3.0 MB; a sequence file may be at most 2.0 MB ` +
        '(a 12-week programme is about 50 KB): move long texts into Markdown files ' +
        '({ file: week-1/tip.md }) or split the file\n1 sequence file: 0 ok, 1 with problems\n',
    );
  });

  it('validates a 2 MB programme of 47,000 audience rules (keys), every rule kept', () => {
    const text = withRules(47_000);
    expect(Buffer.byteLength(text)).toBeGreaterThan(1.9 * 1024 * 1024);
    const { result } = load(text);
    expect(
      result.ok,
      result.ok
        ? ''
        : result.problems
            .slice(0, 3)
            .map((p) => p.message)
            .join('\n'),
    ).toBe(true);
    if (result.ok) {
      expect(Object.keys(result.sequence.audience.match)).toHaveLength(47_000 + 2);
      expect(result.sequence.audience.match.field_46999).toEqual(['value 46999', 'other 46999']);
    }
  });

  it('reports each of 40,000 unknown keys in a 1.5 MB file at its own line', () => {
    const keys = Array.from({ length: 40_000 }, (_, i) => `extra_${i}: value ${i}`);
    const text = `${good}${keys.join('\n')}\n`;
    const firstLine = good.split('\n').length;
    const problems = problemsOf(text);
    expect(problems).toHaveLength(40_000);
    expect(problems[0]).toMatch(new RegExp(`^${firstLine}:1 unknown key "extra_0"`));
    expect(problems.at(-1)).toMatch(
      new RegExp(`^${firstLine + 39_999}:1 unknown key "extra_39999"`),
    );
  });

  it('finds a repeated key among 40,000 at its line, as the YAML library would', () => {
    const keys = Array.from({ length: 40_000 }, (_, i) => `    field_${i}: v`);
    keys.push('    field_123: again');
    const text = good.replace('  match:\n', `  match:\n${keys.join('\n')}\n`);
    const line = text.split('\n').findIndex((l) => l.includes('field_123: again')) + 1;
    expect(problemsOf(text)).toEqual([
      `${line}:5 YAML: the key "field_123" appears twice in the same place; keep one`,
    ]);
  });

  it('refuses 693 KB of aliases at the first alias past 1,000', () => {
    const aliases = Array.from({ length: 70_000 }, (_, i) => `k${i}: *x`);
    const text = `a: &x v\n${aliases.join('\n')}\n`;
    expect(text.length).toBeGreaterThan(690_000);
    expect(problemsOf(text)).toEqual([
      '1002:8 YAML: more than 1,000 aliases ("*name"); a sequence file may repeat anchors at ' +
        'most that often: write the repeated values out instead',
    ]);
  });
});
