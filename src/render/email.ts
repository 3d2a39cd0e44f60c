import type { MjmlStrictValidationError } from 'mjml';
import type { Liquid } from 'liquidjs';
import { GymError } from '../errors.js';
import { chromeTable, chromeText } from '../language/chrome-text.js';
import { htmlLang, languagesOf, type LanguagePreference } from '../language/languages.js';
import { replyMarker } from './chrome.js';
import { templateToHtml } from './markdown.js';
import {
  fill,
  htmlLiquid,
  layoutLiquid,
  parseTemplate,
  textLiquid,
  type ParsedTemplate,
} from './templates.js';

/** The kinds of email, one MJML layout (and one plain-text twin) each in `emails/`. */
export const layoutNames = [
  'learner-step',
  'nudge',
  'welcome',
  'acknowledgement',
  'manager-digest',
  'programme-end',
  'manager-introduction',
] as const;
export type LayoutName = (typeof layoutNames)[number];

/** Layout files by path relative to `emails/`: `learner-step.mjml`, `partials/footer.txt`. */
export type LayoutSources = Readonly<Record<string, string>>;

/**
 * How strictly MJML checks a layout. Tests use 'strict' (an invalid layout throws); 'soft'
 * compiles anyway and lists the problems in `warnings`.
 */
export type Validation = 'strict' | 'soft';

/** Options for compiling emails. */
export interface CompileOptions {
  /** The `emails/` files; by default the shipped ones, read once. */
  layouts?: LayoutSources;
  /** MJML validation: 'strict' (default) throws on an invalid layout; 'soft' only warns. */
  validation?: Validation;
}

/** One email, ready to send: what the mail composer needs. */
export interface RenderedEmail {
  /** One line: CR/LF and other control characters are removed. */
  subject: string;
  /** The line mail clients show after the subject; also hidden at the top of the HTML. */
  preheader: string;
  html: string;
  /** The text/plain alternative, written from the Markdown source, not stripped from the HTML. */
  text: string;
}

/** An email compiled once (MJML run, Liquid parsed), to be filled for any number of recipients. */
export interface CompiledEmail {
  readonly layout: LayoutName;
  /** For error messages: `programme "x" week 3 step "kickoff"`. */
  readonly where: string;
  /**
   * The MJML after the compile-time slots were filled: what `mjml2html` ran on, once. Empty for
   * an email loaded from its stored skeleton.
   */
  readonly mjml: string;
  /** MJML validation problems under 'soft' validation; empty under 'strict'. */
  readonly warnings: readonly string[];
  readonly subject: ParsedTemplate;
  readonly preheader: ParsedTemplate;
  readonly html: ParsedTemplate;
  readonly text: ParsedTemplate;
  /** Values fixed at compile time that the layout reads per fill (a programme's week list). */
  readonly statics: Readonly<Record<string, unknown>>;
}

/**
 * A compiled email as data (#17): what MJML made of it, as text, ready to be stored with its
 * programme version and parsed by a worker that never loads MJML (`emailFromSkeleton`).
 */
export interface EmailSkeleton {
  readonly layout: LayoutName;
  readonly where: string;
  readonly warnings: readonly string[];
  /** The Liquid sources of the per-recipient fill: the HTML is MJML's output. */
  readonly subject: string;
  readonly preheader: string;
  readonly html: string;
  readonly text: string;
  readonly statics: Readonly<Record<string, unknown>>;
  /** What `mjml2html` ran on: only under `keepMjml` (to measure against), never stored. */
  readonly mjml?: string;
}

const escapeHtml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/**
 * The compile-time slots every layout gets for its language (#15): `lang` for `<mjml lang>`,
 * `bilingual`, and the chrome strings as `t` (HTML: each language in its own `<span lang>` when
 * there are two), `ta` (for attributes) and `tt` (plain text).
 */
function languageSlots(language: LanguagePreference) {
  return {
    lang: htmlLang(language),
    bilingual: languagesOf(language).length > 1,
    t: chromeTable(
      language,
      (text, lang) => `<span lang="${lang === 'en' ? 'en-GB' : lang}">${escapeHtml(text)}</span>`,
    ),
    ta: Object.fromEntries(
      Object.entries(chromeTable(language)).map(([key, text]: [string, string]) => [
        key,
        escapeHtml(text),
      ]),
    ),
    tt: chromeTable(language),
  };
}

