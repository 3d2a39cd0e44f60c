import { DateTime } from 'luxon';
import { parsePreference, preferenceHint, type LanguagePreference } from '../language/languages.js';
import { listInWords } from '../sequence/problems.js';

/**
 * What the engine knows about one learner: who they are, where and when they work, who their
 * manager is, and the free fields the matcher reads (confidence, barriers, goals, and any
 * column a trainer adds). Field names are the cohort file's column names, in snake_case, so
 * that an `audience.match` rule such as `role: press-officer` names a field as the trainer
 * wrote it, and so that they line up with `learner.first_name` in templates.
 */
export interface LearnerProfile {
  /** Lower-cased. */
  email: string;
  first_name: string;
  last_name: string;
  /** An IANA zone such as `Europe/London`. */
  time_zone: string;
  /** A lower-case slug such as `press-officer`. */
  role: string;
  organisation: string;
  /** Lower-cased; never the learner's own address. */
  manager_email: string;
  manager_name: string;
  /** `YYYY-MM-DD`, a real calendar day. */
  start_date: string;
  cohort?: string;
  /** How confident the learner feels, 1 (not at all) to 5. */
  confidence?: number;
  /** Lower-case slugs such as `locked-down-it`, `no-time`; empty when none were given. */
  barriers: string[];
  goals: string[];
  /** Whether the learner agreed that their manager sees their reflections. */
  share_with_manager: boolean;
  /** The language the learner asked for; absent means their organisation's default (#15). */
  language?: LanguagePreference;
  /** The language their manager's digests are in; absent means the organisation's default. */
  manager_language?: LanguagePreference;
  /** Every other column, by its snake_case name, when it has a value: `{ pay_band: 'HEO' }`. */
  fields: Record<string, string>;
}

/** The fields of a profile that are not free fields, as the matcher and the cohort file name them. */
export const profileFieldNames = [
  'email',
  'first_name',
  'last_name',
  'time_zone',
  'role',
  'organisation',
  'manager_email',
  'manager_name',
  'start_date',
  'cohort',
  'confidence',
  'barriers',
  'goals',
  'share_with_manager',
] as const satisfies readonly (keyof LearnerProfile)[];

export type ProfileFieldName = (typeof profileFieldNames)[number];

/**
 * A column or rule name in the one spelling the engine uses: lower case, with spaces, dashes and
 * underscores as one `_`. `'First Name'`, `'first-name'` and `'FIRST_NAME'` are all `first_name`.
 */
export function fieldName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * The value of a profile field by name, a known field first and then a free one; undefined when
 * the learner has none (a free field left empty, an optional field not given).
 *
 * @example profileValue(profile, 'Pay Band') // 'HEO', from the free field pay_band
 */
export function profileValue(
  profile: LearnerProfile,
  name: string,
): string | number | boolean | readonly string[] | undefined {
  const key = fieldName(name);
  if ((profileFieldNames as readonly string[]).includes(key))
    return profile[key as ProfileFieldName];
  return Object.hasOwn(profile.fields, key) ? profile.fields[key] : undefined;
}

/**
 * The outcome of reading one value: the value, or why it cannot be used. The reason starts with
 * the value itself and is meant to follow the field's name: `time_zone` + ` "Europe/Londn" is
 * not an IANA time zone (did you mean Europe/London?)`.
 */
export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

export const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
export const fail = <T>(reason: string): Checked<T> => ({ ok: false, reason });

/** A value as it appears in a message: quoted, with line breaks and quotes escaped, cut at 60 characters. */
export function quoted(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

/** Longest name (first, last, manager, organisation, cohort), email address and slug we take. */
export const maxNameLength = 100;
export const maxEmailLength = 254;
export const maxSlugLength = 64;

// Deliberately modest: one @, no spaces or angle brackets, a dotted domain. Whether the mailbox
// exists is for the mail server to say (a bounce marks the address).
const emailPattern =
  /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;

/** An email address, lower-cased: `' Ana.Smith@Example.GOV.UK '` → `ana.smith@example.gov.uk`. */
export function checkEmail(text: string): Checked<string> {
  const email = text.trim().toLowerCase();
  // RFC 5321's limit for a path; anything longer is no one's address.
  if (email.length > maxEmailLength)
    return fail(
      `${quoted(text)} is ${email.length} characters long; an email address has at most ${maxEmailLength}`,
    );
  if (/[<>]/.test(email))
    return fail(
      `${quoted(text)} is not a bare email address (give only the address, without a name or <>)`,
    );
  if (!emailPattern.test(email) || /^\.|\.\.|\.@/.test(email))
    return fail(`${quoted(text)} is not an email address (expected name@organisation.gov.uk)`);
  return ok(email);
}

/**
 * A person's or organisation's name, trimmed. Markup such as `<b>` or `{{ x }}` is kept as
 * written, because it is data and is escaped wherever it is shown; a line break is refused,
 * because a name ends up in mail headers, where it would start a new header.
 */
export function checkName(text: string): Checked<string> {
  const name = text.trim();
  // A name goes into To: headers and every greeting: a 1 MB one would be a 1 MB header (#16).
  if (name.length > maxNameLength)
    return fail(
      `${quoted(text)} is ${name.length} characters long; a name here has at most ${maxNameLength}`,
    );
  if (/[\r\n\u2028\u2029]/.test(name))
    return fail(`${quoted(text)} contains a line break (a name must be on one line)`);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(name))
    return fail(`${quoted(text)} contains a control character (retype it as plain text)`);
  return ok(name);
}

