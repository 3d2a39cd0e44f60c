import { GymError } from '../errors.js';
import {
  chromeText,
  journeyWords,
  type ChromeText,
  type JourneyWords,
} from '../language/chrome-text.js';
import { dayLabel } from '../language/dates.js';
import {
  bilingualSubject,
  languagesOf,
  preferenceOf,
  type Language,
  type LanguagePreference,
} from '../language/languages.js';
import {
  markdownText,
  offeredLanguages,
  sequenceIn,
  type EmailStep,
  type InviteStep,
  type Sequence,
} from '../sequence/schema.js';
import type { TemplateContext } from '../sequence/template-model.js';
import { learnerChromeScope, type LearnerChrome, type RecipientLinks } from './chrome.js';
import {
  compileSkeleton,
  emailFromSkeleton,
  fillEmail,
  oneLine,
  type CompiledEmail,
  type CompileOptions,
  type EmailParts,
  type EmailSkeleton,
  type Frame,
  type LayoutName,
  type RenderedEmail,
} from './email.js';
import { intakeBlock } from './intake.js';
import { shippedLayoutSources } from './layout-files.js';
import {
  ContentError,
  markdownToHtml,
  markdownToText,
  protectLiquid,
  templateToHtml,
} from './markdown.js';
import {
  fill,
  parseTemplate,
  textLiquid,
  trainerTemplateProblems,
  type ParsedTemplate,
} from './templates.js';

/** An invite step's text, filled for one learner; the calendar builder adds times and people. */
export interface RenderedInvite {
  /** One line (the iCalendar SUMMARY). */
  title: string;
  /** Plain text written from the Markdown description (the iCalendar DESCRIPTION); '' if none. */
  description: string;
  location?: string | undefined;
}

/** An invite's texts in one language. */
interface InviteText {
  language: Language;
  title: ParsedTemplate;
  description: ParsedTemplate | null;
  location?: string | undefined;
}

/** An invite's texts in one language, as data: the Liquid sources. */
interface InviteSource {
  readonly language: Language;
  readonly where: string;
  readonly title: string;
  readonly description: string | null;
  readonly location?: string | undefined;
}

/**
 * A compiled programme as data (#17): what MJML made of its emails, as text, stored with the
 * programme version (src/db/compiled-programmes.ts), so that workers load it with Liquid only and
 * never load MJML. `programmeFromSkeleton` parses it.
 */
export interface ProgrammeSkeleton {
  /** Raised when the skeleton's form changes: a stored one of another form is compiled again. */
  readonly format: typeof skeletonFormat;
  readonly id: string;
  readonly title: string;
  readonly language: LanguagePreference;
  readonly titles: readonly (readonly [Language, string])[];
  readonly weeks: readonly {
    readonly number: number;
    readonly theme: string;
    readonly managerTips: readonly (readonly [
      Language,
      { readonly theme: string; readonly tip: string; readonly where: string },
    ])[];
    readonly steps: readonly (readonly [
      string,
      (
        | { readonly kind: 'email'; readonly email: EmailSkeleton }
        | { readonly kind: 'invite'; readonly texts: readonly InviteSource[] }
      ),
    ])[];
  }[];
  /** How many assignments the programme sets, for the programme-end email's count. */
  readonly assignments: number;
  readonly welcome: EmailSkeleton;
  readonly end: EmailSkeleton;
  readonly warnings: readonly string[];
}

// 2: `assignments`, and the welcome and programme-end emails per language (#15).
export const skeletonFormat = 2;

type CompiledStep =
  { kind: 'email'; email: CompiledEmail } | { kind: 'invite'; texts: InviteText[] };

interface CompiledWeek {
  readonly number: number;
  readonly theme: string;
  /** The manager tip in every language the programme offers (a manager's may differ). */
  readonly managerTips: ReadonlyMap<Language, { theme: string; tip: ParsedTemplate }>;
  readonly steps: ReadonlyMap<string, CompiledStep>;
}

