import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  loadSequence,
  loadSequences,
  type LoadResult,
  type ReadFile,
} from '../../src/sequence/loader.js';
import { markdownText } from '../../src/sequence/schema.js';
import { fixtures, loadFixtures, problemLines } from './helpers.js';

/** A week line for in-memory files: one email on Monday. */
const week = (n: number) =>
  `  - { week: ${n}, theme: T, manager_tip: Ask., steps: [{ id: kickoff, day: mon, email: { subject: S, body: B. } }] }`;
const otherWeeks = Array.from({ length: 11 }, (_, i) => week(i + 2)).join('\n');

/** A valid programme whose week 1 is `week1` (YAML lines under `weeks:`). */
function programme(week1: string, head = 'id: p\ntitle: P\naudience: {}'): string {
  return `${head}\nweeks:\n${week1}\n${otherWeeks}\n`;
}

const noFiles: ReadFile = () => undefined;

function lines(result: LoadResult): string {
  if (result.ok) return 'ok';
  return result.problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.message}`).join('\n');
}

function expectOk(result: LoadResult): Extract<LoadResult, { ok: true }> {
  if (!result.ok) expect.fail(lines(result));
  return result;
}

describe('good sequence files', () => {
  it('load with defaults applied, Markdown files read in, and a content hash', () => {
    const [minimal, withMarkdown] = loadFixtures(
      'good/minimal.yaml',
      'good/with-markdown.yaml',
    ).map(expectOk);
    expect(minimal!.sequence.weeks.map((w) => w.week)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
    expect(minimal!.sequence.schedule.late_grace).toBe('2d');
    expect(minimal!.sources).toEqual(['good/minimal.yaml']);

    const loaded = withMarkdown!;
    expect(loaded.sequence.schedule).toEqual({
      send_at: '09:00',
      working_days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      late_grace: '2d',
    });
    expect(loaded.sequence.audience).toEqual({ priority: 0, default: true, match: {} });
    const email = loaded.sequence.weeks[0]!.steps[0]!.email!;
    expect(markdownText(email.tip!)).toMatch(/^# Listen first\n/);
    expect(markdownText(email.assignment!.body)).toBe(
      'Set up three saved searches and reply *done* when you have.\n',
    );
    expect(loaded.sources).toEqual([
      'good/with-markdown.yaml',
      'good/markdown/week-1-tip.md',
      'good/markdown/week-1-assignment.md',
    ]);
    expect(loaded.hash).toMatch(/^sha256-[0-9a-f]{64}$/);
    expect(loaded.positions).toEqual({
      id: { line: 2, column: 5 },
      audienceDefault: { line: 4, column: 22 },
    });
  });
});

describe('the content hash', () => {
  const text = programme(
    `  - { week: 1, theme: T, manager_tip: Ask., steps: [{ id: a, day: mon, email: { subject: S, tip: { file: tip.md } } }] }`,
  );
  const hashWith = (yaml: string, tip: string) =>
    expectOk(loadSequence('x/p.yaml', yaml, () => tip)).hash;

  it('is the same for the same content, wherever the folder is and whatever the line endings', () => {
    const hash = hashWith(text, 'Tip.\n');
    expect(expectOk(loadSequence('elsewhere/p.yaml', text, () => 'Tip.\n')).hash).toBe(hash);
    expect(hashWith(text.replaceAll('\n', '\r\n'), 'Tip.\r\n')).toBe(hash);
    expect(hashWith(`\uFEFF${text}`, 'Tip.\n')).toBe(hash);
  });

  it('changes when the YAML or a Markdown file it names changes', () => {
    const hash = hashWith(text, 'Tip.\n');
    expect(hashWith(text, 'Another tip.\n')).not.toBe(hash);
    expect(hashWith(text.replace('title: P', 'title: Q'), 'Tip.\n')).not.toBe(hash);
    expect(hashWith(`${text}# a comment\n`, 'Tip.\n')).not.toBe(hash);
  });
});

