import { profileValue, type LearnerProfile } from '../enrol/profile.js';
import { didYouMean } from '../sequence/did-you-mean.js';
import { listInWords } from '../sequence/problems.js';
import type { Sequence } from '../sequence/schema.js';

/** What the matcher reads of a programme: a whole `Sequence` will do. */
export type ProgrammeAudience = Pick<Sequence, 'id' | 'audience'>;

type Rule = Sequence['audience']['match'][string];
type Scalar = string | number | boolean;

/** How one programme fared against a learner's profile. */
export interface Candidate {
  id: string;
  priority: number;
  /** Whether every rule of its `audience.match` holds (a programme with no rules always matches). */
  matched: boolean;
  /** One line per rule, in the order the programme lists them: `role press-officer matched`. */
  because: string[];
}

/** The matcher's choice for one learner, and why, for `gym enrol --dry-run` and the records. */
export interface Match {
  /** The chosen programme; undefined only when nothing matches and no programme is the default. */
  programmeId: string | undefined;
  /** One line a trainer can read: `role press-officer matched; priority 20 beat digital-foundations 0`. */
  reason: string;
  /** Every programme, highest priority first, then by id. */
  candidates: Candidate[];
}

/**
 * Picks the programme for a learner. A programme matches when every rule of its
 * `audience.match` holds; among the matches the highest `priority` wins, and a tie goes to the
 * id first in alphabetical order. When nothing matches, the programme marked `default: true`
 * is chosen (if several are, by the same order). The result does not depend on the order of
 * `programmes`, and it always says why.
 *
 * Rules name profile fields, known or free (`role`, `confidence`, `barriers`, `pay_band`). A
 * value rule holds when the field equals it (ignoring case), a list rule when the field equals
 * any item, and for list fields such as `barriers` when they share an item; `{ min, max }` holds
 * for a number in range, including a number written in a free field. A field the learner has not
 * given fails the rule.
 *
 * @example
 * matchProgramme(profile, programmes).reason
 * // 'role press-officer matched; priority 20 beat digital-foundations 0'
 */
export function matchProgramme(
  profile: LearnerProfile,
  programmes: readonly ProgrammeAudience[],
): Match {
  const judged = [...programmes]
    .sort(byPriorityThenId)
    .map((programme) => judge(profile, programme));
  const candidates = judged.map(({ candidate }) => candidate);
  const winner = judged.find(({ candidate }) => candidate.matched);
  if (winner !== undefined)
    return { programmeId: winner.candidate.id, reason: reasonForMatch(winner, judged), candidates };

  const fallback = judged.find(({ isDefault }) => isDefault);
  if (fallback !== undefined)
    return {
      programmeId: fallback.candidate.id,
      reason: `no programme's rules matched (${failures(judged)}); default programme ${fallback.candidate.id}`,
      candidates,
    };

  const reason =
    programmes.length === 0
      ? 'no programmes to choose from'
      : `no programme matches and none is marked default: true (${failures(judged)})`;
  return { programmeId: undefined, reason, candidates };
}