/** A programme's emails compiled once at load: fill them per learner with the render functions. */
export interface CompiledProgramme {
  readonly id: string;
  readonly title: string;
  /** What the learner emails are in: one language, or both in one email (`cy+en`, Welsh first). */
  readonly language: LanguagePreference;
  /** The programme's title in each language it offers. */
  readonly titles: ReadonlyMap<Language, string>;
  readonly weeks: ReadonlyMap<number, CompiledWeek>;
  /** How many assignments the programme sets, for the programme-end email's count. */
  readonly assignments: number;
  readonly welcome: CompiledEmail;
  readonly end: CompiledEmail;
  /** MJML warnings under 'soft' validation. */
  readonly warnings: readonly string[];
}

/**
 * The frame of a learner's email. In a bilingual email the per-recipient values of each language
 * are under `langs.cy` and `langs.en` (see `learnerScope`), so each language's title is its own.
 */
function learnerFrame(progress: boolean, language: LanguagePreference = 'en'): Frame {
  const list = languagesOf(language);
  const title = (l: Language) =>
    list.length > 1 ? `{{ langs.${l}.programme.title }}` : '{{ programme.title }}';
  const span = (l: Language, text: string) =>
    list.length > 1 ? `<span lang="${l === 'en' ? 'en-GB' : l}">${text}</span>` : text;
  const reason = (l: Language) => `${chromeText(l).enrolledReason} ${title(l)}.`;
  return {
    kicker: {
      html: list.map(title).join(' / '),
      text: list.map(title).join(' / '),
    },
    progress,
    stop: true,
    reason: {
      html: list.map((l) => span(l, reason(l))).join(' / '),
      text: list.map(reason).join(' / '),
    },
  };
}

/**
 * In a bilingual email, the Liquid that makes `{{ week.theme }}` and `{{ programme.title }}` in
 * the part after it the values of `language`: the trainer's templates stay as they are written.
 */
function languageScope(language: Language, bilingual: boolean): string {
  if (!bilingual) return '';
  return `{% assign week = langs.${language}.week %}{% assign programme = langs.${language}.programme %}`;
}

/** Collects every problem of a programme's trainer content before reporting them together. */
class Problems {
  readonly list: string[] = [];

  template(source: string | undefined, where: string): void {
    if (source !== undefined) this.list.push(...trainerTemplateProblems(source, where));
  }

  /** Markdown to a fragment; a problem is recorded and '' returned so that checking goes on. */
  markdown(
    source: string,
    where: string,
    convert: (source: string, where: string) => string,
  ): string {
    this.template(source, where);
    try {
      return convert(source, where);
    } catch (error) {
      if (error instanceof ContentError) {
        this.list.push(error.message);
        return '';
      }
      throw error;
    }
  }

  throwIfAny(programme: string): void {
    if (this.list.length === 0) return;
    throw new GymError(
      'TEMPLATE_INVALID',
      `programme "${programme}" has ${this.list.length} template ${this.list.length === 1 ? 'problem' : 'problems'}:\n  ${this.list.join('\n  ')}`,
      { programme, problems: [...this.list] },
    );
  }
}

/** Both forms of one Markdown field. */
interface Fragment {
  html: string;
  text: string;
}

function fragment(problems: Problems, source: string | undefined, where: string): Fragment | null {
  if (source === undefined) return null;
  const html = problems.markdown(source, where, markdownToHtml);
  return { html, text: markdownToText(source) };
}

/**
 * The preheader when the trainer gave none: the assignment, or else the first sentence of the
 * email, cut at a word so that no `{{ }}` is split.
 */