describe('bad sequence files: one kind of mistake each', () => {
  it('a day that is not a day', () => {
    expect(problemLines('bad/unknown-day.yaml')).toMatchInlineSnapshot(
      `"bad/unknown-day.yaml:14:14 week 1: step "practice": unknown day "wedn" (expected mon, tue, wed, thu, fri, sat or sun)"`,
    );
  });

  it('unknown keys, with the keys allowed there (a misspelt key is not also reported missing)', () => {
    expect(problemLines('bad/unknown-key.yaml')).toMatchInlineSnapshot(`
      "bad/unknown-key.yaml:13:11 week 1: step "kickoff": email: unknown key "subjct" (expected one of: subject, preheader, tip, example, assignment, body)
      bad/unknown-key.yaml:15:9 week 1: step "kickoff": unknown key "invitee" (expected one of: id, day, at, when, email, invite)
      bad/unknown-key.yaml:16:16 week 2: unknown key "them" (expected one of: week, theme, manager_tip, steps)"
    `);
  });

  it('missing keys, pointing at the mapping that lacks them', () => {
    expect(problemLines('bad/missing-key.yaml')).toMatchInlineSnapshot(`
      "bad/missing-key.yaml:6:5 week 1: missing required key "manager_tip"
      bad/missing-key.yaml:9:9 week 1: step "kickoff": missing required key "day"
      bad/missing-key.yaml:10:16 week 1: step "kickoff": email: missing required key "subject""
    `);
  });

  it('values of the wrong kind or form', () => {
    expect(problemLines('bad/wrong-value.yaml')).toMatchInlineSnapshot(`
      "bad/wrong-value.yaml:5:1 weeks: missing week 3 (a programme has weeks 1 to 12)
      bad/wrong-value.yaml:7:12 week 1: theme: expected text, found a list
      bad/wrong-value.yaml:10:13 week 1: step "Kick Off": id: expected lower-case letters, digits and dashes, such as "kickoff", found "Kick Off"
      bad/wrong-value.yaml:12:13 week 1: step "Kick Off": at: expected a time such as "09:00" (24-hour HH:MM), found "9am"
      bad/wrong-value.yaml:13:46 week 1: step "Kick Off": invite.duration: expected a duration such as "30m", "1h30m" or "2d", found "half an hour"
      bad/wrong-value.yaml:18:17 week 1: step "nudge": email.body: expected Markdown text (may use {{ learner.first_name }} etc.), or { file: path.md }, found 42
      bad/wrong-value.yaml:21:9 week 1: step "empty": email: expected keys such as subject, preheader, tip, example, assignment, body, found nothing
      bad/wrong-value.yaml:23:13 weeks item 3: week: expected a week number from 1 to 12, found "three""
    `);
  });

  it('weeks that are missing, repeated or out of order', () => {
    expect(problemLines('bad/weeks.yaml')).toMatchInlineSnapshot(`
      "bad/weeks.yaml:5:1 weeks: missing weeks 1, 5 and 8 (a programme has weeks 1 to 12)
      bad/weeks.yaml:8:13 week 3: comes after week 4; list the weeks in order, 1 to 12
      bad/weeks.yaml:11:13 week 3: appears twice (also on line 8); each week appears once"
    `);
  });

  it('two steps of a week with one id', () => {
    expect(problemLines('bad/duplicate-step.yaml')).toMatchInlineSnapshot(
      `"bad/duplicate-step.yaml:11:15 week 1: step "kickoff": another step of week 1 already has the id "kickoff" (line 10); give each step its own id"`,
    );
  });

  it('conditions on a step that does not exist, on the step itself, or on a later step', () => {
    expect(problemLines('bad/when.yaml')).toMatchInlineSnapshot(`
      "bad/when.yaml:11:50 week 1: step "nudge": when.not_done: there is no step "kikoff" in week 1 (did you mean "kickoff"?)
      bad/when.yaml:12:50 week 1: step "again": when.not_done: "again" is this step itself; name an earlier step of week 1
      bad/when.yaml:13:46 week 1: step "early": when.done: step "review" is sent after this one, so it cannot be done yet; name an earlier step
      bad/when.yaml:15:37 week 1: step "both": when: expected exactly one of not_done or done"
    `);
  });

  it('times outside the sending window, and an assignment due before it is sent', () => {
    expect(problemLines('bad/timing.yaml')).toMatchInlineSnapshot(`
      "bad/timing.yaml:14:13 week 1: step "kickoff": at: 07:30 is outside schedule.window (08:00 to 18:00)
      bad/timing.yaml:17:58 week 1: step "kickoff": email.assignment.due: mon is before the step's day (wed); an assignment is due on or after the day it is sent, in the same week
      bad/timing.yaml:18:39 week 1: step "practice": at: 18:30 is outside schedule.window (08:00 to 18:00)"
    `);
  });

  it('template mistakes, pointing at the variable inside the text, block scalars included', () => {
    expect(problemLines('bad/templates.yaml')).toMatchInlineSnapshot(`
      "bad/templates.yaml:8:25 week 1: manager_tip: unknown variable learner.frist_name (did you mean learner.first_name?)
      bad/templates.yaml:13:27 week 1: step "kickoff": email.subject: unknown filter "upcas" (did you mean upcase?)
      bad/templates.yaml:17:29 week 1: step "kickoff": email.tip: unknown variable manger.name (did you mean manager.name?)
      bad/templates.yaml:18:28 week 1: step "kickoff": email.tip: learner on its own is not a value; use one of learner.first_name, learner.last_name, learner.email, learner.role, learner.organisation
      bad/templates.yaml:19:47 week 1: step "kickoff": email.example: {% endif is not closed (expected %})
      bad/templates.yaml:21:34 week 1: step "kickoff": email.body: unknown variable week.numbr (did you mean week.number?)"
    `);
  });

  it('Markdown files that are missing or empty, and mistakes inside them, pointing into the file', () => {
    expect(problemLines('bad/markdown-files.yaml')).toMatchInlineSnapshot(`
      "bad/markdown-files.yaml:14:24 week 1: step "kickoff": email.tip: file "markdown/no-such-file.md" not found (looked for bad/markdown/no-such-file.md)
      bad/markdown-files.yaml:15:28 week 1: step "kickoff": email.example: file "markdown/empty.md" is empty; expected some Markdown text
      bad/markdown-files.yaml:17:47 week 1: step "kickoff": email.assignment.body: unknown key "fil" (expected one of: file)
      bad/markdown/typo.md:3:8 week 1: step "kickoff": email.body: unknown variable manager.frist_name (did you mean manager.first_name?)"
    `);
  });

  it('YAML syntax: every error with its position, in words a trainer can act on', () => {
    expect(problemLines('bad/yaml-syntax.yaml')).toMatchInlineSnapshot(`
      "bad/yaml-syntax.yaml:4:1 YAML: the key "title" appears twice in the same place; keep one
      bad/yaml-syntax.yaml:8:12 YAML: a value contains ": " or is indented too far; put text containing ": " in quotes, such as subject: "Week 1: listen"
      bad/yaml-syntax.yaml:12:1 YAML: a tab is used for indentation; indent with spaces only
      bad/yaml-syntax.yaml:13:51 YAML: a "[" is not closed with "]" before this line, or this line is not indented enough"
    `);
  });

  it('an empty file', () => {
    expect(problemLines('bad/empty.yaml')).toMatchInlineSnapshot(
      `"bad/empty.yaml:1:1 the file is empty; a programme needs id, title, audience and weeks 1 to 12"`,
    );
  });
});

