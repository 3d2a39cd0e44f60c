import { languageNames, languages, type Language } from '../language/languages.js';
import { listInWords, listOf, propertyOf, type Finding, type Path } from './problems.js';

/**
 * The bilingual format (#15): a programme that declares `languages: [cy, en]` writes every text
 * as a map by language, `subject: { cy: "Wythnos 3: …", en: "Week 3: …" }`, in the same file, so
 * that a step and its translation are read and changed together. This module checks the maps
 * (every language there, nothing else), and splits the file into one plain programme per
 * language, which the schema then checks as it checks an English-only file.
 */

/** How a text field is used: a Liquid template, Markdown (may be `{ file }`), or plain text. */
type TextKind = 'template' | 'markdown' | 'plain';

interface TextField {
  path: Path;
  value: unknown;
  kind: TextKind;
}

/** Every human text field of a sequence file, where it is present. */
export function humanTextFields(data: unknown): TextField[] {
  const fields: TextField[] = [];
  const add = (parent: unknown, parentPath: Path, keys: readonly string[], kind: TextKind) => {
    for (const key of keys) {
      const value = propertyOf(parent, key);
      if (value !== undefined && value !== null)
        fields.push({ path: [...parentPath, key], value, kind });
    }
  };
  add(data, [], ['title', 'summary'], 'plain');
  listOf(data, 'intake').forEach((question, q) => {
    add(question, ['intake', q], ['question'], 'plain');
    listOf(question, 'answers').forEach((answer, a) =>
      add(answer, ['intake', q, 'answers', a], ['label'], 'plain'),
    );
  });
  listOf(data, 'weeks').forEach((week, w) => {
    add(week, ['weeks', w], ['theme'], 'plain');
    add(week, ['weeks', w], ['manager_tip'], 'template');
    listOf(week, 'steps').forEach((step, s) => {
      const stepPath = ['weeks', w, 'steps', s];
      const email = propertyOf(step, 'email');
      add(email, [...stepPath, 'email'], ['subject', 'preheader'], 'template');
      add(email, [...stepPath, 'email'], ['tip', 'example', 'body'], 'markdown');
      const assignment = propertyOf(email, 'assignment');
      add(assignment, [...stepPath, 'email', 'assignment'], ['title'], 'template');
      add(assignment, [...stepPath, 'email', 'assignment'], ['body'], 'markdown');
      const invite = propertyOf(step, 'invite');
      add(invite, [...stepPath, 'invite'], ['title'], 'template');
      add(invite, [...stepPath, 'invite'], ['description'], 'markdown');
      add(invite, [...stepPath, 'invite'], ['location'], 'plain');
    });
  });
  return fields;
}

/** Whether a value is written as a map by language (`{ cy: …, en: … }`), not as the text itself. */
export function isLanguageMap(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  return Object.keys(value).some((key) => (languages as readonly string[]).includes(key));
}

/** The languages a file declares, when they are a usable list; the schema reports anything else. */
export function declaredLanguages(data: unknown): Language[] | undefined {
  const declared = propertyOf(data, 'languages');
  if (!Array.isArray(declared) || declared.length === 0) return undefined;
  if (!declared.every((l) => (languages as readonly unknown[]).includes(l))) return undefined;
  return [...new Set(declared as Language[])];
}

export interface LanguageSplit {
  /** Problems with the maps: a language missing, an unknown key, a map in an English-only file. */
  findings: Finding[];
  /** Not wrong, but worth a look: a text much shorter than its translation, differing variables. */
  notices: Finding[];
  /** One plain programme per declared language, for the schema; absent for an English-only file. */
  projections: Partial<Record<Language, unknown>> | undefined;
}

/**
 * Checks the language maps of a sequence file and splits it by language. A language missing
 * from a map is reported at that map (file:line:col); the other language's text stands in for
 * it in the split, so that the schema does not report the same gap a second time.
 */
