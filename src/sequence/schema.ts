import { z } from 'zod';
import { languages, type Language } from '../language/languages.js';

/**
 * The trainer's format: one YAML file per 12-week programme. This schema is the single
 * definition; `schemas/sequence.schema.json` is generated from it for editors, and the
 * TypeScript types below are inferred from it.
 */

export const dayNames = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const day = z.enum(dayNames).describe('a day of the week: mon, tue, wed, thu, fri, sat or sun');

const time = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time such as "09:00" (24-hour HH:MM)')
  .describe('a local time in the learner’s zone, 24-hour HH:MM, such as "09:00"');

const duration = z
  .string()
  .regex(/^(\d+d)?(\d+h)?(\d+m)?$/, 'expected a duration such as "30m", "1h30m" or "2d"')
  .refine((v) => v !== '', 'expected a duration such as "30m", "1h30m" or "2d"')
  .describe('a duration such as "30m", "1h30m" or "2d"');

const slug = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]*$/,
    'expected lower-case letters, digits and dashes, such as "kickoff"',
  );

/** Liquid text: `{{ learner.first_name }}` and friends (see template-model.ts). */
const template = z
  .string()
  .min(1, 'expected some text')
  .describe('text; may use {{ learner.first_name }} etc.');

/** Markdown prose, inline or in a `.md` file next to the YAML. */
const markdown = z
  .union([
    z.string().min(1, 'expected some Markdown text'),
    z.strictObject({
      file: z
        .string()
        .regex(/\.md$/, 'expected a path to a .md file, relative to the sequence file')
        .describe('a Markdown file, relative to the sequence file'),
    }),
  ])
  .describe('Markdown text (may use {{ learner.first_name }} etc.), or { file: path.md }');

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const matchRule = z
  .union([
    scalar,
    z.array(scalar).min(1),
    z
      .strictObject({ min: z.number().optional(), max: z.number().optional() })
      .refine((r) => r.min !== undefined || r.max !== undefined, 'expected min, max or both'),
  ])
  .describe(
    'a value, a list of values (any of them; for list fields such as barriers, any shared value), or { min, max } for numbers',
  );

const audience = z
  .strictObject({
    priority: z
      .number()
      .int()
      .default(0)
      .describe('higher wins when several programmes match; ties go to the id'),
    default: z
      .boolean()
      .default(false)
      .describe('the programme for learners no other programme matches'),
    match: z
      .record(z.string(), matchRule)
      .default({})
      .describe(
        'profile field -> rule; every rule must hold (role, organisation, confidence, barriers, goals...)',
      ),
  })
  .describe('who this programme is for; read by the profile matcher');

const schedule = z
  .strictObject({
    send_at: time.default('09:00').describe('when emails go out, learner’s local time'),
    working_days: z.array(day).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri']),
    late_grace: duration
      .default('2d')
      .describe('after downtime, a step later than this is marked missed instead of sent late'),
    window: z
      .strictObject({ from: time, to: time })
      .optional()
      .describe('nothing is sent outside these local hours'),
  })
  .default({
    send_at: '09:00',
    working_days: ['mon', 'tue', 'wed', 'thu', 'fri'],
    late_grace: '2d',
  });

const assignment = z.strictObject({
  title: template,
  body: markdown,
  due: day.describe('the day of the same week it is due'),
});

const email = z
  .strictObject({
    subject: template,
    preheader: template.optional().describe('the line mail clients show after the subject'),
    tip: markdown.optional(),
    example: markdown.optional(),
    assignment: assignment.optional(),
    body: markdown.optional().describe('free text, for short emails such as a nudge'),
  })
  .refine(
    (e) =>
      e.tip !== undefined ||
      e.example !== undefined ||
      e.assignment !== undefined ||
      e.body !== undefined,
    'an email needs at least one of tip, example, assignment or body',
  );

const invite = z.strictObject({
  title: template,
  duration,
  description: markdown.optional(),
  location: z.string().optional().describe('where, such as "At your desk" or a room'),
});

const condition = z
  .strictObject({
    not_done: slug.optional().describe('send only if the learner has not said this step is done'),
    done: slug.optional().describe('send only if the learner has said this step is done'),
  })
  .refine(
    (c) => (c.not_done === undefined) !== (c.done === undefined),
    'expected exactly one of not_done or done',
  );

export const stepSchema = z
  .strictObject({
    id: slug.describe('unique within its week'),
    day,
    at: time.optional().describe('overrides schedule.send_at; the start time of an invite'),
    when: condition
      .optional()
      .describe('checked when the step is due; otherwise the step is skipped'),
    email: email.optional(),
    invite: invite.optional(),
  })
  .refine(
    (s) => (s.email === undefined) !== (s.invite === undefined),
    'a step has exactly one of email or invite',
  );