/**
 * A part of a bilingual email is an `mj-wrapper` with `css-class="lang-cy"` (MJML has no `lang`
 * attribute): the compiled HTML gets `lang` on each part, so that screen readers switch voice,
 * and `id="en"` on the English one, where the switch link at the top leads.
 */
function markLanguageParts(html: string): string {
  let english = false;
  return html.replace(
    /class="lang-(cy|en)(-outlook)?"/g,
    (_, lang: string, outlook: string | undefined) => {
      const attribute = lang === 'en' ? 'en-GB' : lang;
      if (outlook !== undefined) return `class="lang-${lang}${outlook}" lang="${attribute}"`;
      const id = lang === 'en' && !english ? ' id="en"' : '';
      if (lang === 'en') english = true;
      return `class="lang-${lang}" lang="${attribute}"${id}`;
    },
  );
}

/** What the layouts' shared partials need to know, at compile time. */
export interface Frame {
  /** Beside the "Digital Gym" name in the header; may hold `{{ }}` for the per-recipient fill. */
  kicker: { html: string; text: string };
  /** Show the `chrome.progress` line in the header. */
  progress: boolean;
  /** Offer "Stop the programme" in the footer (learners' emails). */
  stop: boolean;
  /** Why the recipient gets this email, first line of the footer. */
  reason: { html: string; text: string };
}

/** The compile-time input of one email. */
export interface EmailParts {
  /** Liquid templates, filled per recipient without HTML escaping. */
  subject: string;
  preheader: string;
  frame: Frame;
  /** The layout's own slots for the .mjml layout (HTML fragments) and the .txt layout (text). */
  html: Record<string, unknown>;
  text: Record<string, unknown>;
  statics?: Record<string, unknown>;
}

let mjmlRuns = 0;

/**
 * How many times this process has run `mjml2html`. It only moves while compiling: tests read it
 * around a batch of fills to prove that no recipient costs an MJML run.
 */
export function mjmlRunCount(): number {
  return mjmlRuns;
}

const layoutEngines = new WeakMap<LayoutSources, Liquid>();

function layoutEngine(sources: LayoutSources): Liquid {
  let engine = layoutEngines.get(sources);
  if (engine === undefined) {
    engine = layoutLiquid(sources);
    layoutEngines.set(sources, engine);
  }
  return engine;
}

function fillLayout(
  sources: LayoutSources,
  file: string,
  slots: Record<string, unknown>,
  where: string,
): string {
  const source = sources[file];
  if (source === undefined) {
    throw new GymError('TEMPLATE_INVALID', `emails/${file} is missing; it is needed for ${where}`, {
      file,
    });
  }
  const engine = layoutEngine(sources);
  try {
    return engine.renderSync(engine.parse(source), slots) as string;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new GymError(
      'TEMPLATE_INVALID',
      `emails/${file} (for ${where}): ${message}`,
      { file },
      { cause: error },
    );
  }
}

