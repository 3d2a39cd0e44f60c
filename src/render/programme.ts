import { GymError } from '../errors.js';
import {
  markdownText,
  type DayName,
  type EmailStep,
  type InviteStep,
  type Sequence,
} from '../sequence/schema.js';
import type { TemplateContext } from '../sequence/template-model.js';
import { learnerChromeScope, type LearnerChrome, type RecipientLinks } from './chrome.js';
import {
  compileEmail,
  fillEmail,
  oneLine,
  type CompiledEmail,
  type CompileOptions,
  type EmailParts,
  type Frame,
  type LayoutName,
  type RenderedEmail,
} from './email.js';
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

type CompiledStep =
  | { kind: 'email'; email: CompiledEmail }
  | {
      kind: 'invite';
      title: ParsedTemplate;
      description: ParsedTemplate | null;
      location?: string | undefined;
    };

interface CompiledWeek {
  readonly number: number;
  readonly theme: string;
  readonly managerTip: ParsedTemplate;
  readonly steps: ReadonlyMap<string, CompiledStep>;
}

/** A programme's emails compiled once at load: fill them per learner with the render functions. */
export interface CompiledProgramme {
  readonly id: string;
  readonly title: string;
  readonly weeks: ReadonlyMap<number, CompiledWeek>;
  readonly welcome: CompiledEmail;
  readonly end: CompiledEmail;
  /** MJML warnings under 'soft' validation. */
  readonly warnings: readonly string[];
}

const dayLabels: Record<DayName, string> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};

