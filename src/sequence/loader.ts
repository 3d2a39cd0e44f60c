import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { programmeFindings } from './programme-checks.js';
import {
  describeWhere,
  listInWords,
  listOf,
  propertyOf,
  type Finding,
  type Path,
  type Problem,
} from './problems.js';
import { declaredLanguages, isLanguageMap, splitByLanguage } from './languages-check.js';
import { findingsFromIssues } from './schema-issues.js';
import { sequenceSchema, type Sequence, type SequenceText } from './schema.js';
import type { Language } from '../language/languages.js';
import { checkTemplate } from './template-check.js';
import {
  dataOf,
  offsetOf,
  offsetWithin,
  parseYaml,
  positionAt,
  type YamlSource,
} from './yaml-source.js';

export type { Problem } from './problems.js';

/**
 * Reads a Markdown file named by a sequence file (`tip: { file: week-1/tip.md }`): its text, or
 * undefined when there is no such file. Injected so that the loader stays free of I/O.
 */
export type ReadFile = (path: string) => string | undefined;

/** 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

/** A sequence file that passed every check. */
export interface LoadedSequence {
  ok: true;
  path: string;
  /** The programme with defaults applied and every `{ file }` replaced by the file's text. */
  sequence: Sequence;
  /** The programme version: `sha256-` and the hex digest of the YAML and its Markdown files. */
  hash: string;
  /** Every file the version is made of: the YAML file first, then each Markdown file once. */
  sources: string[];
  /** Where the keys that the cross-file checks talk about are, so their problems can point there. */
  positions: { id: Position; audienceDefault: Position | undefined };
  /**
   * Not wrong, but worth a look before use: a translation much shorter than its original,
   * template variables that differ between languages, Welsh nobody has reviewed yet.
   */
  notices: Problem[];
}

/** A sequence file with problems; `id` and `title` are what the file says, when it says them. */
export interface FailedSequence {
  ok: false;
  path: string;
  problems: Problem[];
  id?: string;
  title?: string;
  /** As for a loaded file: worth a look, whatever the problems. */
  notices?: Problem[];
}

export type LoadResult = LoadedSequence | FailedSequence;

/**
 * The largest sequence file we read. The shipped 12-week programmes are about 50 KB; parsing and
 * checking stay well under a few seconds up to this size, and a file far beyond it is a mistake
 * (or an attack) that would otherwise hold `gym validate` for minutes.
 */
export const maxSequenceFileBytes = 2 * 1024 * 1024;

/** The failure for a sequence file of `bytes` bytes, or undefined when it is small enough. */
export function refuseIfTooLarge(path: string, bytes: number): FailedSequence | undefined {
  if (bytes <= maxSequenceFileBytes) return undefined;
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  return failed(path, undefined, [
    {
      file: path,
      line: 1,
      column: 1,
      message:
        `the file is ${mb(bytes)}; a sequence file may be at most ${mb(maxSequenceFileBytes)} ` +
        '(a 12-week programme is about 50 KB): move long texts into Markdown files ' +
        '({ file: week-1/tip.md }) or split the file',
    },
  ]);
}

/**
 * Loads one sequence file from its text: YAML syntax, the schema, the rules across keys
 * (programme-checks.ts), every template and every Markdown file it names. It collects every
 * problem, each with its line and column, rather than stopping at the first; it never throws.
 *
 * @example
 * const result = loadSequence('sequences/x.yaml', text, (path) => files.get(path));
 * if (!result.ok) for (const p of result.problems) console.log(`${p.file}:${p.line}:${p.column} ${p.message}`);
 */