describe('a file with many mistakes', () => {
  it('reports every one, in the order of the file', () => {
    expect(problemLines('bad/many.yaml')).toMatchInlineSnapshot(`
      "bad/many.yaml:2:5 id: expected lower-case letters, digits and dashes, such as "kickoff", found "Many Mistakes"
      bad/many.yaml:3:1 unknown key "titel" (expected one of: id, languages, reviewed_by, title, summary, trainer, audience, intake, schedule, weeks)
      bad/many.yaml:5:13 audience.priority: expected a number, found "high"
      bad/many.yaml:7:11 audience.match.role: expected at least one item, found an empty list
      bad/many.yaml:9:12 schedule.send_at: expected a time such as "09:00" (24-hour HH:MM), found "9:00"
      bad/many.yaml:10:38 schedule.working_days: unknown day "fir" (expected mon, tue, wed, thu, fri, sat or sun)
      bad/many.yaml:12:1 weeks: missing weeks 4, 5, 6, 7, 8, 9, 10, 11 and 12 (a programme has weeks 1 to 12)
      bad/many.yaml:15:25 week 1: manager_tip: unknown variable learner.frist_name (did you mean learner.first_name?)
      bad/many.yaml:24:20 week 1: step "kickoff": email.tip: unknown variable managr.name (did you mean manager.name?)
      bad/many.yaml:25:68 week 1: step "kickoff": email.assignment.body: file "nowhere.md" not found (looked for bad/nowhere.md)
      bad/many.yaml:25:87 week 1: step "kickoff": email.assignment.due: mon is before the step's day (wed); an assignment is due on or after the day it is sent, in the same week
      bad/many.yaml:27:14 week 1: step "practice": unknown day "wedn" (expected mon, tue, wed, thu, fri, sat or sun)
      bad/many.yaml:28:13 week 1: step "practice": at: 19:00 is outside schedule.window (08:00 to 17:00)
      bad/many.yaml:29:56 week 1: step "practice": invite.duration: expected a duration such as "30m", "1h30m" or "2d", found "30 minutes"
      bad/many.yaml:32:27 week 1: step "nudge": when.not_done: there is no step "kickof" in week 1 (did you mean "kickoff"?)
      bad/many.yaml:33:18 week 1: step "nudge": email: unknown key "subjct" (expected one of: subject, preheader, tip, example, assignment, body)
      bad/many.yaml:34:13 week 1: step "nudge": another step of week 1 already has the id "nudge" (line 30); give each step its own id
      bad/many.yaml:36:16 week 1: step "nudge": email: an email needs at least one of tip, example, assignment or body
      bad/many.yaml:40:12 week 3: steps: expected at least one item, found an empty list
      bad/many.yaml:41:11 week 2: comes after week 3; list the weeks in order, 1 to 12"
    `);
  });

  it('names the programme it could read, for the JSON report', () => {
    const [result] = loadFixtures('bad/many.yaml');
    expect(result).toMatchObject({ ok: false, id: 'Many Mistakes' });
    expect(result).not.toHaveProperty('title');
  });
});