function defaultPreheader(email: EmailStep, language: Language): string {
  if (email.assignment !== undefined) {
    const due = dayLabel(email.assignment.due, language);
    return language === 'cy'
      ? `Yr wythnos hon: ${email.assignment.title}, erbyn ${due}`
      : `This week: ${email.assignment.title}, due ${due}`;
  }
  const first = email.tip ?? email.body ?? email.example;
  if (first === undefined) return '';
  const { text, restore } = protectLiquid(markdownToText(markdownText(first)));
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  const sentence = /^.*?[.!?](?=\s|$)/.exec(line)?.[0] ?? line;
  if (sentence.length <= 110) return restore(sentence);
  return `${restore(sentence.slice(0, 110).replace(/\s+\S*$/, ''))}…`;
}

/** One language's part of an email step, ready for the layout. */
interface EmailPart {
  language: Language;
  subject: string;
  preheader: string;
  hasContent: boolean;
  html: Record<string, unknown>;
  text: Record<string, unknown>;
}

/**
 * Checks one email step in one language and turns its Markdown into the layout's slots. Returns
 * null when it has problems (recorded in `problems`), so that checking can go on through the
 * whole programme.
 */
function prepareEmailPart(
  email: EmailStep,
  language: Language,
  bilingual: boolean,
  where: string,
  problems: Problems,
): EmailPart | null {
  const before = problems.list.length;
  problems.template(email.subject, `${where} subject`);
  problems.template(email.preheader, `${where} preheader`);
  problems.template(email.assignment?.title, `${where} assignment title`);
  const md = (field: 'tip' | 'example' | 'body') => {
    const value = email[field];
    return fragment(
      problems,
      value === undefined ? undefined : markdownText(value),
      `${where} ${field}`,
    );
  };
  const tip = md('tip');
  const example = md('example');
  const body = md('body');
  const assignment = email.assignment;
  const assignmentBody = assignment
    ? fragment(problems, markdownText(assignment.body), `${where} assignment body`)
    : null;
  if (problems.list.length > before) return null;

  const t: ChromeText = chromeText(language);
  const due = assignment ? dayLabel(assignment.due, language) : '';
  const label = language === 'cy' ? 'CYMRAEG' : 'ENGLISH';
  const scope = languageScope(language, bilingual);
  return {
    language,
    subject: email.subject,
    preheader: email.preheader ?? defaultPreheader(email, language),
    hasContent: tip !== null || example !== null || assignment !== undefined,
    html: {
      lang: language,
      label,
      scope,
      t,
      tip: tip?.html ?? null,
      example: example?.html ?? null,
      body: body?.html ?? null,
      assignment: assignment
        ? { title: templateToHtml(assignment.title), due, body: assignmentBody?.html ?? '' }
        : null,
    },
    text: {
      lang: language,
      label,
      scope,
      t,
      tip: tip?.text ?? null,
      example: example?.text ?? null,
      body: body?.text ?? null,
      assignment: assignment
        ? { title: assignment.title, due, body: assignmentBody?.text ?? '' }
        : null,
    },
  };
}

/**
 * One email of the parts of each language: Welsh first, a bilingual subject and preheader. The
 * layout shows each part in turn, each marked with its `lang`.
 */
function emailOfParts(
  parts: readonly EmailPart[],
  language: LanguagePreference,
): { layout: LayoutName; parts: EmailParts } {
  const bilingual = parts.length > 1;
  const subjects = parts.map((p) => ({ language: p.language, text: p.subject }));
  return {
    layout: parts.some((p) => p.hasContent) ? 'learner-step' : 'nudge',
    parts: {
      subject: bilingual
        ? bilingualSubject(subjects, (l) => languageScope(l, true))
        : parts[0]!.subject,
      preheader: bilingual
        ? parts.map((p) => `${languageScope(p.language, true)}${p.preheader}`).join(' / ')
        : parts[0]!.preheader,
      frame: learnerFrame(true, language),
      html: { parts: parts.map((p) => p.html) },
      text: { parts: parts.map((p) => p.text) },
    },
  };
}

/** What the welcome and programme-end emails show of one language's programme text. */
interface JourneySource {
  summary: Fragment | null;
  intake: { html: string; text: string };
  weeks: { number: number; theme: string }[];
}