export function loadSequence(path: string, text: string, readFile: ReadFile): LoadResult {
  const tooLarge = refuseIfTooLarge(path, Buffer.byteLength(text, 'utf8'));
  if (tooLarge) return tooLarge;
  // An editor's byte-order mark is not content; without it, columns match what the editor shows.
  const source = text.replace(/^\uFEFF/, '');
  const { source: yaml, syntaxProblems } = parseYaml(source);
  const at = (offset: number, message: string): Problem => ({
    file: path,
    ...positionAt(yaml, offset),
    message,
  });
  // A document recovered from broken syntax would give misleading follow-on problems, so a file
  // with syntax errors reports those only; fixing them shows the rest.
  const syntax = syntaxProblems.map((problem) => at(problem.offset, problem.message));
  if (syntax.length > 0) return failed(path, undefined, syntax);
  const built = dataOf(yaml);
  if ('problem' in built) {
    return failed(path, undefined, [at(built.problem.offset, built.problem.message)]);
  }
  const data = built.data;
  if (data === null || data === undefined) {
    return failed(path, data, [
      at(0, 'the file is empty; a programme needs id, title, audience and weeks 1 to 12'),
    ]);
  }

  // A bilingual file is checked as one plain programme per language, after its maps are checked.
  const split = splitByLanguage(data);
  const declared = declaredLanguages(data);
  const versions: { language: Language; data: unknown }[] =
    split.projections && declared
      ? declared.map((language) => ({ language, data: split.projections![language] }))
      : [{ language: 'en', data }];
  const parses = versions.map((version) => ({
    ...version,
    parsed: sequenceSchema.safeParse(version.data),
  }));
  const findings = [
    ...split.findings,
    ...parses.flatMap(({ parsed, data: version }) =>
      parsed.success ? [] : findingsFromIssues(parsed.error.issues, version),
    ),
    ...programmeFindings(data, (p) => positionAt(yaml, offsetOf(yaml, p)).line),
  ];
  const markdown = resolveTexts(path, data, readFile);
  findings.push(...markdown.findings);
  const problems = [
    ...findings.map((finding) => toProblem(finding, path, yaml, data)),
    ...markdown.problems,
  ];
  const noticesOfSplit = split.notices.map((finding) => toProblem(finding, path, yaml, data));
  const allParsed = parses.every(({ parsed }) => parsed.success);
  if (!allParsed || problems.length > 0)
    return { ...failed(path, data, problems), notices: sortProblems(path, noticesOfSplit) };

  const texts = new Map<Language, SequenceText>();
  for (const { language, parsed } of parses) texts.set(language, parsed.data!);
  for (const file of markdown.files) {
    // A file named inside a language map (`tip: { cy: { file: … } }`) belongs to that language.
    const last = file.fieldPath.at(-1);
    const language = declared?.find((l) => l === last);
    if (language !== undefined) setAt(texts.get(language), file.fieldPath.slice(0, -1), file.text);
    else for (const text of texts.values()) setAt(text, file.fieldPath, file.text);
  }
  // The base texts, for everything that does not choose a language: English when offered.
  const base = declared === undefined ? 'en' : declared.includes('en') ? 'en' : declared[0]!;
  const sequence: Sequence =
    declared === undefined
      ? texts.get('en')!
      : { ...texts.get(base)!, translations: Object.fromEntries(texts) };
  const notices = [...noticesOfSplit, ...reviewNotice(path, yaml, sequence)];
  return {
    ok: true,
    path,
    sequence,
    hash: contentHash(source, markdown.files),
    sources: [path, ...new Set(markdown.files.map((file) => file.path))],
    positions: {
      id: positionAt(yaml, offsetOf(yaml, ['id'])),
      audienceDefault: sequence.audience.default
        ? positionAt(yaml, offsetOf(yaml, ['audience', 'default']))
        : undefined,
    },
    notices: sortProblems(path, notices),
  };
}

/**
 * Welsh that no Welsh speaker has checked is not ready to send (a public body's Welsh must be as
 * good as its English): until `reviewed_by` names someone, validate says so, without failing.
 */
function reviewNotice(path: string, yaml: YamlSource, sequence: Sequence): Problem[] {
  if (!sequence.languages?.includes('cy')) return [];
  if (typeof sequence.reviewed_by === 'string' && sequence.reviewed_by.trim() !== '') return [];
  const at = sequence.reviewed_by === undefined ? ['languages'] : ['reviewed_by'];
  return [
    {
      file: path,
      ...positionAt(yaml, offsetOf(yaml, at)),
      message:
        'the Welsh (cy) text has not been reviewed: a Welsh speaker should review it before use, then give their name in reviewed_by',
    },
  ];
}

