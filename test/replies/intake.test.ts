import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readIntakeAnswers } from '../../src/replies/intake.js';
import type { IntakeQuestion } from '../../src/sequence/schema.js';

const questions: IntakeQuestion[] = [
  {
    field: 'role',
    question: 'Which is closest to your work?',
    answers: [
      { value: 'team-leader', label: 'I lead a team', words: ['manage', 'manager', 'team leader'] },
      { value: 'press-officer', label: 'Press or communications', words: ['comms', 'press'] },
      { value: 'policy-officer', label: 'Policy' },
    ],
  },
  { field: 'confidence', question: 'How confident, 1 to 5?', scale: { min: 1, max: 5 } },
  {
    field: 'barriers',
    question: 'What gets in the way?',
    answers: [
      { value: 'locked-down-it', label: 'Locked-down IT', words: ['IT', 'blocked'] },
      { value: 'no-time', label: 'Time', words: ['busy'] },
      { value: 'fear-of-mistakes', label: 'Fear of getting it wrong', words: ['wrong', 'fear'] },
    ],
  },
];
const welsh: IntakeQuestion[] = [
  {
    ...questions[0]!,
    answers: [
      { value: 'team-leader', label: 'Rwy’n arwain tîm' },
      { value: 'press-officer', label: 'Y wasg neu gyfathrebu' },
      { value: 'policy-officer', label: 'Polisi' },
    ],
  },
  questions[1]!,
  questions[2]!,
];

const read = (text: string) =>
  readIntakeAnswers(text, questions, [welsh]).answers.map((a) => [a.field, a.value]);

describe('reading intake answers', () => {
  it.each([
    [
      'numbers mid-line, with a scale answer that is itself a number',
      '1. I manage a team 2) 3 3 - time',
      [
        ['role', 'team-leader'],
        ['confidence', 3],
        ['barriers', ['no-time']],
      ],
    ],
    [
      'one per line, several barriers',
      '1: press\n2: 4\n3: locked down IT and I am afraid of getting it wrong',
      [
        ['role', 'press-officer'],
        ['confidence', 4],
        ['barriers', ['locked-down-it', 'fear-of-mistakes']],
      ],
    ],
    ['words for numbers', '2 - four', [['confidence', 4]]],
    ['"2. 3." is question 2 answered 3', '2. 3.', [['confidence', 3]]],
    [
      'no numbers, one line per question',
      'Policy\n2\nbusy',
      [
        ['role', 'policy-officer'],
        ['confidence', 2],
        ['barriers', ['no-time']],
      ],
    ],
    ['a letter picks by position', '1) b', [['role', 'press-officer']]],
    [
      'the Welsh label counts',
      '1. Polisi\n2. pump',
      [
        ['role', 'policy-officer'],
        ['confidence', 5],
      ],
    ],
    ['"it" in a sentence is not IT', '3. it is hard to find the time', [['barriers', ['no-time']]]],
    ['out of range is no answer', '2) 9', []],
    [
      'a long note without numbers is not answers',
      'Thanks!\nLooking forward to it.\nSee you.\nBest,\nAna',
      [],
    ],
  ])('%s', (_, text, expected) => {
    expect(read(text)).toEqual(expected);
  });

  it('says which questions it could not read', () => {
    const reading = readIntakeAnswers('1. something else entirely\n2. 4', questions);
    expect(reading.unread).toEqual([{ index: 0, said: 'something else entirely' }]);
    expect(reading.answers.map((a) => a.field)).toEqual(['confidence']);
  });

  it('never throws, and only gives allowed answers', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        for (const answer of readIntakeAnswers(text, questions).answers) {
          const question = questions[answer.index]!;
          if (question.scale !== undefined) expect(answer.value).toBeGreaterThanOrEqual(1);
          else {
            const allowed = question.answers!.map((a) => a.value);
            for (const v of [answer.value].flat()) expect(allowed).toContain(v);
          }
        }
      }),
    );
  });
});