/**
 * The welcome and programme-end emails' parts, one per language (Welsh first in a bilingual
 * email), as the step emails have (#15): each part's own words (`t`, and `w` for the sentences
 * with a name, title or count), summary, intake questions and week themes, and the `{{ }}` of
 * each part filled with its language's title (`scope`). `{{ end.tally.cy }}` is the count
 * sentence, which `renderProgrammeEnd` writes per learner.
 */
function journeyParts(
  sequence: Sequence,
  languages: readonly Language[],
  bilingual: boolean,
  source: (language: Language) => JourneySource,
) {
  const trainer = sequence.trainer?.name ? '{{ trainer.name }}' : undefined;
  const trainerEmail = trainer && sequence.trainer?.email ? '{{ trainer.email }}' : undefined;
  // Plain text headings are in capitals, the learner's name as written.
  const upper = (say: (name: string) => string, name: string) =>
    say('\u0000').toUpperCase().replace('\u0000', name);
  const parts = languages.map((language) => {
    const w = journeyWords(language);
    const { summary, intake, weeks } = source(language);
    const common = {
      lang: language,
      label: language === 'cy' ? 'CYMRAEG' : 'ENGLISH',
      scope: languageScope(language, bilingual),
      t: chromeText(language),
      weeks: `overview.${language}.weeks`,
    };
    const words = (title: string) => ({
      starting: w.welcomeStarting(title),
      replies: w.welcomeReplies,
      manager: w.welcomeManager('{{ manager.name }}'),
      trainer: w.welcomeTrainer(trainer, trainerEmail),
      end_of: w.endOf(title),
      tally: `{{ end.tally.${language} }}`,
      tell_manager: w.endTellManager(undefined),
      tell_manager_named: w.endTellManager('{{ manager.name }}'),
      rating: w.endRating,
    });
    return {
      language,
      weeks,
      html: {
        ...common,
        summary: summary?.html ?? '',
        intake: intake.html,
        w: {
          ...words('<strong>{{ programme.title }}</strong>'),
          title: w.welcomeTitle('{{ learner.first_name }}'),
          end_title: w.endTitle('{{ learner.first_name }}'),
        },
      },
      text: {
        ...common,
        summary: summary?.text ?? '',
        intake: intake.text,
        w: {
          ...words('{{ programme.title }}'),
          title: upper(w.welcomeTitle, '{{ learner.first_name }}'),
          end_title: upper(w.endTitle, '{{ learner.first_name }}'),
        },
      },
    };
  });
  return {
    html: parts.map((p) => p.html),
    text: parts.map((p) => p.text),
    /** Each language's week themes, and the first language's as `weeks`. */
    overview: {
      weeks: parts[0]!.weeks,
      ...Object.fromEntries(parts.map((p) => [p.language, { weeks: p.weeks }])),
    },
    subject: (say: (w: JourneyWords) => string) =>
      bilingual
        ? bilingualSubject(
            languages.map((l) => ({ language: l, text: say(journeyWords(l)) })),
            (l) => languageScope(l, true),
          )
        : say(journeyWords(languages[0]!)),
    preheader: (say: (w: JourneyWords) => string) =>
      languages.map((l) => `${languageScope(l, bilingual)}${say(journeyWords(l))}`).join(' / '),
  };
}

function prepareInvite(
  invite: InviteStep,
  language: Language,
  where: string,
  problems: Problems,
): InviteSource | null {
  const before = problems.list.length;
  const description =
    invite.description === undefined ? undefined : markdownText(invite.description);
  problems.template(invite.title, `${where} title`);
  problems.template(description, `${where} description`);
  if (problems.list.length > before) return null;
  return {
    language,
    where,
    title: invite.title,
    description: description === undefined ? null : markdownToText(description),
    location: invite.location,
  };
}