function learnerFrame(progress: boolean): Frame {
  return {
    kicker: { html: '{{ programme.title }}', text: '{{ programme.title }}' },
    progress,
    stop: true,
    reason: {
      html: 'You are getting this because you are enrolled on {{ programme.title }}.',
      text: 'You are getting this because you are enrolled on {{ programme.title }}.',
    },
  };
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
function defaultPreheader(email: EmailStep): string {
  if (email.assignment !== undefined) {
    return `This week: ${email.assignment.title}, due ${dayLabels[email.assignment.due]}`;
  }
  const first = email.tip ?? email.body ?? email.example;
  if (first === undefined) return '';
  const { text, restore } = protectLiquid(markdownToText(markdownText(first)));
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  const sentence = /^.*?[.!?](?=\s|$)/.exec(line)?.[0] ?? line;
  if (sentence.length <= 110) return restore(sentence);
  return `${restore(sentence.slice(0, 110).replace(/\s+\S*$/, ''))}…`;
}

/**
 * Checks one email step and turns its Markdown into the layout's slots. Returns null when it has
 * problems (recorded in `problems`), so that checking can go on through the whole programme.
 */
function prepareEmailStep(
  email: EmailStep,
  where: string,
  problems: Problems,
): { layout: LayoutName; parts: EmailParts } | null {
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

  return {
    layout: tip !== null || example !== null || assignment !== undefined ? 'learner-step' : 'nudge',
    parts: {
      subject: email.subject,
      preheader: email.preheader ?? defaultPreheader(email),
      frame: learnerFrame(true),
      html: {
        tip: tip?.html ?? null,
        example: example?.html ?? null,
        body: body?.html ?? null,
        assignment: assignment
          ? {
              title: templateToHtml(assignment.title),
              due: dayLabels[assignment.due],
              body: assignmentBody?.html ?? '',
            }
          : null,
      },
      text: {
        tip: tip?.text ?? null,
        example: example?.text ?? null,
        body: body?.text ?? null,
        assignment: assignment
          ? {
              title: assignment.title,
              due: dayLabels[assignment.due],
              body: assignmentBody?.text ?? '',
            }
          : null,
      },
    },
  };
}

function prepareInvite(invite: InviteStep, where: string, problems: Problems): CompiledStep | null {
  const before = problems.list.length;
  const description =
    invite.description === undefined ? undefined : markdownText(invite.description);
  problems.template(invite.title, `${where} title`);
  problems.template(description, `${where} description`);
  if (problems.list.length > before) return null;
  return {
    kind: 'invite',
    title: parseTemplate(textLiquid, invite.title, `${where} title`),
    description:
      description === undefined
        ? null
        : parseTemplate(textLiquid, markdownToText(description), `${where} description`),
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
  options: CompileOptions = {},
): Promise<CompiledProgramme> {
  const sources = options.layouts ?? (await shippedLayoutSources());
  const validation = options.validation ?? 'strict';
  const problems = new Problems();
  const programme = `programme "${sequence.id}"`;

  // Check and prepare everything before the slow part (MJML), so that a trainer sees every
  // problem of the programme in one report.
  const prepared = sequence.weeks.map((week) => {
    const managerTip = `${programme} week ${week.week} manager_tip`;
    problems.template(week.manager_tip, managerTip);
    const steps = week.steps.map((step) => {
      const where = `${programme} week ${week.week} step "${step.id}"`;
      if (step.email)
        return { id: step.id, where, email: prepareEmailStep(step.email, where, problems) };
      return {
        id: step.id,
        where,
        invite: step.invite ? prepareInvite(step.invite, where, problems) : null,
      };
    });
    return { week, steps, managerTip };
  });
  const summary = fragment(problems, sequence.summary, `${programme} summary`);
  problems.throwIfAny(sequence.id);

  const weeks = new Map<number, CompiledWeek>();
  const warnings: string[] = [];
  for (const { week, steps: stepSources, managerTip } of prepared) {
    const steps = new Map<string, CompiledStep>();
    for (const step of stepSources) {
      if (step.email) {
        const email = await compileEmail(
          sources,
          step.email.layout,
          step.email.parts,
          step.where,
          validation,
        );
        warnings.push(...email.warnings);
        steps.set(step.id, { kind: 'email', email });
      } else if (step.invite) {
        steps.set(step.id, step.invite);
      }
    }
    weeks.set(week.week, {
      number: week.week,
      theme: week.theme,
      managerTip: parseTemplate(textLiquid, week.manager_tip, managerTip),
      steps,
    });
  }

  const overview = sequence.weeks.map((w) => ({ number: w.week, theme: w.theme }));
  const assignments = sequence.weeks
    .flatMap((w) => w.steps)
    .filter((s) => s.email?.assignment).length;
  const welcome = await compileEmail(
    sources,
    'welcome',
    {
      subject: 'Welcome to {{ programme.title }}',
      preheader: 'Twelve weeks of small, practical steps, in your inbox. Here is how it works.',
      frame: learnerFrame(false),
      html: { summary: summary?.html ?? '' },
      text: { summary: summary?.text ?? '' },
      statics: {
        overview: { weeks: overview },
        trainer: { name: sequence.trainer?.name ?? '', email: sequence.trainer?.email ?? '' },
      },
    },
    `${programme} welcome`,
    validation,
  );
  const end = await compileEmail(
    sources,
    'programme-end',
    {
      subject: 'You have finished {{ programme.title }}',
      preheader: 'One last reply: how useful was it?',
      frame: { ...learnerFrame(true), stop: false },
      html: {},
      text: {},
      statics: { overview: { assignments } },
    },
    `${programme} programme end`,
    validation,
  );
  warnings.push(...welcome.warnings, ...end.warnings);

  return { id: sequence.id, title: sequence.title, weeks, welcome, end, warnings };
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

function learnerScope(context: TemplateContext, chrome: LearnerChrome): Record<string, unknown> {
  const progress = {
    week: context.week.number,
    totalWeeks: context.week.total,
    assignmentsDone: chrome.assignmentsDone,
  };
  return {
    learner: context.learner,
    manager: context.manager,
    week: context.week,
    programme: context.programme,
    chrome: { ...learnerChromeScope(progress, chrome), assignments_done: chrome.assignmentsDone },
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
  return fillEmail(step.email, learnerScope(context, chrome));
}

/** The welcome email for a newly enrolled learner (`context.week` is week 1). */
export function renderWelcome(
  compiled: CompiledProgramme,
  context: TemplateContext,
  links: RecipientLinks,
): RenderedEmail {
  return fillEmail(compiled.welcome, learnerScope(context, { ...links, assignmentsDone: 0 }));
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
  return fillEmail(compiled.end, {
    ...learnerScope(context, chrome),
    end: { reflection_count: summary.reflections.length, quotes },
  });
}

/** An invite step's title and description as text, for the calendar builder. */
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
  return {
    title: oneLine(fill(textLiquid, step.title, context, `${where} title`)),
    description:
      step.description === null
        ? ''
        : fill(textLiquid, step.description, context, `${where} description`),
    location: step.location,
  };
}

/**
 * The manager tips for the fortnight starting at `context.week`: this week's and the next
 * (fewer at the end of the programme), filled for the learner, as plain text for the digest.
 */
export function renderManagerTips(
  compiled: CompiledProgramme,
  context: TemplateContext,
  weeks = 2,
): string[] {
  const tips: string[] = [];
  for (let n = context.week.number; n < context.week.number + weeks; n++) {
    const week = compiled.weeks.get(n);
    if (week === undefined) continue;
    const scope = { ...context, week: { ...context.week, number: n, theme: week.theme } };
    const where = `programme "${compiled.id}" week ${n} manager_tip`;
    tips.push(oneLine(fill(textLiquid, week.managerTip, scope, where)));
  }
  return tips;
}