/**
 * The checks that need every programme at once: ids are unique, and at most one programme is
 * `audience.default`. A file that breaks them becomes a failure; each problem names the other files.
 */
export function checkAcrossFiles(results: readonly LoadResult[]): LoadResult[] {
  const loaded = results.filter((result): result is LoadedSequence => result.ok);
  const extra = new Map<LoadedSequence, Problem[]>();
  const add = (result: LoadedSequence, position: Position, message: string) =>
    extra.set(result, [...(extra.get(result) ?? []), { file: result.path, ...position, message }]);

  for (const result of loaded) {
    const others = loaded.filter(
      (other) => other !== result && other.sequence.id === result.sequence.id,
    );
    if (others.length > 0) {
      const paths = listInWords(others.map((other) => other.path));
      add(
        result,
        result.positions.id,
        `id "${result.sequence.id}" is also used by ${paths}; each programme needs its own id`,
      );
    }
  }
  const defaults = loaded.filter((result) => result.positions.audienceDefault !== undefined);
  for (const result of defaults) {
    if (defaults.length < 2) break;
    const paths = listInWords(
      defaults.filter((other) => other !== result).map((other) => other.path),
    );
    add(
      result,
      result.positions.audienceDefault!,
      `audience.default: ${paths} is the default programme too; only one programme can be the default`,
    );
  }

  return results.map((result) => {
    const problems = result.ok ? extra.get(result) : undefined;
    if (!result.ok || problems === undefined) return result;
    return {
      ok: false,
      path: result.path,
      problems,
      id: result.sequence.id,
      title: result.sequence.title,
    };
  });
}

/** Loads several sequence files that are used together, with the cross-file checks. */
export function loadSequences(
  files: readonly { path: string; text: string }[],
  readFile: ReadFile,
): LoadResult[] {
  return checkAcrossFiles(files.map((file) => loadSequence(file.path, file.text, readFile)));
}

function failed(path: string, data: unknown, problems: Problem[]): FailedSequence {
  const result: FailedSequence = { ok: false, path, problems: sortProblems(path, problems) };
  const id = propertyOf(data, 'id');
  const title = propertyOf(data, 'title');
  if (typeof id === 'string') result.id = id;
  if (typeof title === 'string') result.title = title;
  return result;
}

function toProblem(finding: Finding, path: string, yaml: YamlSource, data: unknown): Problem {
  const offset = finding.within
    ? offsetWithin(
        yaml,
        finding.path,
        finding.within.value,
        finding.within.offset,
        finding.within.text,
      )
    : offsetOf(yaml, finding.path, finding.pointAt);
  const where = describeWhere(finding.label ?? finding.path, data);
  return {
    file: path,
    ...positionAt(yaml, offset),
    message: [...where, finding.message].join(': '),
  };
}