/**
 * Compiles every email of a programme once, at load time: each email step of every week (the
 * learner-step layout for steps with a tip, example or assignment, the nudge layout for
 * body-only steps), invite texts, manager tips, and the welcome and programme-end emails.
 * Trainer templates are checked first and every problem is reported in one TEMPLATE_INVALID.
 *
 * @example
 *   const programme = await compileProgramme(sequence);
 *   const email = renderStep(programme, 3, 'kickoff', context, chrome);
 */
export async function compileProgramme(
  sequence: Sequence,
  options: ProgrammeCompileOptions = {},
): Promise<CompiledProgramme> {
  return programmeFromSkeleton(await compileProgrammeSkeleton(sequence, options));
}

export type ProgrammeCompileOptions = CompileOptions & {
  /**
   * The learners' languages: one, or `cy+en` for both in one email. What the programme does
   * not offer is left out (see `effectivePreference`); by default its first language.
   */
  language?: LanguagePreference | undefined;
  /** Keep each step email's MJML (`CompiledEmail.mjml`), for measuring the fill against it. */
  keepMjml?: boolean;
};

/**
 * The programme compiled (`compileProgramme`'s checks and MJML runs) to data, to store with its
 * version: JSON in, the same CompiledProgramme out of `programmeFromSkeleton`.
 */
export async function compileProgrammeSkeleton(
  sequence: Sequence,
  options: ProgrammeCompileOptions = {},
): Promise<ProgrammeSkeleton> {
  const sources = options.layouts ?? (await shippedLayoutSources());
  const validation = options.validation ?? 'strict';
  const problems = new Problems();
  const programme = `programme "${sequence.id}"`;
  const offered = offeredLanguages(sequence);
  const wanted = languagesOf(options.language ?? preferenceOf(offered.slice(0, 1)));
  const chosen = wanted.filter((l) => offered.includes(l));
  const languages = chosen.length > 0 ? chosen : offered.slice(0, 1);
  const language = preferenceOf(languages);
  const bilingual = languages.length > 1;
  const texts = new Map(offered.map((l) => [l, sequenceIn(sequence, l)]));
  const textOf = (l: Language) => texts.get(l)!;
  const base = textOf(languages[0]!);
  const at = (l: Language) => (offered.length > 1 ? ` (${l})` : '');

  // Check and prepare everything before the slow part (MJML), so that a trainer sees every
  // problem of the programme in one report.
  const prepared = base.weeks.map((week, w) => {
    const managerTip = `${programme} week ${week.week} manager_tip`;
    for (const l of offered)
      problems.template(textOf(l).weeks[w]!.manager_tip, `${managerTip}${at(l)}`);
    const steps = week.steps.map((step, s) => {
      const where = `${programme} week ${week.week} step "${step.id}"`;
      const inLanguage = (l: Language) => textOf(l).weeks[w]!.steps[s]!;
      if (step.email) {
        const parts = languages.map((l) =>
          prepareEmailPart(inLanguage(l).email!, l, bilingual, `${where}${at(l)}`, problems),
        );
        const email = parts.every((p) => p !== null) ? emailOfParts(parts, language) : null;
        return { id: step.id, where, email };
      }
      const invites = step.invite
        ? languages.map((l) =>
            prepareInvite(inLanguage(l).invite!, l, `${where}${at(l)}`, problems),
          )
        : [];
      return {
        id: step.id,
        where,
        invite: invites.every((i) => i !== null) ? invites : null,
      };
    });
    return { week, w, steps, managerTip };
  });
  const summary = fragment(problems, base.summary, `${programme} summary`);
  const journey = journeyParts(sequence, languages, bilingual, (l) => {
    const text = textOf(l);
    return {
      summary:
        l === languages[0]
          ? summary
          : fragment(problems, text.summary, `${programme} summary${at(l)}`),
      intake: intakeBlock([{ language: l, questions: text.intake ?? [] }]),
      weeks: text.weeks.map((w) => ({ number: w.week, theme: w.theme })),
    };
  });
  problems.throwIfAny(sequence.id);

  const weeks: ProgrammeSkeleton['weeks'][number][] = [];
  const warnings: string[] = [];
  for (const { week, w, steps: stepSources, managerTip } of prepared) {
    const steps: ProgrammeSkeleton['weeks'][number]['steps'][number][] = [];
    for (const step of stepSources) {
      if (step.email) {
        const { skeleton: email, mjml } = await compileSkeleton(
          sources,
          step.email.layout,
          step.email.parts,
          step.where,
          validation,
          language,
        );
        warnings.push(...email.warnings);
        steps.push([
          step.id,
          { kind: 'email', email: options.keepMjml ? { ...email, mjml } : email },
        ]);
      } else if (step.invite) {
        steps.push([step.id, { kind: 'invite', texts: step.invite }]);
      }
    }
    weeks.push({
      number: week.week,
      theme: week.theme,
      managerTips: offered.map((l) => {
        const inLanguage = textOf(l).weeks[w]!;
        const where = `${managerTip}${at(l)}`;
        return [l, { theme: inLanguage.theme, tip: inLanguage.manager_tip, where }] as const;
      }),
      steps,
    });
  }

  const assignments = base.weeks.flatMap((w) => w.steps).filter((s) => s.email?.assignment).length;
  const { skeleton: welcome } = await compileSkeleton(
    sources,
    'welcome',
    {
      subject: journey.subject((w) => w.welcomeSubject('{{ programme.title }}')),
      preheader: journey.preheader((w) => w.welcomePreheader),
      frame: learnerFrame(false, language),
      html: { parts: journey.html },
      text: { parts: journey.text },
      statics: {
        overview: journey.overview,
        trainer: { name: sequence.trainer?.name ?? '', email: sequence.trainer?.email ?? '' },
      },
    },
    `${programme} welcome`,
    validation,
    language,
  );
  const { skeleton: end } = await compileSkeleton(
    sources,
    'programme-end',
    {
      subject: journey.subject((w) => w.endSubject('{{ programme.title }}')),
      preheader: journey.preheader((w) => w.endPreheader),
      frame: { ...learnerFrame(true, language), stop: false },
      html: { parts: journey.html },
      text: { parts: journey.text },
      statics: { overview: { ...journey.overview, assignments } },
    },
    `${programme} programme end`,
    validation,
    language,
  );
  warnings.push(...welcome.warnings, ...end.warnings);

  return {
    format: skeletonFormat,
    id: sequence.id,
    title: base.title,
    language,
    titles: offered.map((l) => [l, textOf(l).title] as const),
    weeks,
    assignments,
    welcome,
    end,
    warnings,
  };
}

