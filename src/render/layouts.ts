import { chromeText } from '../language/chrome-text.js';
import {
  languagePreferences,
  languagesOf,
  type LanguagePreference,
} from '../language/languages.js';
import { compileEmail, type CompiledEmail, type CompileOptions, type Frame } from './email.js';
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

async function compileIn(
  options: CompileOptions,
  sources: NonNullable<CompileOptions['layouts']>,
  language: LanguagePreference,
): Promise<LayoutsInLanguage & { warnings: string[] }> {
  const validation = options.validation ?? 'strict';
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
  const acknowledgement = await compileEmail(
    sources,
    'acknowledgement',
    {
      subject: '{{ ack.subject }}',
      preheader: '{{ ack.message }}',
      frame: ackFrame,
      html: {},
      text: {},
    },
    language === 'en' ? 'acknowledgement' : `acknowledgement (${language})`,
    validation,
    language,
  );
  const summary = say((t) => t.managerSummary);
  const managerDigest = await compileEmail(
    sources,
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
    validation,
    language,
  );
  const managerIntroduction = await compileEmail(
    sources,
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
    validation,
    language,
  );
  return {
    acknowledgement,
    managerDigest,
    managerIntroduction,
    warnings: [
      ...acknowledgement.warnings,
      ...managerDigest.warnings,
      ...managerIntroduction.warnings,
    ],
  };
}

/**
 * Compiles the acknowledgement and manager-digest emails in every language preference (MJML runs
 * here, once each); fill them with `renderAcknowledgement` and `renderManagerDigest`.
 */
export async function compileLayouts(options: CompileOptions = {}): Promise<CompiledLayouts> {
  const sources = options.layouts ?? (await shippedLayoutSources());
  // English first and one at a time: under strict validation a broken layout is reported once,
  // as the English email's, which is how it reads in the files.
  const order = ['en', ...languagePreferences.filter((l) => l !== 'en')] as const;
  const compiled: (readonly [LanguagePreference, LayoutsInLanguage & { warnings: string[] }])[] =
    [];
  for (const language of order)
    compiled.push([language, await compileIn(options, sources, language)]);
  const languages = Object.fromEntries(compiled) as Record<
    LanguagePreference,
    LayoutsInLanguage & { warnings: string[] }
  >;
  return {
    acknowledgement: languages.en.acknowledgement,
    managerDigest: languages.en.managerDigest,
    managerIntroduction: languages.en.managerIntroduction,
    languages,
    // The languages share the layout files, so their MJML warnings are the English ones again.
    warnings: languages.en.warnings,
  };
}
