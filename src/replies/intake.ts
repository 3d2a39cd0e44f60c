import type { IntakeQuestion } from '../sequence/schema.js';

/**
 * Reading a learner's answers to the welcome email's intake questions (#14 §2). Pure: the text
 * of their reply and the programme's questions in, the answers it gives out. People write
 * answers in many ways, and all of these read the same:
 *
 *     1. I manage a team 2) 3 3 - time
 *
 *     1: communications
 *     2: 4
 *
 *     Communications          (no numbers: one line per question, in order)
 *     4
 *
 * A question is answered only when its part of the reply names one of its answers (its label in
 * any of the programme's languages, its value, or one of its `words`; or, for a scale, a number
 * in range): anything else leaves the profile as the cohort file gave it.
 */

/** One question answered. */
export interface IntakeAnswer {
  /** 0-based, in the programme's order (the welcome numbers them from 1). */
  readonly index: number;
  readonly field: string;
  /** A slug or number; for barriers and goals, every answer the reply names. */
  readonly value: string | number | readonly string[];
  /** What the learner wrote for it, trimmed. */
  readonly said: string;
  /** The answer as the welcome offered it: its label(s), or the number. */
  readonly label: string;
}

export interface IntakeReading {
  readonly answers: readonly IntakeAnswer[];
  /** Parts of the reply that looked like an answer to a question but named none of its answers. */
  readonly unread: readonly { readonly index: number; readonly said: string }[];
}

/** Fields whose value is a list: one reply may give several answers. */
const listFields = new Set(['barriers', 'goals']);

/**
 * The answers in `text` to `questions`. `translations` are the same questions in the
 * programme's other languages, whose labels count too.
 *
 * @example
 * readIntakeAnswers('1. I manage a team 2) 3', questions).answers
 * // [{ index: 0, field: 'role', value: 'team-leader', said: 'I manage a team' },
 * //  { index: 1, field: 'confidence', value: 3, said: '3' }]
 */
export function readIntakeAnswers(
  text: string,
  questions: readonly IntakeQuestion[],
  translations: readonly (readonly IntakeQuestion[])[] = [],
): IntakeReading {
  if (questions.length === 0) return { answers: [], unread: [] };
  // Only the learner's own words: no quoted history, at most a few kilobytes.
  const own = text
    .slice(0, 4000)
    .split(/\r?\n/)
    .filter((line) => !line.trimStart().startsWith('>'))
    .join('\n');
  const answers: IntakeAnswer[] = [];
  const unread: { index: number; said: string }[] = [];
  for (const { index, said } of segments(own, questions.length)) {
    const question = questions[index]!;
    const others = translations.map((t) => t[index]).filter((q) => q !== undefined);
    const value = interpret(said, question, others);
    if (value === undefined) unread.push({ index, said });
    else
      answers.push({ index, field: question.field, value, said, label: labelOf(question, value) });
  }
  return { answers, unread };
}

/**
 * The part of the reply for each question. With question numbers ("1.", "2)", "3 -", "Q2:"),
 * each part runs to the next number; without any, one line per question in order.
 */
function segments(text: string, count: number): { index: number; said: string }[] {
  const found: { index: number; at: number; start: number }[] = [];
  let from = 0;
  for (let n = 1; n <= count; n++) {
    // At a line's start the number may stand alone ("2 four"); mid-line it needs its mark
    // ("2) 3 3 - time": the first 3 is the answer to 2, the second starts question 3).
    const marker = new RegExp(
      `(?:^[ \\t]*(?:q|question|cwestiwn)?[ \\t]*${n}(?:[ \\t]*[.):\\-–—=][ \\t]*|[ \\t]+)|(?<=^|[\\s,;(\\[])(?:q|question|cwestiwn)?[ \\t]*${n}[ \\t]*[.):\\-–—=](?!\\d))`,
      'gim',
    );
    marker.lastIndex = from;
    const match = marker.exec(text);
    if (match === null) continue;
    const start = match.index + match[0].length;
    found.push({ index: n - 1, at: match.index, start });
    // The next number is looked for after this answer's first character: "2. 3." is question 2
    // answered 3, not question 3 unanswered.
    const first = /\S/.exec(text.slice(start));
    from = start + (first === null ? 0 : first.index + 1);
  }
  if (found.length > 0) {
    return found
      .map((f, i) => ({
        index: f.index,
        said: clean(text.slice(f.start, found[i + 1]?.at ?? text.length)),
      }))
      .filter((s) => s.said !== '');
  }
  const lines = text
    .split('\n')
    .map(clean)
    .filter((line) => line !== '');
  // Many lines without numbers are a note, not answers.
  if (lines.length > count) return [];
  return lines.map((said, index) => ({ index, said }));
}

function labelOf(question: IntakeQuestion, value: string | number | readonly string[]): string {
  const label = (v: string | number) =>
    question.answers?.find((a) => String(a.value) === String(v))?.label ?? String(v);
  return [value].flat().map(label).join(', ');
}

function clean(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/^[\s,;.:-]+|[\s,;]+$/g, '')
    .trim();
}

const numberWords: Readonly<Record<string, number>> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  un: 1,
  dau: 2,
  dwy: 2,
  tri: 3,
  tair: 3,
  pedwar: 4,
  pedair: 4,
  pump: 5,
};

function interpret(
  said: string,
  question: IntakeQuestion,
  translations: readonly IntakeQuestion[],
): string | number | readonly string[] | undefined {
  if (question.scale !== undefined) {
    const { min, max } = question.scale;
    const numbers = [...said.matchAll(/(?<![\d.])(\d{1,3})(?![\d])/g)].map((m) => Number(m[1]));
    const words = said
      .toLowerCase()
      .split(/[^\p{L}]+/u)
      .map((w) => numberWords[w])
      .filter((n) => n !== undefined);
    return [...numbers, ...words].find((n) => n >= min && n <= max);
  }
  const answers = question.answers ?? [];
  // A letter alone picks by position: "b", "b)".
  const letter = /^([a-h])[).]?$/i.exec(said);
  if (letter !== null) {
    const chosen = answers[letter[1]!.toLowerCase().charCodeAt(0) - 97];
    if (chosen !== undefined)
      return listFields.has(question.field) ? [String(chosen.value)] : chosen.value;
  }
  const hits = answers
    .map((answer, a) => {
      const terms = [
        String(answer.value).replace(/-/g, ' '),
        answer.label,
        ...translations.map((t) => t.answers?.[a]?.label).filter((l) => l !== undefined),
        ...(answer.words ?? []),
      ];
      const at = terms
        .map((term) => position(said, term))
        .filter((p) => p >= 0)
        .sort((x, y) => x - y)[0];
      return { value: answer.value, at };
    })
    .filter((hit): hit is { value: string | number; at: number } => hit.at !== undefined)
    .sort((x, y) => x.at - y.at);
  if (hits.length === 0) return undefined;
  if (listFields.has(question.field)) return hits.map((hit) => String(hit.value));
  return hits[0]!.value;
}

/**
 * Where `term` occurs in `said` as whole words, or -1. Case is ignored, except for a term
 * written in capitals ("IT", "TG"), which must be written so: "it" is a word in every sentence.
 */
function position(said: string, term: string): number {
  const trimmed = term.trim();
  if (trimmed === '') return -1;
  const capitals =
    trimmed.length > 1 && trimmed === trimmed.toUpperCase() && /\p{Lu}/u.test(trimmed);
  const escaped = trimmed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
  const pattern = new RegExp(
    `(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`,
    capitals ? 'u' : 'iu',
  );
  return pattern.exec(said)?.index ?? -1;
}