/** The programme of a skeleton (compiled here or stored), its templates parsed: no MJML. */
export function programmeFromSkeleton(skeleton: ProgrammeSkeleton): CompiledProgramme {
  const parseInvite = (text: InviteSource): InviteText => ({
    language: text.language,
    title: parseTemplate(textLiquid, text.title, `${text.where} title`),
    description:
      text.description === null
        ? null
        : parseTemplate(textLiquid, text.description, `${text.where} description`),
    location: text.location,
  });
  return {
    id: skeleton.id,
    title: skeleton.title,
    language: skeleton.language,
    titles: new Map(skeleton.titles),
    weeks: new Map(
      skeleton.weeks.map((week) => [
        week.number,
        {
          number: week.number,
          theme: week.theme,
          managerTips: new Map(
            week.managerTips.map(([l, { theme, tip, where }]) => [
              l,
              { theme, tip: parseTemplate(textLiquid, tip, where) },
            ]),
          ),
          steps: new Map(
            week.steps.map(([id, step]): [string, CompiledStep] => [
              id,
              step.kind === 'email'
                ? { kind: 'email', email: emailFromSkeleton(step.email) }
                : { kind: 'invite', texts: step.texts.map(parseInvite) },
            ]),
          ),
        },
      ]),
    ),
    assignments: skeleton.assignments,
    welcome: emailFromSkeleton(skeleton.welcome),
    end: emailFromSkeleton(skeleton.end),
    warnings: skeleton.warnings,
  };
}

