import { z } from 'zod';
import { didYouMean } from './did-you-mean.js';
import { describeValue, listInWords, propertyOf, type Finding, type Path } from './problems.js';
import { dayNames, sequenceSchema } from './schema.js';

type Issue = z.core.$ZodIssue;

/**
 * Turns zod's issues into findings a trainer can act on: each names the key, the value found
 * and what was expected, in words rather than types. `data` is the parsed YAML, read to tell a
 * missing key from a wrong value and to quote what was found.
 */
export function findingsFromIssues(issues: readonly Issue[], data: unknown): Finding[] {
  const findings = issues.flatMap((issue) => describeIssue(issue, [], data));
  return dropMisspeltMissingKeys(findings);
}

/** A finding, plus what the typo check below needs to know. */
type KeyFinding = Finding & { missingKey?: string; unknownKey?: string };

function describeIssue(issue: Issue, prefix: Path, data: unknown): KeyFinding[] {
  const path = [
    ...prefix,
    ...issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment)),
  ];
  const value = valueAt(data, path);
  const missing = missingKey(data, path);
  if (missing && issue.code !== 'unrecognized_keys' && issue.code !== 'custom') {
    return [
      {
        path: missing.parent,
        message: `missing required key "${missing.key}"`,
        missingKey: missing.key,
      },
    ];
  }
  switch (issue.code) {
    case 'invalid_type':
      return [
        {
          path,
          message: `expected ${expectedType(issue.expected, path)}, found ${describeValue(value)}`,
        },
      ];
    case 'invalid_value':
      if (
        issue.values.length === dayNames.length &&
        dayNames.every((day) => issue.values.includes(day))
      ) {
        // `unknown day "wedn"` already says it is the day; `due` or `working_days` still need naming.
        const label = path.at(-1) === 'day' ? path.slice(0, -1) : path;
        return [
          {
            path,
            label,
            message: `unknown day ${describeValue(value)} (expected ${listInWords([...dayNames], 'or')})`,
          },
        ];
      }
      return [
        {
          path,
          message: `expected ${listInWords(
            issue.values.map((v) => JSON.stringify(v)),
            'or',
          )}, found ${describeValue(value)}`,
        },
      ];
    case 'too_small':
      return [{ path, message: tooSmall(issue, path, value) }];
    case 'too_big':
      return [{ path, message: tooBig(issue, path, value) }];
    case 'invalid_format':
      // Every pattern in the schema carries a message that says what is expected.
      return [{ path, message: `${issue.message}, found ${describeValue(value)}` }];
    case 'unrecognized_keys': {
      const allowed = keysAt(path);
      return issue.keys.map((key) => ({
        path: [...path, key],
        pointAt: 'key' as const,
        label: path,
        message: `unknown key "${key}" (expected one of: ${allowed.join(', ')})`,
        unknownKey: key,
      }));
    }
    case 'invalid_union':
      return describeUnionIssue(issue.errors, path, value, data);
    case 'custom':
      return [{ path, message: issue.message }];
    default:
      return [{ path, message: issue.message }];
  }
}

/**
 * A value that matched no alternative (Markdown is text or `{ file }`): when its shape picks one
 * alternative, report that alternative's problems; otherwise say what the alternatives are.
 */
function describeUnionIssue(
  branches: readonly (readonly Issue[])[],
  path: Path,
  value: unknown,
  data: unknown,
): KeyFinding[] {
  const sameShape = branches.filter(
    (issues) => !issues.some((issue) => issue.path.length === 0 && issue.code === 'invalid_type'),
  );
  const closest = sameShape.sort((a, b) => a.length - b.length)[0];
  if (closest) return closest.flatMap((issue) => describeIssue(issue, path, data));
  const expected = descriptionAt(path) ?? 'another kind of value';
  return [{ path, message: `expected ${expected}, found ${describeValue(value)}` }];
}

/**
 * `subjct:` gives two issues: an unknown key and a missing `subject`. The unknown key, whose
 * message lists `subject`, is enough; the missing key would only repeat it.
 */
function dropMisspeltMissingKeys(findings: KeyFinding[]): Finding[] {
  const unknownAt = new Map<string, string[]>();
  for (const finding of findings) {
    if (finding.unknownKey === undefined) continue;
    const parent = JSON.stringify(finding.path.slice(0, -1));
    // Pushed, not copied: a file of 50,000 unknown keys would copy the list 50,000 times.
    const keys = unknownAt.get(parent);
    if (keys === undefined) unknownAt.set(parent, [finding.unknownKey]);
    else keys.push(finding.unknownKey);
  }
  return findings
    .filter((finding) => {
      if (finding.missingKey === undefined) return true;
      const unknown = unknownAt.get(JSON.stringify(finding.path)) ?? [];
      return !unknown.some((key) => didYouMean(key, [finding.missingKey!]) !== undefined);
    })
    .map(({ missingKey: _missing, unknownKey: _unknown, ...finding }) => finding);
}

