import { didYouMean } from './did-you-mean.js';
import { listInWords, listOf, propertyOf, type Finding, type Path } from './problems.js';
import { dayNames } from './schema.js';

/**
 * Rules that span several keys, which the schema cannot say: weeks 1 to 12 in order, step ids
 * unique within a week, `when` naming an earlier step, `at` inside the sending window, an
 * assignment not due before it is sent. They read the unvalidated data defensively, so that they
 * run, and report, alongside the schema's own problems.
 *
 * `lineOf` gives the line of a path, for messages that point at a second place ("first on line 9").
 */
export function programmeFindings(data: unknown, lineOf: (path: Path) => number): Finding[] {
  return [
    ...weekNumberFindings(data, lineOf),
    ...intakeFindings(data, lineOf),
    ...listOf(data, 'weeks').flatMap((week, w) => stepFindings(data, week, w, lineOf)),
  ];
}

const totalWeeks = 12;

function weekNumberFindings(data: unknown, lineOf: (path: Path) => number): Finding[] {
  const findings: Finding[] = [];
  const firstIndex = new Map<number, number>();
  let highest = 0;
  listOf(data, 'weeks').forEach((week, w) => {
    const number = propertyOf(week, 'week');
    // Numbers outside 1..12 are the schema's to report.
    if (
      typeof number !== 'number' ||
      !Number.isInteger(number) ||
      number < 1 ||
      number > totalWeeks
    )
      return;
    // Labelled with the week alone: "week 3: appears twice", not "week 3: week: week 3 ...".
    const at = { path: ['weeks', w, 'week'], label: ['weeks', w] };
    const first = firstIndex.get(number);
    if (first !== undefined) {
      const line = lineOf(['weeks', first, 'week']);
      findings.push({
        ...at,
        message: `appears twice (also on line ${line}); each week appears once`,
      });
      return;
    }
    if (number < highest) {
      findings.push({
        ...at,
        message: `comes after week ${highest}; list the weeks in order, 1 to 12`,
      });
    }
    firstIndex.set(number, w);
    highest = Math.max(highest, number);
  });
  if (propertyOf(data, 'weeks') === undefined) return findings; // the schema reports the missing key
  const missing = Array.from({ length: totalWeeks }, (_, i) => i + 1).filter(
    (n) => !firstIndex.has(n),
  );
  if (missing.length === totalWeeks) {
    findings.push({
      path: ['weeks'],
      pointAt: 'key',
      message: 'expected weeks 1 to 12, found none',
    });
  } else if (missing.length > 0) {
    const which = missing.length === 1 ? 'week' : 'weeks';
    findings.push({
      path: ['weeks'],
      pointAt: 'key',
      message: `missing ${which} ${listInWords(missing.map(String))} (a programme has weeks 1 to 12)`,
    });
  }
  return findings;
}

interface StepInfo {
  index: number;
  id: string | undefined;
  /** Position in the week for ordering: day first, then place in the list. */
  order: [number, number];
}

function stepFindings(
  data: unknown,
  week: unknown,
  w: number,
  lineOf: (path: Path) => number,
): Finding[] {
  const weekNumber = propertyOf(week, 'week');
  const weekName = typeof weekNumber === 'number' ? `week ${weekNumber}` : 'this week';
  const steps: StepInfo[] = listOf(week, 'steps').map((step, index) => {
    const id = propertyOf(step, 'id');
    const day = dayIndex(propertyOf(step, 'day'));
    return { index, id: typeof id === 'string' ? id : undefined, order: [day ?? 0, index] };
  });
  const findings: Finding[] = [];
  const firstWithId = new Map<string, number>();
  listOf(week, 'steps').forEach((step, s) => {
    const path: Path = ['weeks', w, 'steps', s];
    const info = steps[s]!;
    if (info.id !== undefined) {
      const first = firstWithId.get(info.id);
      if (first === undefined) firstWithId.set(info.id, s);
      else {
        const line = lineOf(['weeks', w, 'steps', first, 'id']);
        findings.push({
          path: [...path, 'id'],
          label: path,
          message: `another step of ${weekName} already has the id "${info.id}" (line ${line}); give each step its own id`,
        });
      }
    }
    findings.push(...conditionFindings(step, path, info, steps, weekName));
    findings.push(...windowFindings(data, step, path));
    findings.push(...dueFindings(step, path));
  });
  return findings;
}

/** `when: { not_done: kickoff }` must name a step of the same week that is sent before this one. */
function conditionFindings(
  step: unknown,
  path: Path,
  self: StepInfo,
  steps: StepInfo[],
  weekName: string,
): Finding[] {
  const when = propertyOf(step, 'when');
  return (['not_done', 'done'] as const).flatMap((key): Finding[] => {
    const target = propertyOf(when, key);
    if (typeof target !== 'string') return [];
    const at = { path: [...path, 'when', key] };
    const earlier = steps.filter(
      (other) => other.id !== undefined && compare(other.order, self.order) < 0,
    );
    const named = steps.find((other) => other.id === target);
    if (named === undefined) {
      const ids = steps.flatMap((other) =>
        other.id === undefined || other === self ? [] : [other.id],
      );
      const guess = didYouMean(target, ids);
      const hint = guess
        ? `did you mean "${guess}"?`
        : earlier.length > 0
          ? `expected one of the earlier steps: ${earlier.map((other) => other.id!).join(', ')}`
          : 'no step is sent before this one';
      return [{ ...at, message: `there is no step "${target}" in ${weekName} (${hint})` }];
    }
    if (named === self) {
      return [
        { ...at, message: `"${target}" is this step itself; name an earlier step of ${weekName}` },
      ];
    }
    if (compare(named.order, self.order) > 0) {
      return [
        {
          ...at,
          message: `step "${target}" is sent after this one, so it cannot be done yet; name an earlier step`,
        },
      ];
    }
    return [];
  });
}