function findStep(compiled: CompiledProgramme, week: number, stepId: string): CompiledStep {
  const step = compiled.weeks.get(week)?.steps.get(stepId);
  if (step === undefined) {
    throw new GymError(
      'RENDER_FAILED',
      `programme "${compiled.id}" has no step "${stepId}" in week ${week}`,
      {
        programme: compiled.id,
        week,
        stepId,
      },
    );
  }
  return step;
}

/**
 * The template values in each language of the compiled programme: `week.theme` and
 * `programme.title` differ by language, the learner and manager do not.
 */
function contextsOf(
  compiled: CompiledProgramme,
  context: TemplateContext,
): Map<Language, TemplateContext> {
  return new Map(
    languagesOf(compiled.language).map((l) => {
      const week = compiled.weeks.get(context.week.number)?.managerTips.get(l);
      return [
        l,
        {
          ...context,
          week: { ...context.week, theme: week?.theme ?? context.week.theme },
          programme: {
            ...context.programme,
            title: compiled.titles.get(l) ?? context.programme.title,
          },
        },
      ];
    }),
  );
}

function learnerScope(
  compiled: CompiledProgramme,
  context: TemplateContext,
  chrome: LearnerChrome,
): Record<string, unknown> {
  const progress = {
    week: context.week.number,
    totalWeeks: context.week.total,
    assignmentsDone: chrome.assignmentsDone,
  };
  const contexts = contextsOf(compiled, context);
  const first = contexts.get(languagesOf(compiled.language)[0]!)!;
  return {
    learner: context.learner,
    manager: context.manager,
    week: first.week,
    programme: first.programme,
    // Each language's own values, for the parts of a bilingual email (see `languageScope`).
    langs: Object.fromEntries(
      [...contexts].map(([l, c]) => [l, { week: c.week, programme: c.programme }]),
    ),
    chrome: {
      ...learnerChromeScope(progress, chrome, compiled.language),
      assignments_done: chrome.assignmentsDone,
    },
  };
}

/**
 * The email of one step for one learner: only fills the precompiled templates (synchronous,
 * about a tenth of a millisecond). `context.week` is the step's week; `chrome` carries the learner's
 * reply address, unsubscribe URL and progress.
 *
 * @example
 *   renderStep(programme, 3, 'kickoff', context, {
 *     replyAddress: 'progress+t0k3n@gym.example.gov.uk',
 *     unsubscribeUrl: 'https://gym.example.gov.uk/u/t0k3n',
 *     assignmentsDone: 2,
 *   }); // { subject, preheader, html, text }
 */
export function renderStep(
  compiled: CompiledProgramme,
  week: number,
  stepId: string,
  context: TemplateContext,
  chrome: LearnerChrome,
): RenderedEmail {
  const step = findStep(compiled, week, stepId);
  if (step.kind !== 'email') {
    throw new GymError(
      'RENDER_FAILED',
      `week ${week} step "${stepId}" is an invite; use renderInvite`,
      { week, stepId },
    );
  }
  return fillEmail(step.email, learnerScope(compiled, context, chrome));
}

/** The welcome email for a newly enrolled learner (`context.week` is week 1). */
export function renderWelcome(
  compiled: CompiledProgramme,
  context: TemplateContext,
  links: RecipientLinks,
): RenderedEmail {
  return fillEmail(
    compiled.welcome,
    learnerScope(compiled, context, { ...links, assignmentsDone: 0 }),
  );
}

/** What a learner did over the programme, for the programme-end email. */
export interface ProgrammeEndSummary {
  /** Their reflections, oldest first; the latest three are quoted back to them. */
  readonly reflections: readonly { readonly week: number; readonly text: string }[];
}