function tooSmall(issue: z.core.$ZodIssueTooSmall, path: Path, value: unknown): string {
  if (issue.origin === 'string') return 'expected some text, found an empty text';
  if (issue.origin === 'array') return 'expected at least one item, found an empty list';
  if (isWeekNumber(path))
    return `expected a week number from 1 to 12, found ${describeValue(value)}`;
  return `expected ${String(issue.minimum)} or more, found ${describeValue(value)}`;
}

function tooBig(issue: z.core.$ZodIssueTooBig, path: Path, value: unknown): string {
  if (isWeekNumber(path))
    return `expected a week number from 1 to 12, found ${describeValue(value)}`;
  if (issue.origin === 'array') return `expected at most ${String(issue.maximum)} items`;
  return `expected ${String(issue.maximum)} or less, found ${describeValue(value)}`;
}

function isWeekNumber(path: Path): boolean {
  return path.length === 3 && path[0] === 'weeks' && path[2] === 'week';
}

function expectedType(expected: string, path: Path): string {
  switch (expected) {
    case 'string':
      return 'text';
    case 'number':
    case 'int':
      if (isWeekNumber(path)) return 'a week number from 1 to 12';
      return expected === 'int' ? 'a whole number' : 'a number';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list (lines starting with "- ")';
    case 'object': {
      const keys = keysAt(path);
      return keys.length > 0 ? `keys such as ${keys.join(', ')}` : 'key: value lines';
    }
    case 'record':
      return 'key: value lines';
    default:
      return expected;
  }
}

/** The key that is missing, if the path ends in a key its mapping does not have. */
function missingKey(data: unknown, path: Path): { parent: Path; key: string } | undefined {
  const key = path.at(-1);
  if (typeof key !== 'string') return undefined;
  const parent = valueAt(data, path.slice(0, -1));
  if (typeof parent !== 'object' || parent === null || Array.isArray(parent)) return undefined;
  return Object.hasOwn(parent, key) ? undefined : { parent: path.slice(0, -1), key };
}

function valueAt(data: unknown, path: Path): unknown {
  let value = data;
  for (const segment of path) {
    value =
      typeof segment === 'number'
        ? Array.isArray(value)
          ? value[segment]
          : undefined
        : propertyOf(value, segment);
  }
  return value;
}

// ---- Reading the schema itself, so that messages list exactly the keys the format allows.

/** The keys allowed at a path, in the order the schema declares them. */
function keysAt(path: Path): string[] {
  const schema = objectAt(path);
  return schema ? Object.keys(schema.shape) : [];
}

/** The innermost description: the one that says what form a value takes, not what it is for. */
function descriptionAt(path: Path): string | undefined {
  let description: string | undefined;
  for (let schema = schemaAt(path); schema; schema = unwrapOnce(schema))
    description = schema.description ?? description;
  return description;
}

function objectAt(path: Path): z.ZodObject | undefined {
  const schema = schemaAt(path);
  return schema ? asObject(schema) : undefined;
}

function schemaAt(path: Path): z.ZodType | undefined {
  let schema: z.ZodType | undefined = sequenceSchema;
  for (const segment of path) {
    if (!schema) return undefined;
    schema = childOf(schema, segment);
  }
  return schema;
}

function childOf(schema: z.ZodType, segment: string | number): z.ZodType | undefined {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodArray)
    return typeof segment === 'number' ? (inner.element as z.ZodType) : undefined;
  if (inner instanceof z.ZodRecord) return inner.valueType as z.ZodType;
  const object = asObject(inner);
  return object ? (object.shape[String(segment)] as z.ZodType | undefined) : undefined;
}

/** The object inside optional/default wrappers, or the object alternative of a union. */
function asObject(schema: z.ZodType): z.ZodObject | undefined {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) return inner;
  if (inner instanceof z.ZodUnion) {
    for (const option of inner.options as readonly z.ZodType[]) {
      const object = asObject(option);
      if (object) return object;
    }
  }
  return undefined;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let inner = schema;
  for (let next = unwrapOnce(inner); next; next = unwrapOnce(inner)) inner = next;
  return inner;
}

function unwrapOnce(schema: z.ZodType): z.ZodType | undefined {
  if (
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodDefault ||
    schema instanceof z.ZodNullable
  ) {
    return schema.unwrap() as z.ZodType;
  }
  return undefined;
}