/** With `schedule.window` set, nothing may be timed outside it. */
function windowFindings(data: unknown, step: unknown, path: Path): Finding[] {
  const window = propertyOf(propertyOf(data, 'schedule'), 'window');
  const from = minutes(propertyOf(window, 'from'));
  const to = minutes(propertyOf(window, 'to'));
  const at = propertyOf(step, 'at');
  const time = minutes(at);
  if (from === undefined || to === undefined || time === undefined || insideWindow(time, from, to))
    return [];
  const range = `${String(propertyOf(window, 'from'))} to ${String(propertyOf(window, 'to'))}`;
  return [
    { path: [...path, 'at'], message: `${String(at)} is outside schedule.window (${range})` },
  ];
}

/** An assignment is due in the same week, on or after the day its email goes out. */
function dueFindings(step: unknown, path: Path): Finding[] {
  const due = propertyOf(propertyOf(propertyOf(step, 'email'), 'assignment'), 'due');
  const dueDay = dayIndex(due);
  const day = propertyOf(step, 'day');
  const sentDay = dayIndex(day);
  if (dueDay === undefined || sentDay === undefined || dueDay >= sentDay) return [];
  return [
    {
      path: [...path, 'email', 'assignment', 'due'],
      message: `${String(due)} is before the step's day (${String(day)}); an assignment is due on or after the day it is sent, in the same week`,
    },
  ];
}

function dayIndex(day: unknown): number | undefined {
  const index = dayNames.indexOf(day as (typeof dayNames)[number]);
  return index === -1 ? undefined : index;
}

/** Minutes since midnight of a valid "HH:MM", else undefined (the schema reports bad times). */
function minutes(time: unknown): number | undefined {
  if (typeof time !== 'string') return undefined;
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(time);
  return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}

/** Both ends included; a window such as 22:00 to 06:00 runs over midnight. */
function insideWindow(time: number, from: number, to: number): boolean {
  return from <= to ? time >= from && time <= to : time >= from || time <= to;
}

function compare(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}

/**
 * Fields an intake question may not set: who and where the learner is, and their manager, come
 * from the cohort file; a welcome reply must not change where their mail goes or when.
 */
const fixedFields = [
  'email',
  'first_name',
  'last_name',
  'time_zone',
  'organisation',
  'manager_email',
  'manager_name',
  'start_date',
  'cohort',
  'share_with_manager',
  'language',
  'manager_language',
];

/** Fields whose value is a list: a reply may pick several answers. */
export const listFields = ['barriers', 'goals'];

/**
 * Intake questions: each sets a field the matcher can use, each field once; `role`, `barriers`
 * and `goals` take slugs, `confidence` a number from 1 to 5; answers differ from each other.
 */
function intakeFindings(data: unknown, lineOf: (path: Path) => number): Finding[] {
  const findings: Finding[] = [];
  const seen = new Map<string, number>();
  listOf(data, 'intake').forEach((question, q) => {
    const field = propertyOf(question, 'field');
    const at = (...rest: (string | number)[]): Path => ['intake', q, ...rest];
    if (typeof field !== 'string') return; // the schema reports it
    if (fixedFields.includes(field)) {
      findings.push({
        path: at('field'),
        pointAt: 'value',
        message:
          `"${field}" comes from the cohort file and cannot be asked; ask about a field the ` +
          'matcher reads, such as role, confidence, barriers, goals or a free field',
      });
    }
    const first = seen.get(field);
    if (first !== undefined)
      findings.push({
        path: at('field'),
        pointAt: 'value',
        message: `"${field}" is asked twice (also on line ${lineOf(['intake', first, 'field'])}); ask each field once`,
      });
    else seen.set(field, q);
    const scale = propertyOf(question, 'scale');
    if (field === 'confidence' && scale !== undefined) {
      const min = propertyOf(scale, 'min');
      const max = propertyOf(scale, 'max');
      if (typeof min === 'number' && typeof max === 'number' && (min < 1 || max > 5))
        findings.push({
          path: at('scale'),
          message: `confidence is a whole number from 1 to 5; a scale from ${min} to ${max} would store values the matcher cannot compare`,
        });
    }
    if (field === 'confidence' && propertyOf(question, 'answers') !== undefined) {
      listOf(question, 'answers').forEach((answer, a) => {
        const value = propertyOf(answer, 'value');
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 5)
          findings.push({
            path: at('answers', a, 'value'),
            pointAt: 'value',
            message: 'confidence is a whole number from 1 to 5',
          });
      });
    }
    const values = new Map<string, number>();
    listOf(question, 'answers').forEach((answer, a) => {
      const value = propertyOf(answer, 'value');
      // Anything but a slug or a number is the schema's to report.
      if (typeof value !== 'string' && typeof value !== 'number') return;
      const key = String(value);
      const before = values.get(key);
      if (before !== undefined)
        findings.push({
          path: at('answers', a, 'value'),
          pointAt: 'value',
          message: `${key} is offered twice (also on line ${lineOf(at('answers', before, 'value'))}); each answer needs its own value`,
        });
      else values.set(key, a);
    });
  });
  return findings;
}