/** How much of a reflection is quoted back: enough to recognise it, never a wall of text. */
const quoteLength = 400;

/**
 * The last email of a programme: the learner's count of assignments done (of the programme's),
 * their reflections with their own words quoted back, the closing rating question and what to
 * do next.
 */
export function renderProgrammeEnd(
  compiled: CompiledProgramme,
  context: TemplateContext,
  chrome: LearnerChrome,
  summary: ProgrammeEndSummary = { reflections: [] },
): RenderedEmail {
  const quotes = summary.reflections.slice(-3).map((r) => {
    const flat = r.text.trim();
    const text = flat.length <= quoteLength ? flat : `${flat.slice(0, quoteLength - 1).trimEnd()}…`;
    return { week: r.week, text, quoted: `> ${text.replace(/\r?\n/g, '\n> ')}` };
  });
  const count = summary.reflections.length;
  const tally = Object.fromEntries(
    languagesOf(compiled.language).map((l) => [
      l,
      journeyWords(l).endTally(chrome.assignmentsDone, compiled.assignments, count),
    ]),
  );
  return fillEmail(compiled.end, {
    ...learnerScope(compiled, context, chrome),
    end: { reflection_count: count, quotes, tally },
  });
}

/**
 * An invite step's title and description as text, for the calendar builder, in the programme's
 * languages: both, Welsh first, for a bilingual learner ("Ymarfer: … / Practice: …").
 */
export function renderInvite(
  compiled: CompiledProgramme,
  week: number,
  stepId: string,
  context: TemplateContext,
): RenderedInvite {
  const step = findStep(compiled, week, stepId);
  if (step.kind !== 'invite') {
    throw new GymError(
      'RENDER_FAILED',
      `week ${week} step "${stepId}" is an email; use renderStep`,
      { week, stepId },
    );
  }
  const where = `programme "${compiled.id}" week ${week} step "${stepId}"`;
  const contexts = contextsOf(compiled, context);
  const filled = step.texts.map((text) => {
    const scope = contexts.get(text.language) ?? context;
    return {
      title: oneLine(fill(textLiquid, text.title, scope, `${where} title`)),
      description:
        text.description === null
          ? ''
          : fill(textLiquid, text.description, scope, `${where} description`),
      location: text.location,
    };
  });
  const locations = filled.map((f) => f.location).filter((l) => l !== undefined);
  return {
    title: filled.map((f) => f.title).join(' / '),
    description: filled
      .map((f) => f.description.trim())
      .filter((d) => d !== '')
      .join('\n\n'),
    location: locations.length === 0 ? undefined : [...new Set(locations)].join(' / '),
  };
}

/**
 * The manager tips for the fortnight starting at `context.week`: this week's and the next
 * (fewer at the end of the programme), filled for the learner, as plain text for the digest, in
 * the manager's language as far as the programme offers it (both joined, Welsh first).
 */
export function renderManagerTips(
  compiled: CompiledProgramme,
  context: TemplateContext,
  weeks = 2,
  language: LanguagePreference = compiled.language,
): string[] {
  const tips: string[] = [];
  for (let n = context.week.number; n < context.week.number + weeks; n++) {
    const week = compiled.weeks.get(n);
    if (week === undefined) continue;
    const wanted = languagesOf(language).filter((l) => week.managerTips.has(l));
    const chosen = wanted.length > 0 ? wanted : [...week.managerTips.keys()].slice(0, 1);
    const where = `programme "${compiled.id}" week ${n} manager_tip`;
    tips.push(
      chosen
        .map((l) => {
          const { theme, tip } = week.managerTips.get(l)!;
          const scope = {
            ...context,
            week: { ...context.week, number: n, theme },
            programme: {
              ...context.programme,
              title: compiled.titles.get(l) ?? context.programme.title,
            },
          };
          return oneLine(fill(textLiquid, tip, scope, where));
        })
        .join(' / '),
    );
  }
  return tips;
}
