import { describe, expect, it } from 'vitest';
import { loadSequence, type LoadResult, type ReadFile } from '../../src/sequence/loader.js';

const week = (n: number) =>
  `  - { week: ${n}, theme: T, manager_tip: Ask., steps: [{ id: kickoff, day: mon, email: { subject: S, body: B. } }] }`;
const weeks = Array.from({ length: 12 }, (_, i) => week(i + 1)).join('\n');
const noFiles: ReadFile = () => undefined;

function load(intake: string, head = 'id: p\ntitle: P\naudience: {}'): LoadResult {
  return loadSequence('p.yaml', `${head}\n${intake}\nweeks:\n${weeks}\n`, noFiles);
}

function lines(result: LoadResult): string {
  if (result.ok) return 'ok';
  return result.problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.message}`).join('\n');
}

describe('intake questions in a sequence file', () => {
  it('load: a choice with its words, and a scale', () => {
    const result = load(`intake:
  - field: role
    question: What is your work?
    answers:
      - { value: team-leader, label: I lead a team, words: [manage, manager] }
      - { value: press-officer, label: Press }
  - { field: confidence, question: How confident?, scale: { min: 1, max: 5 } }`);
    if (!result.ok) expect.fail(lines(result));
    expect(result.sequence.intake?.map((q) => q.field)).toEqual(['role', 'confidence']);
  });

  it('reports each mistake with file:line:col: a fixed field, a field asked twice, a bad scale, both kinds, four questions', () => {
    expect(
      lines(
        load(`intake:
  - { field: email, question: Your address?, scale: { min: 1, max: 5 } }
  - { field: confidence, question: How sure?, scale: { min: 0, max: 10 } }
  - { field: confidence, question: Again?, answers: [{ value: 1, label: a }, { value: 1, label: b }] }
  - field: role
    question: Both?
    scale: { min: 1, max: 3 }
    answers: [{ value: x, label: X }, { value: y, label: Y }]`),
      ),
    ).toMatchInlineSnapshot(`
      "p.yaml:5:3 intake: expected at most 3 items
      p.yaml:5:14 intake question 1: field: "email" comes from the cohort file and cannot be asked; ask about a field the matcher reads, such as role, confidence, barriers, goals or a free field
      p.yaml:6:54 intake question 2: scale: confidence is a whole number from 1 to 5; a scale from 0 to 10 would store values the matcher cannot compare
      p.yaml:7:14 intake question 3: field: "confidence" is asked twice (also on line 6); ask each field once
      p.yaml:7:87 intake question 3: answer 2: value: 1 is offered twice (also on line 7); each answer needs its own value"
    `);
    expect(
      lines(
        load(`intake:
  - field: role
    question: Both?
    scale: { min: 1, max: 3 }
    answers: [{ value: x, label: X }, { value: y, label: Y }]`),
      ),
    ).toMatchInlineSnapshot(
      `"p.yaml:5:5 intake question 1: a question has exactly one of answers or scale"`,
    );
  });

  it('in a bilingual programme, the question and labels are written by language, and a missing one is reported', () => {
    const head =
      'id: p\nlanguages: [cy, en]\nreviewed_by: Siân\ntitle: { cy: P, en: P }\naudience: {}';
    const bilingualWeek = (n: number) =>
      `  - { week: ${n}, theme: { cy: T, en: T }, manager_tip: { cy: Gofyn., en: Ask. }, steps: [{ id: kickoff, day: mon, email: { subject: { cy: S, en: S }, body: { cy: B., en: B. } } }] }`;
    const text = (intake: string) =>
      `${head}\n${intake}\nweeks:\n${Array.from({ length: 12 }, (_, i) => bilingualWeek(i + 1)).join('\n')}\n`;
    const good = loadSequence(
      'p.yaml',
      text(`intake:
  - field: role
    question: { cy: "Beth yw eich gwaith?", en: "What is your work?" }
    answers:
      - { value: comms-officer, label: { cy: Cyfathrebu, en: Communications } }
      - { value: policy-officer, label: { cy: Polisi, en: Policy } }`),
      noFiles,
    );
    if (!good.ok) expect.fail(lines(good));
    expect(good.sequence.translations?.cy?.intake?.[0]?.question).toBe('Beth yw eich gwaith?');
    expect(good.sequence.intake?.[0]?.answers?.[0]?.label).toBe('Communications');
    const bad = loadSequence(
      'p.yaml',
      text(`intake:
  - field: role
    question: "What is your work?"
    answers:
      - { value: comms-officer, label: { en: Communications } }
      - { value: policy-officer, label: { cy: Polisi, en: Policy } }`),
      noFiles,
    );
    expect(lines(bad)).toMatchInlineSnapshot(`
      "p.yaml:8:15 intake question 1: question: expected one text per language (cy: and en:), because the programme declares languages: [cy, en]
      p.yaml:10:40 intake question 1: answer 1: label: missing its Welsh (cy) text: add cy: beside en:"
    `);
  });
});
