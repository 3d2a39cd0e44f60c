import { chromeText } from '../language/chrome-text.js';
import {
  languagePreferences,
  languagesOf,
  type LanguagePreference,
} from '../language/languages.js';
import {
  compileSkeleton,
  emailFromSkeleton,
  type CompiledEmail,
  type CompileOptions,
  type EmailParts,
  type EmailSkeleton,
  type LayoutName,
  type LayoutSources,
  type Frame,
} from './email.js';
import { shippedLayoutSources } from './layout-files.js';

/** The programme-less emails of one language preference. */
interface LayoutsInLanguage {
  readonly acknowledgement: CompiledEmail;
  readonly managerDigest: CompiledEmail;
  readonly managerIntroduction: CompiledEmail;
}

/** The emails that belong to no programme, compiled once per process. */
export interface CompiledLayouts extends LayoutsInLanguage {
  /** The same emails for each language preference (#15); the two above are the English ones. */
  readonly languages: Readonly<Record<LanguagePreference, LayoutsInLanguage>>;
  /** MJML warnings under 'soft' validation. */
  readonly warnings: readonly string[];
}

/** One of the programme-less emails in a recipient's language. */
export function layoutIn(
  layouts: CompiledLayouts,
  kind: keyof LayoutsInLanguage,
  language: LanguagePreference,
): CompiledEmail {
  // Layouts built by hand in tests may have English only.
  return (
    (layouts.languages as Partial<CompiledLayouts['languages']> | undefined)?.[language]?.[kind] ??
    layouts[kind]
  );
}

/** A footer line in each language, each marked with its `lang` when there are two. */
function reason(language: LanguagePreference, pick: (t: ReturnType<typeof chromeText>) => string) {
  const list = languagesOf(language);
  const html = list
    .map((l) =>
      list.length > 1
        ? `<span lang="${l === 'en' ? 'en-GB' : l}">${pick(chromeText(l))}</span>`
        : pick(chromeText(l)),
    )
    .join(' / ');
  return { html, text: list.map((l) => pick(chromeText(l))).join(' / ') };
}

/** One programme-less email as data, and the MJML it was compiled from. */
interface Compiled {
  readonly skeleton: EmailSkeleton;
  readonly mjml: string;
}

type Kind = keyof LayoutsInLanguage;

async function compileIn(
  options: CompileOptions,
  sources: LayoutSources,
  language: LanguagePreference,
): Promise<Record<Kind, Compiled>> {
  const validation = options.validation ?? 'strict';
  const compileOne = (layout: LayoutName, parts: EmailParts, where: string) =>
    compileSkeleton(sources, layout, parts, where, validation, language);
  const say = (pick: (t: ReturnType<typeof chromeText>) => string) =>
    languagesOf(language)
      .map((l) => pick(chromeText(l)))
      .join(' / ');
  const ackFrame: Frame = {
    kicker: { html: '{{ ack.kicker }}', text: '{{ ack.kicker }}' },
    progress: true,
    stop: true,
    reason: reason(language, (t) => t.ackReason),
  };
  const acknowledgement = await compileOne(
    'acknowledgement',
    {
      subject: '{{ ack.subject }}',
      preheader: '{{ ack.message }}',
      frame: ackFrame,
      html: {},
      text: {},
    },
    language === 'en' ? 'acknowledgement' : `acknowledgement (${language})`,
  );
  const summary = say((t) => t.managerSummary);
  const managerDigest = await compileOne(
    'manager-digest',
    {
      subject: `${say((t) => t.digestTitle)}: {{ digest.headline }}`,
      preheader: '{{ digest.preheader }}',
      frame: {
        kicker: {
          html: `${summary}{% if digest.period != "" %} · {{ digest.period }}{% endif %}`,
          text: `${summary}{% if digest.period != "" %} · {{ digest.period }}{% endif %}`,
        },
        progress: false,
        stop: false,
        reason: reason(language, (t) => t.digestReason),
      },
      html: {},
      text: {},
    },
    language === 'en' ? 'manager digest' : `manager digest (${language})`,
  );
  const managerIntroduction = await compileOne(
    'manager-introduction',
    {
      subject: say((t) => t.introTitle),
      preheader: '{{ intro.lead }}',
      frame: {
        kicker: { html: say((t) => t.introKicker), text: say((t) => t.introKicker) },
        progress: false,
        stop: false,
        reason: reason(language, (t) => t.digestReason),
      },
      html: {},
      text: {},
    },
    language === 'en' ? 'manager introduction' : `manager introduction (${language})`,
  );
  return { acknowledgement, managerDigest, managerIntroduction };
}