/** Compile-time tidy of the plain text: no trailing spaces, at most one blank line in a row. */
function tidyText(text: string): string {
  return `${text
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

/**
 * Compiles one email: fills the layout's compile-time slots, runs MJML once, and parses the
 * resulting HTML, the text twin, the subject and the preheader into Liquid templates.
 */
export async function compileEmail(
  sources: LayoutSources,
  layout: LayoutName,
  parts: EmailParts,
  where: string,
  validation: Validation,
  language: LanguagePreference = 'en',
): Promise<CompiledEmail> {
  const { skeleton, mjml } = await compileSkeleton(
    sources,
    layout,
    parts,
    where,
    validation,
    language,
  );
  return { ...emailFromSkeleton(skeleton), mjml };
}

/** The email of a stored skeleton, its templates parsed: Liquid only, no MJML. */
export function emailFromSkeleton(skeleton: EmailSkeleton): CompiledEmail {
  const where = skeleton.where;
  return {
    layout: skeleton.layout,
    where,
    mjml: skeleton.mjml ?? '',
    warnings: skeleton.warnings,
    subject: parseTemplate(textLiquid, skeleton.subject, `${where} subject`),
    preheader: parseTemplate(textLiquid, skeleton.preheader, `${where} preheader`),
    html: parseTemplate(htmlLiquid, skeleton.html, `${where} HTML`),
    text: parseTemplate(textLiquid, skeleton.text, `${where} text`),
    statics: skeleton.statics,
  };
}

/** Compiles one email to its skeleton (MJML runs here), and the MJML it ran on. */
export async function compileSkeleton(
  sources: LayoutSources,
  layout: LayoutName,
  parts: EmailParts,
  where: string,
  validation: Validation,
  language: LanguagePreference = 'en',
): Promise<{ skeleton: EmailSkeleton; mjml: string }> {
  const slots = languageSlots(language);
  const frame = {
    // The Welsh marker line keeps the English words too: the reply reader cuts at them.
    marker: language === 'en' ? replyMarker : chromeText('cy').marker,
    progress: parts.frame.progress,
    stop: parts.frame.stop,
    lang: slots.lang,
    bilingual: slots.bilingual,
  };
  const mjml = fillLayout(
    sources,
    `${layout}.mjml`,
    {
      ...parts.html,
      ...frame,
      t: slots.t,
      ta: slots.ta,
      kicker: parts.frame.kicker.html,
      reason: parts.frame.reason.html,
      title: templateToHtml(parts.subject),
      preheader: templateToHtml(parts.preheader),
    },
    where,
  );
  const text = fillLayout(
    sources,
    `${layout}.txt`,
    {
      ...parts.text,
      ...frame,
      t: slots.tt,
      kicker: parts.frame.kicker.text,
      reason: parts.frame.reason.text,
    },
    where,
  );

  let html: string;
  let warnings: string[] = [];
  // Loaded by the first compile, not at start-up: MJML and its dependencies are a large part
  // of a process's memory, and commands that never compile an email should not carry them.
  const { default: mjml2html } = await import('mjml');
  try {
    mjmlRuns += 1;
    const result = await mjml2html(mjml, {
      validationLevel: validation,
      keepComments: false,
      // No web fonts: a system font stack, nothing fetched from Google on open.
      fonts: {},
    });
    html = markLanguageParts(result.html);
    warnings = result.errors.map((e) => `${where}: emails/${layout}.mjml: ${e.formattedMessage}`);
  } catch (error) {
    const problems = (error as Partial<MjmlStrictValidationError>).errors;
    const detail = problems?.map((e) => e.formattedMessage).join('; ') ?? String(error);
    throw new GymError(
      'TEMPLATE_INVALID',
      `${where}: emails/${layout}.mjml is not valid MJML (lines of the compiled layout): ${detail}`,
      { layout, problems },
      { cause: error },
    );
  }

  return {
    mjml,
    skeleton: {
      layout,
      where,
      warnings,
      subject: parts.subject,
      preheader: parts.preheader,
      html,
      text: tidyText(text),
      statics: parts.statics ?? {},
    },
  };
}

// Control characters (CR and LF above all), NEL and the Unicode line separators.
// eslint-disable-next-line no-control-regex
const lineBreaking = /[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g;

/**
 * Subjects become a mail header and invite titles an iCalendar SUMMARY: one line, with no
 * control character that could start another header.
 */
export function oneLine(text: string): string {
  return text.replace(lineBreaking, ' ').replace(/ {2,}/g, ' ').trim();
}

/**
 * Fills a compiled email for one recipient. Only Liquid runs here, never MJML: this is the
 * per-recipient cost (about a tenth of a millisecond), synchronous.
 */
export function fillEmail(email: CompiledEmail, scope: Record<string, unknown>): RenderedEmail {
  const values = { ...email.statics, ...scope };
  return {
    subject: oneLine(fill(textLiquid, email.subject, values, `${email.where} subject`)),
    preheader: oneLine(fill(textLiquid, email.preheader, values, `${email.where} preheader`)),
    html: fill(htmlLiquid, email.html, values, `${email.where} HTML`),
    text: fill(textLiquid, email.text, values, `${email.where} text`),
  };
}
