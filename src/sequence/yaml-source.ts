import {
  LineCounter,
  isAlias,
  isCollection,
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  visit,
  type Document,
  type Pair,
  type YAMLMap,
  type YAMLError,
} from 'yaml';
import type { Path } from './problems.js';

/** A YAML file parsed with positions kept, so that any path in its data can be found again. */
export interface YamlSource {
  text: string;
  document: Document.Parsed;
  lineCounter: LineCounter;
}

/** Syntax problems as offsets in the text; the loader turns them into lines and columns. */
export interface SyntaxProblem {
  offset: number;
  message: string;
}

/**
 * The most aliases (`*name`) a sequence file may use. The YAML library resolves each alias by
 * scanning every anchor and alias before it, so the cost grows with the square of their number
 * (70,000 aliases took over a minute). The shipped programmes use none; a trainer who reuses a
 * block with `&` and `*` needs a handful.
 */
export const maxAliases = 1000;

/** Parses one YAML document, keeping every syntax error with its position. Never throws. */
export function parseYaml(text: string): { source: YamlSource; syntaxProblems: SyntaxProblem[] } {
  const lineCounter = new LineCounter();
  // prettyErrors off: we add the position ourselves and want the bare message.
  // logLevel 'error': the library would otherwise print warnings to the console; we report them.
  // uniqueKeys off: the library compares each key with every key before it in its mapping (a
  // 3 MB file of keys took minutes); duplicateKeys below finds the same keys in one pass.
  const document = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    logLevel: 'error',
    uniqueKeys: false,
  });
  const errors = [
    ...document.errors.map((error) => ({ offset: error.pos[0], error })),
    ...duplicateKeys(document).map((offset) => ({ offset, error: undefined })),
    ...document.warnings.map((error) => ({ offset: error.pos[0], error })),
  ].sort((a, b) => a.offset - b.offset);
  const syntaxProblems: SyntaxProblem[] = [];
  const lines = new Set<number>();
  for (const { offset, error } of errors) {
    // After one error the parser often reports a second, confused one on the same line (a tab
    // then looks like a bad key); the first says what to fix.
    const line = lineCounter.linePos(offset).line;
    if (lines.has(line)) continue;
    lines.add(line);
    const message = error ? describeYamlError(error, text) : duplicateKeyMessage(text, offset);
    syntaxProblems.push({ offset, message });
  }
  return { source: { text, document, lineCounter }, syntaxProblems };
}

/**
 * Where each key that repeats an earlier key of the same mapping starts, in one pass with a set
 * per mapping. Keys are equal as the YAML library's own check has them: the same scalar value.
 */
function duplicateKeys(document: Document.Parsed): number[] {
  const offsets: number[] = [];
  visit(document, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        if (seen.has(pair.key.value)) offsets.push(pair.key.range?.[0] ?? 0);
        else seen.add(pair.key.value);
      }
    },
  });
  return offsets;
}

/**
 * The data in the document, or a problem if it cannot be built (an alias to an anchor that does
 * not exist, or aliases nested so deeply that they would blow up memory).
 */
