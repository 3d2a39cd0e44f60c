/**
 * The languages a programme, a learner and a manager can have (#15). Welsh public bodies must
 * offer Welsh and English alike and, when the two go together, Welsh first: the order of
 * `bilingualOrder` is that rule, in one place.
 */

export const languages = ['cy', 'en'] as const;
export type Language = (typeof languages)[number];

/** What a person asked for: one language, or both in one email (`cy+en`, Welsh first). */
export const languagePreferences = ['cy', 'en', 'cy+en'] as const;
export type LanguagePreference = (typeof languagePreferences)[number];

/** Welsh before English whenever the two are together (Welsh Language Standards). */
const bilingualOrder: readonly Language[] = ['cy', 'en'];

/** The language's name, in that language and in English, for messages to trainers. */
export const languageNames: Record<Language, string> = {
  cy: 'Welsh (cy)',
  en: 'English (en)',
};

/** The languages of a preference, in the order they appear in an email. */
export function languagesOf(preference: LanguagePreference): Language[] {
  return preference === 'cy+en' ? [...bilingualOrder] : [preference];
}

/** The preference that holds exactly these languages (both: `cy+en`). */
export function preferenceOf(list: readonly Language[]): LanguagePreference {
  const has = (language: Language) => list.includes(language);
  if (has('cy') && has('en')) return 'cy+en';
  return has('cy') ? 'cy' : 'en';
}

/** The `lang` attribute of a whole email: its first language (`cy` for a bilingual email). */
export function htmlLang(preference: LanguagePreference): string {
  const first = languagesOf(preference)[0]!;
  return first === 'en' ? 'en-GB' : first;
}

// What people write in a spreadsheet cell for each preference, compared in lower case without
// spaces. Welsh words too: a Welsh HR export may say "Cymraeg" or "Dwyieithog".
const spellings: Record<string, LanguagePreference> = {
  cy: 'cy',
  'cy-gb': 'cy',
  welsh: 'cy',
  cymraeg: 'cy',
  en: 'en',
  'en-gb': 'en',
  english: 'en',
  saesneg: 'en',
  'cy+en': 'cy+en',
  'en+cy': 'cy+en',
  'cy/en': 'cy+en',
  'en/cy': 'cy+en',
  'cy,en': 'cy+en',
  'cy-en': 'cy+en',
  both: 'cy+en',
  bilingual: 'cy+en',
  dwyieithog: 'cy+en',
  'welsh+english': 'cy+en',
  welshandenglish: 'cy+en',
  cymraegasaesneg: 'cy+en',
};

/**
 * A preference as written in a cohort file or on the command line, or undefined when it is not
 * one we know.
 *
 * @example parsePreference(' Cymraeg ') // 'cy'
 * @example parsePreference('EN+CY') // 'cy+en'
 */
export function parsePreference(text: string): LanguagePreference | undefined {
  return spellings[text.trim().toLowerCase().replace(/\s+/g, '').replace(/&/g, 'and')];
}

/** What the messages list as the accepted values. */
export const preferenceHint = 'cy (Welsh), en (English) or cy+en (both, Welsh first)';

/**
 * The languages a learner gets from a programme: what they asked for, as far as the programme
 * offers it. A learner who asked for a language the programme lacks gets what it has (both,
 * when it has both and they asked for one it lacks; never nothing), with a notice for the
 * trainer saying so.
 *
 * @example effectivePreference('cy', ['en'])
 *   // { preference: 'en', notice: 'prefers Welsh (cy), but ... is in English (en) only; gets English (en)' }
 */
export function effectivePreference(
  wanted: LanguagePreference,
  offered: readonly Language[],
  programme: string,
): { preference: LanguagePreference; notice: string | undefined } {
  const kept = languagesOf(wanted).filter((language) => offered.includes(language));
  if (kept.length === languagesOf(wanted).length) return { preference: wanted, notice: undefined };
  const fallback = kept.length > 0 ? kept : bilingualOrder.filter((l) => offered.includes(l));
  const preference = preferenceOf(fallback);
  const has = languagesOf(preferenceOf(offered as Language[]))
    .map((l) => languageNames[l])
    .join(' and ');
  return {
    preference,
    notice: `prefers ${describePreference(wanted)}, but ${programme} is in ${has} only; gets ${describePreference(preference)}`,
  };
}

/** "Welsh (cy)", "Welsh and English (cy+en)". */
export function describePreference(preference: LanguagePreference): string {
  if (preference === 'cy+en') return 'Welsh and English (cy+en)';
  return languageNames[preference];
}

/**
 * One subject from each language's, Welsh first: "Wythnos 3 / Week 3: darllen cyn postio / read
 * before you post" when each starts with a short label and a colon, as the Welsh Language
 * Standards' examples do; otherwise the whole subjects joined. `lead` puts something (the
 * renderer's per-language Liquid) before each language's own words.
 */
export function bilingualSubject(
  subjects: readonly { language: Language; text: string }[],
  lead: (language: Language) => string = () => '',
): string {
  const split = subjects.map((s) => /^([^:{}%]{1,40}):\s+(.+)$/s.exec(s.text));
  if (subjects.length > 1 && split.every((m) => m !== null)) {
    const labels = split.map((m) => m[1]!.trim());
    const rests = subjects.map((s, i) => `${lead(s.language)}${split[i]![2]}`);
    return `${labels.join(' / ')}: ${rests.join(' / ')}`;
  }
  return subjects.map((s) => `${lead(s.language)}${s.text}`).join(' / ');
}