/**
 * The programme-less emails compiled to data (#17): what MJML made of them in every language
 * preference, stored once (src/db/compiled-layouts.ts) so that a worker sending acknowledgements
 * and digests loads them with Liquid only and never loads MJML. `layoutsFromSkeleton` parses it.
 */
export interface LayoutsSkeleton {
  /** Raised when the skeleton's form changes: a stored one of another form is compiled again. */
  readonly format: typeof layoutsSkeletonFormat;
  readonly languages: Readonly<Record<LanguagePreference, Readonly<Record<Kind, EmailSkeleton>>>>;
  /** MJML warnings under 'soft' validation (the English emails': the languages share files). */
  readonly warnings: readonly string[];
}

export const layoutsSkeletonFormat = 1;

const kinds: readonly Kind[] = ['acknowledgement', 'managerDigest', 'managerIntroduction'];

/** Every language preference compiled, each email with the MJML it ran on. */
async function compileAll(
  options: CompileOptions,
): Promise<Record<LanguagePreference, Record<Kind, Compiled>>> {
  const sources = options.layouts ?? (await shippedLayoutSources());
  // English first and one at a time: under strict validation a broken layout is reported once,
  // as the English email's, which is how it reads in the files.
  const order = ['en', ...languagePreferences.filter((l) => l !== 'en')] as const;
  const compiled: (readonly [LanguagePreference, Record<Kind, Compiled>])[] = [];
  for (const language of order)
    compiled.push([language, await compileIn(options, sources, language)]);
  return Object.fromEntries(compiled) as Record<LanguagePreference, Record<Kind, Compiled>>;
}

function warningsOf(english: Readonly<Record<Kind, { readonly warnings: readonly string[] }>>) {
  // The languages share the layout files, so their MJML warnings are the English ones again.
  return kinds.flatMap((kind) => english[kind].warnings);
}

function mapLanguages<A, B>(
  languages: Readonly<Record<LanguagePreference, Readonly<Record<Kind, A>>>>,
  each: (email: A) => B,
): Record<LanguagePreference, Record<Kind, B>> {
  return Object.fromEntries(
    languagePreferences.map((language) => [
      language,
      Object.fromEntries(kinds.map((kind) => [kind, each(languages[language][kind])])),
    ]),
  ) as Record<LanguagePreference, Record<Kind, B>>;
}

function layoutsOf(languages: Record<LanguagePreference, LayoutsInLanguage>): CompiledLayouts {
  return {
    acknowledgement: languages.en.acknowledgement,
    managerDigest: languages.en.managerDigest,
    managerIntroduction: languages.en.managerIntroduction,
    languages,
    warnings: warningsOf(languages.en),
  };
}

/**
 * The programme-less emails compiled (MJML runs here, once each) to data, to store: JSON in,
 * the same CompiledLayouts out of `layoutsFromSkeleton`.
 */
export async function compileLayoutsSkeleton(
  options: CompileOptions = {},
): Promise<LayoutsSkeleton> {
  const languages = mapLanguages(await compileAll(options), (c) => c.skeleton);
  return { format: layoutsSkeletonFormat, languages, warnings: warningsOf(languages.en) };
}

/** The programme-less emails of a stored skeleton, their templates parsed: Liquid only. */
export function layoutsFromSkeleton(skeleton: LayoutsSkeleton): CompiledLayouts {
  return layoutsOf(mapLanguages(skeleton.languages, emailFromSkeleton));
}

/**
 * Compiles the acknowledgement and manager-digest emails in every language preference (MJML runs
 * here, once each); fill them with `renderAcknowledgement` and `renderManagerDigest`.
 */
export async function compileLayouts(options: CompileOptions = {}): Promise<CompiledLayouts> {
  // Each email keeps the MJML it ran on (`CompiledEmail.mjml`), as `compileEmail` does.
  return layoutsOf(
    mapLanguages(await compileAll(options), (c) => ({
      ...emailFromSkeleton(c.skeleton),
      mjml: c.mjml,
    })),
  );
}