/** The sequence file's problems in reading order, then those inside its Markdown files; each once. */
function sortProblems(path: string, problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  return [...problems]
    .sort(
      (a, b) =>
        Number(a.file !== path) - Number(b.file !== path) ||
        a.file.localeCompare(b.file) ||
        a.line - b.line ||
        a.column - b.column,
    )
    .filter((problem) => {
      const key = JSON.stringify(problem);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

// ---- Templates and Markdown files

interface TextField {
  path: Path;
  value: unknown;
  /** Markdown may come from a file: `{ file: tip.md }`. */
  markdown: boolean;
}

/** Every value the renderer treats as a template: the format's text and Markdown fields. */
function textFields(data: unknown): TextField[] {
  const fields: TextField[] = [];
  const add = (parent: unknown, parentPath: Path, keys: readonly string[], markdown: boolean) => {
    for (const key of keys) {
      const value = propertyOf(parent, key);
      if (value === undefined) continue;
      // A bilingual text: each language's text is checked (and its file read) on its own.
      if (isLanguageMap(value)) {
        for (const [language, text] of Object.entries(value))
          if (text !== undefined && text !== null)
            fields.push({ path: [...parentPath, key, language], value: text, markdown });
      } else fields.push({ path: [...parentPath, key], value, markdown });
    }
  };
  listOf(data, 'weeks').forEach((week, w) => {
    add(week, ['weeks', w], ['manager_tip'], false);
    listOf(week, 'steps').forEach((step, s) => {
      const stepPath = ['weeks', w, 'steps', s];
      const email = propertyOf(step, 'email');
      add(email, [...stepPath, 'email'], ['subject', 'preheader'], false);
      add(email, [...stepPath, 'email'], ['tip', 'example', 'body'], true);
      const assignment = propertyOf(email, 'assignment');
      add(assignment, [...stepPath, 'email', 'assignment'], ['title'], false);
      add(assignment, [...stepPath, 'email', 'assignment'], ['body'], true);
      const invite = propertyOf(step, 'invite');
      add(invite, [...stepPath, 'invite'], ['title'], false);
      add(invite, [...stepPath, 'invite'], ['description'], true);
    });
  });
  return fields;
}

interface MarkdownFile {
  fieldPath: Path;
  /** As the sequence file names it, relative to the sequence file. */
  reference: string;
  /** As problems and `sources` name it. */
  path: string;
  text: string;
}

/**
 * Checks every template, reading each Markdown file named by `{ file }` (relative to the
 * sequence file). Problems inside a Markdown file point into that file.
 */
function resolveTexts(path: string, data: unknown, readFile: ReadFile) {
  const findings: Finding[] = [];
  const problems: Problem[] = [];
  const files: MarkdownFile[] = [];
  for (const field of textFields(data)) {
    if (typeof field.value === 'string') {
      const value = field.value;
      for (const problem of checkTemplate(value)) {
        findings.push({
          path: field.path,
          within: { value, offset: problem.offset, text: problem.text },
          message: problem.message,
        });
      }
      continue;
    }
    const reference = propertyOf(field.value, 'file');
    // Anything else, such as a path that is not `.md`, is the schema's to report.
    if (!field.markdown || typeof reference !== 'string' || !reference.endsWith('.md')) continue;
    const filePath = join(dirname(path), reference);
    const text = readFile(filePath)
      ?.replace(/^\uFEFF/, '')
      .replace(/\r\n/g, '\n');
    const fileField = [...field.path, 'file'];
    if (text === undefined) {
      findings.push({
        path: fileField,
        label: field.path,
        message: `file "${reference}" not found (looked for ${filePath})`,
      });
    } else if (text.trim() === '') {
      findings.push({
        path: fileField,
        label: field.path,
        message: `file "${reference}" is empty; expected some Markdown text`,
      });
    } else {
      files.push({ fieldPath: field.path, reference, path: filePath, text });
      const where = describeWhere(field.path, data);
      for (const problem of checkTemplate(text)) {
        problems.push({
          file: filePath,
          ...lineAndColumn(text, problem.offset),
          message: [...where, problem.message].join(': '),
        });
      }
    }
  }
  return { findings, problems, files };
}

function lineAndColumn(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: offset - lineStart + 1 };
}

/**
 * The version of a programme: a digest of the YAML text and the text of each Markdown file it
 * uses, so that changing any of them makes a new version. Line endings are normalised so that a
 * Windows checkout of the same files is the same version.
 */
function contentHash(yaml: string, markdown: readonly MarkdownFile[]): string {
  // Named relative to the sequence file, so that moving the folder does not make a new version.
  const files = [...new Map(markdown.map((file) => [file.reference, file.text])).entries()].sort(
    ([a], [b]) => a.localeCompare(b),
  );
  const canonical = JSON.stringify({
    yaml: yaml.replace(/\r\n/g, '\n'),
    markdown: files,
  });
  return `sha256-${createHash('sha256').update(canonical).digest('hex')}`;
}

function setAt(target: unknown, path: Path, value: unknown): void {
  if (target === undefined) return;
  let node = target as Record<string | number, unknown>;
  for (const segment of path.slice(0, -1)) node = node[segment] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
}