function byPriorityThenId(a: ProgrammeAudience, b: ProgrammeAudience): number {
  if (a.audience.priority !== b.audience.priority) return b.audience.priority - a.audience.priority;
  // Code-unit order, not localeCompare: the choice must not depend on the machine's locale.
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

interface Outcome {
  holds: boolean;
  text: string;
}

interface Judged {
  candidate: Candidate;
  isDefault: boolean;
  hasRules: boolean;
  outcomes: Outcome[];
}

function judge(profile: LearnerProfile, programme: ProgrammeAudience): Judged {
  const outcomes = Object.entries(programme.audience.match).map(([field, rule]) =>
    evaluate(field, rule, profileValue(profile, field)),
  );
  const hasRules = outcomes.length > 0;
  return {
    candidate: {
      id: programme.id,
      priority: programme.audience.priority,
      matched: outcomes.every((outcome) => outcome.holds),
      because: hasRules ? outcomes.map((o) => o.text) : ['no audience rules: suits everyone'],
    },
    isDefault: programme.audience.default,
    hasRules,
    outcomes,
  };
}

function reasonForMatch(winner: Judged, judged: readonly Judged[]): string {
  const { id, priority } = winner.candidate;
  const parts: string[] = [];
  if (winner.hasRules) parts.push(...winner.outcomes.map((outcome) => outcome.text));
  else {
    const others = judged.filter((j) => j !== winner);
    if (others.length > 0 && others.every((other) => !other.candidate.matched))
      parts.push(`no programme's rules matched (${failures(others)})`);
    parts.push(winner.isDefault ? `default programme ${id}` : `${id} has no audience rules`);
  }
  const beaten = judged.filter((j) => j !== winner && j.candidate.matched);
  if (beaten.length > 0) {
    const names = beaten.map(({ candidate }) =>
      candidate.priority === priority
        ? `${candidate.id} ${candidate.priority} (same priority; ${id} is first by id)`
        : `${candidate.id} ${candidate.priority}`,
    );
    parts.push(`priority ${priority} beat ${listInWords(names)}`);
  }
  return parts.join('; ');
}

/** `a: role teacher is not press-officer; b: confidence not given`, for the programmes that failed. */
function failures(judged: readonly Judged[]): string {
  return judged
    .filter(({ candidate }) => !candidate.matched)
    .map(({ candidate, outcomes }) => {
      const failed = outcomes.filter((outcome) => !outcome.holds).map((outcome) => outcome.text);
      return `${candidate.id}: ${failed.join(' and ')}`;
    })
    .join('; ');
}

type ProfileValue = ReturnType<typeof profileValue>;

// Array.isArray widens a readonly list to any[]; this keeps the item type.
function isList(value: ProfileValue): value is readonly string[] {
  return Array.isArray(value);
}

function evaluate(field: string, rule: Rule, value: ProfileValue): Outcome {
  if (value === undefined || value === '' || (isList(value) && value.length === 0))
    return { holds: false, text: `${field} not given` };
  if (typeof rule === 'object' && !Array.isArray(rule)) return inRange(field, rule, value);

  const wanted: readonly Scalar[] = Array.isArray(rule) ? rule : [rule];
  const alternatives = listInWords(wanted.map(String), 'or');
  if (isList(value)) {
    const shared = value.filter((item) => wanted.some((w) => sameValue(item, w)));
    return shared.length > 0
      ? { holds: true, text: `${field} ${listInWords(shared)} matched` }
      : { holds: false, text: `${field} ${value.join(', ')} do not include ${alternatives}` };
  }
  const scalar: Scalar = value;
  if (wanted.some((w) => sameValue(scalar, w)))
    return { holds: true, text: `${field} ${String(scalar)} matched` };
  const near =
    typeof scalar === 'string'
      ? didYouMean(
          scalar,
          wanted.filter((w) => typeof w === 'string'),
        )
      : undefined;
  const hint = near === undefined ? '' : ` (did you mean ${near}?)`;
  return { holds: false, text: `${field} ${String(scalar)} is not ${alternatives}${hint}` };
}

function inRange(
  field: string,
  rule: { min?: number; max?: number },
  value: ProfileValue,
): Outcome {
  const number = numberOf(value);
  if (number === undefined)
    return {
      holds: false,
      text: `${field} ${Array.isArray(value) ? value.join(', ') : String(value)} is not a number`,
    };
  const { min, max } = rule;
  if (min !== undefined && number < min)
    return { holds: false, text: `${field} ${number} is less than ${min}` };
  if (max !== undefined && number > max)
    return { holds: false, text: `${field} ${number} is more than ${max}` };
  const text =
    min !== undefined && max !== undefined
      ? `${field} ${min} ≤ ${number} ≤ ${max}`
      : min !== undefined
        ? `${field} ${number} ≥ ${min}`
        : `${field} ${number} ≤ ${String(max)}`;
  return { holds: true, text };
}

/** A number, or a number written as text in a free field (`' 3 '`); otherwise undefined. */
function numberOf(value: ProfileValue): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$/.test(value))
    return Number(value);
  return undefined;
}

const yesWords = ['yes', 'y', 'true', '1'];
const noWords = ['no', 'n', 'false', '0'];

/**
 * Whether a profile value equals a rule's value: text ignoring case and surrounding spaces,
 * numbers by value (a free field's `'3'` equals `3`), yes/no words as booleans.
 */
function sameValue(value: Scalar, wanted: Scalar): boolean {
  const text = (v: Scalar) => String(v).trim().toLowerCase().replace(/\s+/g, ' ');
  if (typeof wanted === 'number') return numberOf(value) === wanted;
  if (typeof wanted === 'boolean') {
    if (typeof value === 'boolean') return value === wanted;
    const word = text(value);
    return wanted ? yesWords.includes(word) : noWords.includes(word);
  }
  if (typeof value === 'boolean') return sameValue(wanted, value);
  return text(value) === text(wanted);
}