export const weekSchema = z.strictObject({
  week: z.number().int().min(1).max(12),
  theme: z.string().min(1),
  manager_tip: template.describe('one concrete thing the manager can do this week'),
  steps: z.array(stepSchema).min(1),
});

/**
 * A profile field an intake question may set: any field a matcher or `when` rule reads, never
 * who or where the learner is (their address, name, zone, manager or start date come from the
 * cohort file and stay as the trainer imported them).
 */
const intakeField = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]*$/,
    'expected a profile field name in snake_case, such as role, confidence or barriers',
  )
  .describe(
    'the profile field the answer sets: role, confidence, barriers, goals, or a free field such as pay_band',
  );

const intakeAnswer = z.strictObject({
  value: z
    .union([slug, z.number()])
    .describe('what the profile field becomes: a slug such as team-leader, or a number'),
  label: z
    .string()
    .min(1, 'expected some text')
    .describe('how the welcome email offers it: "I lead a team"'),
  words: z
    .array(z.string().min(1))
    .optional()
    .describe(
      'other words that mean this answer in a reply (any language): [manage, manager, "team leader"]',
    ),
});

export const intakeQuestionSchema = z
  .strictObject({
    field: intakeField,
    question: z
      .string()
      .min(1, 'expected some text')
      .describe('the question as the welcome email asks it'),
    answers: z
      .array(intakeAnswer)
      .min(2, 'expected at least two answers to choose from')
      .optional()
      .describe('the answers to choose from; for barriers and goals, a reply may pick several'),
    scale: z
      .strictObject({ min: z.number().int(), max: z.number().int() })
      .refine((s) => s.min < s.max, 'expected min below max')
      .optional()
      .describe('a number to answer with, such as { min: 1, max: 5 } for confidence'),
  })
  .refine(
    (q) => (q.answers === undefined) !== (q.scale === undefined),
    'a question has exactly one of answers or scale',
  );

export const sequenceSchema = z.strictObject({
  id: slug,
  languages: z
    .array(z.enum(languages))
    .min(1)
    .optional()
    .describe(
      'the languages the programme is written in, Welsh first for bilingual mail: [cy, en]. ' +
        'Then every text is a map by language: subject: { cy: "Wythnos 3: …", en: "Week 3: …" }. ' +
        'Without it, texts are plain strings in English',
    ),
  reviewed_by: z
    .string()
    .nullable()
    .optional()
    .describe(
      'who checked the Welsh (a Welsh speaker); until set, gym validate says the Welsh needs review',
    ),
  title: z.string().min(1),
  summary: z.string().optional().describe('a paragraph for trainers and the welcome email'),
  trainer: z
    .strictObject({
      name: z.string().min(1).describe('named in the welcome email'),
      email: z.email().optional().describe('where learners can write to the trainer'),
    })
    .optional()
    .describe('who runs the programme: the welcome email introduces them'),
  audience,
  intake: z
    .array(intakeQuestionSchema)
    .min(1, 'expected one to three questions')
    .max(3, 'expected at most three questions: a welcome email asks two or three')
    .optional()
    .describe(
      'up to three profile questions the welcome email asks (#14); a reply with answers updates the ' +
        'profile and, before week 1 is sent, re-runs the matcher',
    ),
  schedule,
  weeks: z.array(weekSchema).describe('exactly weeks 1 to 12, in order'),
});

/** A programme in one language: every text a plain string. */
export type SequenceText = z.infer<typeof sequenceSchema>;

/**
 * A loaded programme. Its texts are in its base language (English when it offers English, else
 * its first); a programme with `languages` also carries each language's text in `translations`
 * (see `sequenceIn`), which the loader builds from the file's `{ cy, en }` maps.
 */
export type Sequence = SequenceText & {
  readonly translations?: Partial<Record<Language, SequenceText>> | undefined;
};

/** The languages a programme offers: its `languages`, or English for a programme without. */
export function offeredLanguages(sequence: Pick<SequenceText, 'languages'>): Language[] {
  return sequence.languages ?? ['en'];
}

/** The programme's texts in one language it offers (its base texts for any other). */
export function sequenceIn(sequence: Sequence, language: Language): SequenceText {
  return sequence.translations?.[language] ?? sequence;
}
export type Week = z.infer<typeof weekSchema>;
export type IntakeQuestion = z.infer<typeof intakeQuestionSchema>;
export type Step = z.infer<typeof stepSchema>;
export type EmailStep = z.infer<typeof email>;
export type InviteStep = z.infer<typeof invite>;
export type Markdown = z.infer<typeof markdown>;
export type DayName = (typeof dayNames)[number];

/**
 * The text of a Markdown field. The loader replaces every `{ file }` reference with the file's
 * text, so past loading a Markdown field is always a string.
 */
export function markdownText(markdown: Markdown): string {
  if (typeof markdown === 'string') return markdown;
  throw new Error(`Markdown file ${markdown.file} was not resolved by the loader`);
}