const slugPattern = /^[a-z0-9][a-z0-9-]*$/;

/**
 * A role, barrier or goal as a slug: lower-cased, with spaces and underscores as dashes, so
 * `Press Officer` is `press-officer`. Anything else (`&`, `/`, accents) is refused, because
 * the programmes' rules are written in slugs and an odd character would silently match none.
 */
export function checkSlug(text: string): Checked<string> {
  if (text.trim().length > maxSlugLength)
    return fail(
      `${quoted(text)} is ${text.trim().length} characters long; it can have at most ${maxSlugLength}`,
    );
  const slug = text
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!slugPattern.test(slug))
    return fail(
      `${quoted(text)} can only have letters, digits, spaces and dashes (write it like press-officer)`,
    );
  return ok(slug);
}

/**
 * A list of slugs separated by `;` (or `,`, which a slug cannot contain): `'Locked-down IT; no
 * time'` → `['locked-down-it', 'no-time']`. Empty items are ignored and repeats dropped.
 */
export function checkSlugList(text: string): Checked<string[]> {
  const items: string[] = [];
  const bad: string[] = [];
  for (const part of text.split(/[;,]/)) {
    if (part.trim() === '') continue;
    const slug = checkSlug(part);
    if (!slug.ok) bad.push(quoted(part.trim()));
    else if (!items.includes(slug.value)) items.push(slug.value);
  }
  if (bad.length > 0)
    return fail(
      `${bad.length === 1 ? 'item' : 'items'} ${listInWords(bad)} can only have letters, digits, spaces and dashes (write the list like locked-down-it; no-time)`,
    );
  return ok(items);
}

/** A whole number from 1 to 5. */
/** A language preference: cy, en or cy+en (Welsh, English, both), or its name in either language. */
export function checkLanguage(text: string): Checked<LanguagePreference> {
  const preference = parsePreference(text);
  if (preference !== undefined) return ok(preference);
  return fail(`${quoted(text.trim())} is not a language we send in (expected ${preferenceHint})`);
}

export function checkConfidence(text: string): Checked<number> {
  const trimmed = text.trim();
  const value = Number(trimmed);
  if (!/^\d+$/.test(trimmed) || value < 1 || value > 5)
    return fail(`${quoted(text)} is not a whole number from 1 to 5`);
  return ok(value);
}

const yes = ['yes', 'y', 'true', '1'];
const no = ['no', 'n', 'false', '0', ''];

/** yes/no, true/false, 1/0 (any case); empty is no. */
export function checkYesNo(text: string): Checked<boolean> {
  const word = text.trim().toLowerCase();
  if (yes.includes(word)) return ok(true);
  if (no.includes(word)) return ok(false);
  return fail(`${quoted(text)} is not yes or no (expected yes, no, true, false, 1 or 0)`);
}

/**
 * A start date `YYYY-MM-DD` that exists and is within a year of `today` either way: further out
 * is almost always a mistyped year, and enrolling on it would silently do nothing for a year
 * (or, in the past, mark a whole programme missed).
 */
export function checkStartDate(text: string, today: string): Checked<string> {
  const trimmed = text.trim();
  const ukDate = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(trimmed);
  if (ukDate) {
    const [, day, month, year] = ukDate;
    const guess = DateTime.fromObject(
      { year: Number(year), month: Number(month), day: Number(day) },
      { zone: 'utc' },
    );
    const hint = guess.isValid
      ? ` (if that is ${guess.toFormat('d MMMM yyyy')}, write ${guess.toISODate()})`
      : '';
    return fail(`${quoted(text)} is not a date in the form YYYY-MM-DD${hint}`);
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(trimmed))
    return fail(`${quoted(text)} is not a date in the form YYYY-MM-DD (such as 2027-01-04)`);
  const date = DateTime.fromISO(trimmed, { zone: 'utc' });
  if (!date.isValid) return fail(`${quoted(text)} is not a real date`);
  const now = DateTime.fromISO(today, { zone: 'utc' });
  if (date > now.plus({ years: 1 }))
    return fail(`${quoted(trimmed)} is more than a year after today (${today}); check the year`);
  if (date < now.minus({ years: 1 }))
    return fail(`${quoted(trimmed)} is more than a year before today (${today}); check the year`);
  return ok(trimmed);
}