describe('checks across files', () => {
  it('reports an id used twice and two default programmes, in every file involved', () => {
    expect(problemLines('bad/across')).toMatchInlineSnapshot(`
      "bad/across/first.yaml:2:5 id "same-id" is also used by bad/across/second.yaml; each programme needs its own id
      bad/across/first.yaml:4:22 audience.default: bad/across/second.yaml is the default programme too; only one programme can be the default
      bad/across/second.yaml:2:5 id "same-id" is also used by bad/across/first.yaml; each programme needs its own id
      bad/across/second.yaml:4:22 audience.default: bad/across/first.yaml is the default programme too; only one programme can be the default"
    `);
  });

  it('leaves files that do not clash alone', () => {
    const a = programme(week(1), 'id: a\ntitle: A\naudience: { default: true }');
    const b = programme(week(1), 'id: b\ntitle: B\naudience: {}');
    const results = loadSequences(
      [
        { path: 'a.yaml', text: a },
        { path: 'b.yaml', text: b },
      ],
      noFiles,
    );
    expect(results.map((r) => r.ok)).toEqual([true, true]);
  });
});

describe('positions', () => {
  it('point at the variable inside plain, quoted, literal and folded text', () => {
    const text = programme(
      [
        '  - week: 1',
        '    theme: T',
        '    manager_tip: Ask {{ learner.first_name }} and {{ learner.x }}',
        '    steps:',
        '      - id: a',
        '        day: mon',
        '        email:',
        `          subject: 'It''s {{ learner.y }}'`,
        '          preheader: "\\"{{ learner.z }}\\""',
        '          tip: |-',
        '            {{ learner.x }} twice {{ learner.x }}',
        '              indented {{ learner.x }}',
        '          body: >',
        '            folded',
        '            {{ learner.w }}',
      ].join('\n'),
    );
    expect(lines(loadSequence('p.yaml', text, noFiles))).toMatchInlineSnapshot(`
      "p.yaml:7:54 week 1: manager_tip: unknown variable learner.x (expected one of: learner.first_name, learner.last_name, learner.email, learner.role, learner.organisation)
      p.yaml:12:30 week 1: step "a": email.subject: unknown variable learner.y (expected one of: learner.first_name, learner.last_name, learner.email, learner.role, learner.organisation)
      p.yaml:13:28 week 1: step "a": email.preheader: unknown variable learner.z (expected one of: learner.first_name, learner.last_name, learner.email, learner.role, learner.organisation)
      p.yaml:15:16 week 1: step "a": email.tip: unknown variable learner.x (expected one of: learner.first_name, learner.last_name, learner.email, learner.role, learner.organisation)
      p.yaml:15:38 week 1: step "a": email.tip: unknown variable learner.x (expected one of: learner.first_name, learner.last_name, learner.email, learner.role, learner.organisation)
      p.yaml:16:27 week 1: step "a": email.tip: unknown variable learner.x (expected one of: learner.first_name, learner.last_name, learner.email, learner.role, learner.organisation)
      p.yaml:19:16 week 1: step "a": email.body: unknown variable learner.w (expected one of: learner.first_name, learner.last_name, learner.email, learner.role, learner.organisation)"
    `);
  });

  it('point into the Markdown file for mistakes inside it', () => {
    const text = programme(
      '  - { week: 1, theme: T, manager_tip: Ask., steps: [{ id: a, day: mon, email: { subject: S, tip: { file: md/tip.md }, example: { file: ../ex.md } } }] }',
    );
    const files: Record<string, string> = {
      'dir/md/tip.md': 'Line one.\r\nHi {{ learner.nmae }}, {{ week.number }} {{ week.thme }}\r\n',
      'ex.md': '\n\n  {% if learner.role %}\n',
    };
    expect(lines(loadSequence('dir/p.yaml', text, (path) => files[path]))).toMatchInlineSnapshot(`
      "dir/md/tip.md:2:7 week 1: step "a": email.tip: unknown variable learner.nmae (expected one of: learner.first_name, learner.last_name, learner.email, learner.role, learner.organisation)
      dir/md/tip.md:2:45 week 1: step "a": email.tip: unknown variable week.thme (did you mean week.theme?)
      ex.md:3:3 week 1: step "a": email.example: {% if learner.role %} has no matching {% endif %}"
    `);
  });

  it('ignore a byte-order mark, as editors do', () => {
    expect(lines(loadSequence('p.yaml', `\uFEFFid: Bad\n`, noFiles))).toMatchInlineSnapshot(`
      "p.yaml:1:1 missing required key "title"
      p.yaml:1:1 missing required key "audience"
      p.yaml:1:1 missing required key "weeks"
      p.yaml:1:5 id: expected lower-case letters, digits and dashes, such as "kickoff", found "Bad""
    `);
  });
});

