/** One mistake in a sequence file, for a trainer: `file:line:column message`, 1-based. */
export interface Problem {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** Keys and list indexes from the top of a sequence file: `['weeks', 2, 'steps', 0, 'day']`. */
export type Path = readonly (string | number)[];

/**
 * A problem before it has a line and column: the checks speak in paths, and the loader finds
 * the YAML node each path names.
 */
export interface Finding {
  /** The node the problem is about. */
  path: Path;
  /** The key of that node (unknown keys), or its value (the default). */
  pointAt?: 'key' | 'value';
  /** A part of a text value, such as one variable in a template: the value, the part's offset and text. */
  within?: { value: string; offset: number; text: string };
  /** Which key to name before the message, when it is not `path` (see `describeWhere`). */
  label?: Path;
  /** What is wrong and what was expected, without the "week 3: step "x":" part. */
  message: string;
}

/**
 * Says where a path is in programme terms: `week 3`, `step "practice"`, then the remaining keys,
 * so that `['weeks', 2, 'steps', 1, 'email', 'tip']` reads `week 3: step "practice": email.tip`.
 * Week numbers and step ids come from the file itself; when they are unusable, the position.
 */
export function describeWhere(path: Path, data: unknown): string[] {
  const parts: string[] = [];
  let rest = path;
  if (rest[0] === 'weeks' && typeof rest[1] === 'number') {
    const week = itemOf(data, 'weeks', rest[1]);
    const number = propertyOf(week, 'week');
    parts.push(Number.isInteger(number) ? `week ${String(number)}` : `weeks item ${rest[1] + 1}`);
    rest = rest.slice(2);
    if (rest[0] === 'steps' && typeof rest[1] === 'number') {
      const id = propertyOf(itemOf(week, 'steps', rest[1]), 'id');
      parts.push(typeof id === 'string' && id !== '' ? `step "${id}"` : `step ${rest[1] + 1}`);
      rest = rest.slice(2);
    }
  }
  if (rest[0] === 'intake' && typeof rest[1] === 'number') {
    parts.push(`intake question ${rest[1] + 1}`);
    rest = rest.slice(2);
    if (rest[0] === 'answers' && typeof rest[1] === 'number') {
      parts.push(`answer ${rest[1] + 1}`);
      rest = rest.slice(2);
    }
  }
  // List indexes inside a field (working_days, match lists) add nothing the line number does not.
  const field = rest.filter((segment) => typeof segment === 'string').join('.');
  if (field !== '') parts.push(field);
  return parts;
}

/** A value as a trainer would recognise it in a message: `"wedn"`, `3`, `a list`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return 'a mapping (key: value lines)';
}

/** `a, b and c`, for lists in messages. */
export function listInWords(items: readonly string[], conjunction = 'and'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items.at(-1)!}`;
}

/** `value[key]` when value is a plain mapping, else undefined: checks read unvalidated data. */
export function propertyOf(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

/** The list under `key`, or an empty list when there is none. */
export function listOf(value: unknown, key: string): unknown[] {
  const list = propertyOf(value, key);
  return Array.isArray(list) ? list : [];
}

function itemOf(value: unknown, key: string, index: number): unknown {
  return listOf(value, key)[index];
}