export function dataOf(source: YamlSource): { data: unknown } | { problem: SyntaxProblem } {
  let complexKey: number | undefined;
  visit(source.document, {
    Pair(_, pair) {
      if (!isCollection(pair.key)) return undefined;
      complexKey = pair.key.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  if (complexKey !== undefined) {
    return {
      problem: {
        offset: complexKey,
        message: 'YAML: a key must be a word or a text, not a list or a mapping',
      },
    };
  }
  // Counted before toJS(), which would take minutes over a file of aliases (see maxAliases).
  let aliases = 0;
  let pastTheCap: number | undefined;
  visit(source.document, {
    Alias(_, alias) {
      aliases += 1;
      if (aliases <= maxAliases) return undefined;
      pastTheCap = alias.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  if (pastTheCap !== undefined) {
    return {
      problem: {
        offset: pastTheCap,
        message:
          `YAML: more than ${maxAliases.toLocaleString('en-GB')} aliases ("*name"); a sequence ` +
          'file may repeat anchors at most that often: write the repeated values out instead',
      },
    };
  }
  try {
    return { data: source.document.toJS() as unknown };
  } catch (error) {
    // One pass in document order: the first alias whose anchor is not set above it, else the
    // first alias at all (for "excessive alias count"). Resolving each alias instead would walk
    // the document once per alias: minutes for a hostile file.
    const anchors = new Set<string>();
    let unresolved: number | undefined;
    let firstAlias: number | undefined;
    visit(source.document, {
      Node(_, node) {
        if (isAlias(node)) {
          firstAlias ??= node.range?.[0] ?? 0;
          if (!anchors.has(node.source)) {
            unresolved = node.range?.[0] ?? 0;
            return visit.BREAK;
          }
        } else if (node.anchor !== undefined) {
          anchors.add(node.anchor);
        }
        return undefined;
      },
    });
    const reason = error instanceof Error ? error.message : String(error);
    const alias = /^Unresolved alias.*: (.*)$/.exec(reason);
    const message = alias
      ? `YAML: "*${alias[1]!}" repeats an anchor "&${alias[1]!}" that is not set above it`
      : /call stack/i.test(reason)
        ? 'YAML: the file nests lists and mappings too deeply to be a programme'
        : `YAML: ${reason}`;
    return { problem: { offset: unresolved ?? firstAlias ?? 0, message } };
  }
}

/** 1-based line and column of an offset. */
export function positionAt(source: YamlSource, offset: number): { line: number; column: number } {
  const { line, col } = source.lineCounter.linePos(offset);
  return { line, column: col };
}

/**
 * The offset a path points at: its value (or, for `'key'`, its key). A path that goes further
 * than the document (a missing key) stops at the deepest node that exists, which is what a
 * trainer should look at.
 */
export function offsetOf(
  source: YamlSource,
  path: Path,
  pointAt: 'key' | 'value' = 'value',
): number {
  const found = nodesAt(source, path);
  if (pointAt === 'key' && found.complete && found.keyStart !== undefined) return found.keyStart;
  return found.start;
}

/**
 * Finds a part of a text value in the source: the `occurrence`th `text` of the value is assumed
 * to be the `occurrence`th in the node's source too. That holds for every scalar style (plain,
 * quoted, literal `|`, folded `>`) unless an escape sequence spells the searched text, in which
 * case we fall back to the value's start.
 */
export function offsetWithin(
  source: YamlSource,
  path: Path,
  value: string,
  offset: number,
  text: string,
): number {
  const found = nodesAt(source, path);
  const needle = text.split('\n')[0] ?? '';
  if (!found.complete || found.end === undefined || needle === '') return found.start;
  let occurrence = 0;
  for (let at = value.indexOf(needle); at !== -1 && at < offset; at = value.indexOf(needle, at + 1))
    occurrence++;
  let at = source.text.indexOf(needle, found.start);
  for (let n = 0; n < occurrence && at !== -1; n++) at = source.text.indexOf(needle, at + 1);
  return at !== -1 && at < found.end ? at : found.start;
}

interface NodesAt {
  /** Whether the whole path exists in the document. */
  complete: boolean;
  /** Where the deepest existing node starts (its key's start when the value is empty). */
  start: number;
  end?: number;
  keyStart?: number;
}

/**
 * Each mapping's pairs by key, built the first time a path goes through the mapping: a file with
 * thousands of problems looks its paths up in constant time per step, not by scanning the keys
 * (which made `gym validate` quadratic in the number of keys).
 */
const pairsByKey = new WeakMap<YAMLMap, Map<string, Pair>>();

function pairOf(map: YAMLMap, segment: string | number): Pair | undefined {
  let index = pairsByKey.get(map);
  if (index === undefined) {
    index = new Map();
    for (const item of map.items) {
      const key = isScalar(item.key) ? String(item.key.value) : undefined;
      // The first of duplicate keys, as a search from the top would find.
      if (key !== undefined && !index.has(key)) index.set(key, item);
    }
    pairsByKey.set(map, index);
  }
  return index.get(String(segment));
}

function nodesAt(source: YamlSource, path: Path): NodesAt {
  let node: unknown = source.document.contents;
  let keyStart: number | undefined;
  let found: NodesAt = { complete: true, start: startOf(node) ?? 0, end: endOf(node) };
  for (const segment of path) {
    if (isMap(node)) {
      const pair = pairOf(node, segment);
      if (!pair) return { ...found, complete: false };
      keyStart = startOf(pair.key);
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      keyStart = undefined;
      node = node.items[segment];
    } else {
      return { ...found, complete: false };
    }
    // `email:` with nothing after it has an empty value with no width: point at the key.
    const start = isEmptyScalar(node) ? keyStart : (startOf(node) ?? keyStart);
    found = { complete: true, start: start ?? found.start, end: endOf(node), keyStart };
  }
  return found;
}

function startOf(node: unknown): number | undefined {
  return isScalar(node) || isMap(node) || isSeq(node) || isAlias(node)
    ? node.range?.[0]
    : undefined;
}

function endOf(node: unknown): number | undefined {
  return isScalar(node) || isMap(node) || isSeq(node) || isAlias(node)
    ? node.range?.[1]
    : undefined;
}

function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && !!node.range && node.range[0] === node.range[1];
}

/**
 * The YAML library's messages are written for programmers; the mistakes trainers make most get a
 * message that says what to do.
 */
function describeYamlError(error: YAMLError, text: string): string {
  switch (error.code) {
    case 'TAB_AS_INDENT':
      return 'YAML: a tab is used for indentation; indent with spaces only';
    case 'DUPLICATE_KEY':
      return duplicateKeyMessage(text, error.pos[0]);
    case 'BLOCK_AS_IMPLICIT_KEY':
      // Most often `subject: Week 1: listen`; sometimes a line indented too far.
      return 'YAML: a value contains ": " or is indented too far; put text containing ": " in quotes, such as subject: "Week 1: listen"';
    case 'MULTILINE_IMPLICIT_KEY':
      return 'YAML: a key must be on a single line; check the indentation, or put a text containing ": " in quotes';
    case 'MULTIPLE_DOCS':
      return 'YAML: a sequence file holds one programme; remove the "---" line that starts a second document';
    case 'TAG_RESOLVE_FAILED':
      return `YAML: unknown tag (${error.message.replace(/^Unresolved tag: /, '')}); remove the "!" part`;
    default: {
      const unclosed = /^Flow (sequence|map) in block collection/.exec(error.message);
      if (unclosed) {
        const [open, close] = unclosed[1] === 'sequence' ? ['[', ']'] : ['{', '}'];
        return `YAML: a "${open}" is not closed with "${close}" before this line, or this line is not indented enough`;
      }
      // Some messages quote the rest of the text; the position already shows where it is.
      return `YAML: ${lowerFirst(error.message).replace(/: "(.{30})[^]+"$/, ': "$1..."')}`;
    }
  }
}

function duplicateKeyMessage(text: string, offset: number): string {
  const key = /^[^:\n]*/.exec(text.slice(offset, offset + 200))?.[0].trim() ?? '';
  return `YAML: the key "${key}" appears twice in the same place; keep one`;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
