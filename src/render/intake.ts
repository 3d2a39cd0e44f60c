import type { Language } from '../language/languages.js';
import type { IntakeQuestion } from '../sequence/schema.js';

/**
 * The welcome email's intake questions (#14 §2): numbered, each with how to answer it, and an
 * example reply built from the questions themselves, so that a learner sees exactly what to
 * write. Answering is optional, and the email says so. One block per language of the email.
 */

interface IntakeWords {
  heading: string;
  intro: string;
  example: string;
  optional: string;
  scale: (min: number, max: number) => string;
  several: string;
}

const words: Record<Language, IntakeWords> = {
  en: {
    heading: 'A few questions (optional)',
    intro:
      'Your answers help us choose the programme that suits you best. Reply to this email with the number of each question and your answer.',
    example: 'For example:',
    optional:
      'Answer as many as you like, or none: a question you leave out keeps what your organisation told us.',
    scale: (min, max) => `a number from ${min} to ${max}`,
    several: 'one or more of',
  },
  cy: {
    heading: 'Ychydig o gwestiynau (dewisol)',
    intro:
      "Mae eich atebion yn ein helpu i ddewis y rhaglen sy'n gweddu orau i chi. Atebwch yr e-bost hwn gyda rhif pob cwestiwn a'ch ateb.",
    example: 'Er enghraifft:',
    optional:
      "Atebwch gynifer ag y mynnwch, neu ddim un: mae cwestiwn heb ateb yn cadw'r hyn a ddywedodd eich sefydliad wrthym.",
    scale: (min, max) => `rhif o ${min} i ${max}`,
    several: 'un neu fwy o',
  },
};

const listFields = new Set(['barriers', 'goals']);

/** How to answer one question: its choices, or its scale. */
function howToAnswer(question: IntakeQuestion, language: Language): string {
  const w = words[language];
  if (question.scale !== undefined) return w.scale(question.scale.min, question.scale.max);
  const labels = (question.answers ?? []).map((a) => a.label).join(' / ');
  return listFields.has(question.field) ? `${w.several}: ${labels}` : labels;
}

/**
 * One question for a trainer's eyes (gym simulate, the preview): the field it sets and the
 * values each answer gives it. `Which is closest to your work? -> role: Communications or press
 * = comms-officer / Policy = policy-officer`.
 */
export function describeQuestion(question: IntakeQuestion): string {
  const answers =
    question.scale !== undefined
      ? `a number from ${question.scale.min} to ${question.scale.max}`
      : (question.answers ?? []).map((a) => `${a.label} = ${String(a.value)}`).join(' / ');
  const several = listFields.has(question.field) ? ' (one or more)' : '';
  return `${question.question} -> ${question.field}${several}: ${answers}`;
}

/** "1: Communications or press, 2: 3, 3: Time": a reply that answers every question. */
export function exampleReply(questions: readonly IntakeQuestion[]): string {
  return questions
    .map((q, i) => {
      const answer =
        q.scale !== undefined
          ? String(Math.round((q.scale.min + q.scale.max) / 2))
          : (q.answers?.[0]?.label ?? '');
      return `${i + 1}: ${answer}`;
    })
    .join(', ');
}

const escapeHtml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** Trainer text is data here, never a template: `{{` in a question is printed as written. */
const raw = (text: string) => `{% raw %}${text}{% endraw %}`;

/**
 * The block in each language of the email (Welsh first in a bilingual one), as HTML for the
 * MJML layout and as plain text; empty strings when the programme asks nothing.
 */
export function intakeBlock(
  languages: readonly { language: Language; questions: readonly IntakeQuestion[] }[],
): { html: string; text: string } {
  const asked = languages.filter((l) => l.questions.length > 0);
  if (asked.length === 0) return { html: '', text: '' };
  const html = asked
    .map(({ language, questions }) => {
      const w = words[language];
      const lang = language === 'en' ? 'en-GB' : language;
      const items = questions
        .map(
          (q) =>
            `<li style="margin:0 0 6px;">${raw(escapeHtml(q.question))}<br><em>${raw(escapeHtml(howToAnswer(q, language)))}</em></li>`,
        )
        .join('');
      return (
        `<div lang="${lang}"><h2 style="margin:20px 0 8px;font-size:20px;line-height:1.3;font-weight:700;">${w.heading}</h2>` +
        `<p style="margin:0 0 8px;">${w.intro}</p>` +
        `<ol style="margin:0 0 12px;padding:0 0 0 28px;">${items}</ol>` +
        `<p style="margin:0 0 8px;">${w.example} <strong>${raw(escapeHtml(exampleReply(questions)))}</strong></p>` +
        `<p style="margin:0 0 16px;">${w.optional}</p></div>`
      );
    })
    .join('');
  const text = asked
    .map(({ language, questions }) => {
      const w = words[language];
      const items = questions
        .map((q, i) => `${i + 1}. ${raw(q.question)}\n   (${raw(howToAnswer(q, language))})`)
        .join('\n');
      return [
        w.heading.toUpperCase(),
        '',
        w.intro,
        '',
        items,
        '',
        `${w.example} ${raw(exampleReply(questions))}`,
        '',
        w.optional,
      ].join('\n');
    })
    .join('\n\n');
  return { html, text };
}