export function splitByLanguage(data: unknown): LanguageSplit {
  const declared = declaredLanguages(data);
  const fields = humanTextFields(data);
  if (declared === undefined) {
    const hasLanguages = propertyOf(data, 'languages') !== undefined;
    // A map in a file without (usable) `languages`: say what to add, once per map.
    const findings = hasLanguages
      ? []
      : fields
          .filter((field) => isLanguageMap(field.value))
          .map((field) => ({
            path: field.path,
            message:
              'is written by language, but the programme declares no languages: add "languages: [cy, en]" at the top of the file',
          }));
    return { findings, notices: [], projections: undefined };
  }

  const findings: Finding[] = [];
  const notices: Finding[] = [];
  const projections: Partial<Record<Language, unknown>> = {};
  for (const language of declared) projections[language] = structuredClone(data);
  const wanted = listInWords(declared.map((l) => `${l}:`));

  for (const field of fields) {
    const value = field.value;
    if (!isLanguageMap(value)) {
      findings.push({
        path: field.path,
        message: `expected one text per language (${wanted}), because the programme declares languages: [${declared.join(', ')}]`,
      });
      continue;
    }
    for (const key of Object.keys(value)) {
      if (!(declared as string[]).includes(key)) {
        findings.push({
          path: [...field.path, key],
          pointAt: 'key',
          message: `"${key}" is not one of the programme's languages (${declared.join(', ')})`,
        });
      }
    }
    const present = declared.filter((l) => value[l] !== undefined && value[l] !== null);
    for (const language of declared) {
      if (present.includes(language)) continue;
      findings.push({
        path: field.path,
        message: `missing its ${languageNames[language]} text: add ${language}: beside ${listInWords(present.map((l) => `${l}:`)) || 'the other languages'}`,
      });
    }
    for (const language of declared) {
      const text = value[language] ?? value[present[0] ?? language];
      setAt(projections[language], field.path, text);
    }
    if (present.length >= 2) notices.push(...compareTranslations(field, value, present));
  }
  return { findings, notices, projections };
}

// `{{ learner.first_name }}`, `{{ week.number | plus: 1 }}`: the variable of each output.
const variablePattern = /\{\{-?\s*([a-z_]+(?:\.[a-z_]+)*)/g;

/** The template variables of a text, as a sorted list without repeats. */
function variablesOf(text: string): string[] {
  return [...new Set([...text.matchAll(variablePattern)].map((m) => m[1]!))].sort();
}

/** Text to compare by length: the words, without Markdown marks or template variables. */
function wordsOf(text: string): string {
  return text
    .replace(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g, '')
    .replace(/[#>*_`[\]()-]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Below this, one language's text is "much shorter" than the other's. Welsh runs a little
 * longer than English, so a true translation stays well above it; a missed paragraph does not.
 */
const shortRatio = 0.6;
/** Short texts (subjects, titles) vary too much in length to tell anything. */
const minimumCompared = 80;

function compareTranslations(
  field: TextField,
  value: Record<string, unknown>,
  present: Language[],
): Finding[] {
  const texts = present
    .map((language) => ({ language, text: value[language] }))
    .filter((t): t is { language: Language; text: string } => typeof t.text === 'string');
  const notices: Finding[] = [];
  const [first, ...rest] = texts;
  if (first === undefined) return notices;
  for (const other of rest) {
    const a = variablesOf(first.text);
    const b = variablesOf(other.text);
    if (field.kind !== 'plain' && a.join() !== b.join()) {
      const only = (x: string[], y: string[]) => x.filter((v) => !y.includes(v));
      const parts = [
        ...only(a, b).map((v) => `{{ ${v} }} is in ${first.language} only`),
        ...only(b, a).map((v) => `{{ ${v} }} is in ${other.language} only`),
      ];
      notices.push({
        path: [...field.path, other.language],
        message: `the languages use different template variables: ${parts.join('; ')}`,
      });
    }
  }
  const lengths = texts.map((t) => ({ ...t, length: wordsOf(t.text).length }));
  const longest = lengths.reduce((a, b) => (b.length > a.length ? b : a));
  if (longest.length < minimumCompared) return notices;
  for (const t of lengths) {
    if (t.length / longest.length >= shortRatio) continue;
    notices.push({
      path: [...field.path, t.language],
      message: `the ${languageNames[t.language]} text is much shorter than the ${languageNames[longest.language]} (${t.length} characters against ${longest.length}): is a paragraph missing?`,
    });
  }
  return notices;
}

function setAt(target: unknown, path: Path, value: unknown): void {
  let node = target as Record<string | number, unknown>;
  for (const segment of path.slice(0, -1)) node = node[segment] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
}