describe('the loader never throws', () => {
  // The shapes of text that break naive loaders, then fast-check's own.
  const texts = [
    '',
    '\n\n',
    '---\n...\n',
    '[',
    '{',
    '"',
    '- a\n- b\n',
    '42',
    'null',
    'id: *nowhere\n',
    'a: &a [*a]\n',
    'a: &a\n  b: *a\n',
    '? [complex, key]\n: value\n',
    '!!binary aGVsbG8=',
    'weeks: 12\n',
    'weeks: [1, 2, 3]\n',
    'weeks: [{ steps: 1 }, { steps: [1, null, { when: 3, email: { tip: { file: 3 } } }] }]\n',
    'weeks: [{ week: 1, steps: [{ id: a, when: { not_done: a } }, { id: a, when: { done: [a] } }] }]\n',
    'schedule: { window: { from: 1, to: "25:00" } }\nweeks: [{ steps: [{ at: "08:00" }] }]\n',
    'weeks: [{ manager_tip: "{{" }, { manager_tip: "{% %}" }, { manager_tip: "{{ a | b: }}" }]\n',
    'audience: { match: { "": { min: "x" } } }\n',
    '\u0000\u0001\uFFFF',
    'a:\n\t- b\n  c: [\n',
    `${'['.repeat(500)}${']'.repeat(500)}`,
    `${'- '.repeat(200)}x\n`,
  ];
  it.each(texts)('%j', (text) => {
    const result = loadSequence('p.yaml', text, () => {
      return '{{ learner.x';
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems.length).toBeGreaterThan(0);
      for (const problem of result.problems) {
        expect(problem.line).toBeGreaterThanOrEqual(1);
        expect(problem.column).toBeGreaterThanOrEqual(1);
        expect(problem.message).not.toBe('');
      }
    }
  });

  /** Every problem is somewhere in its file; the loader returned rather than threw. */
  const wellFormed = (text: string, readFile: ReadFile = noFiles) => {
    const result = loadSequence('p.yaml', text, readFile);
    if (result.ok) return;
    const lineCount = text.split('\n').length;
    for (const problem of result.problems) {
      if (problem.file !== 'p.yaml') continue;
      expect(problem.line).toBeGreaterThanOrEqual(1);
      expect(problem.line).toBeLessThanOrEqual(lineCount);
      expect(problem.column).toBeGreaterThanOrEqual(1);
    }
  };

  it('on any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => wellFormed(text)),
    );
  });

  it('on text made of YAML and Liquid pieces', () => {
    const piece = fc.constantFrom(
      ...['id: a', 'weeks:', '  - ', 'week: 1', 'steps:', 'email:', 'invite:', 'day: mon', 'when:'],
      ...[
        '{ file: x.md }',
        'not_done: a',
        '\n',
        '  ',
        ': ',
        '- ',
        '[',
        ']',
        '{',
        '}',
        '"',
        "'",
        '|',
        '>',
      ],
      ...['&a ', '*a', '\t', '#', '{{ learner.x }}', '{{', '}}', '{% if %}', '{% endif %}', '---'],
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), (pieces) =>
        wellFormed(pieces.join(''), () => '{{ x'),
      ),
    );
  });

  it('on a good programme with a few characters changed', () => {
    const good = readFileSync(`${fixtures}/good/minimal.yaml`, 'utf8');
    const edit = fc.record({
      at: fc.nat({ max: good.length }),
      remove: fc.nat({ max: 5 }),
      insert: fc.constantFrom('', ' ', '\n', ':', '-', '{', '}', '[', 'x', '"', '\t', '{{ a }}'),
    });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        let text = good;
        for (const { at, remove, insert } of edits)
          text = text.slice(0, at) + insert + text.slice(at + remove);
        wellFormed(text);
      }),
    );
  });
});
