/**
 * The one place that knows how a delivery's `step_key` is spelled. The planner gives each step of
 * the programme a key (`w03-kickoff`); an invite's update is a row of its own (`w03-practice.r2`,
 * SEQUENCE 2), its withdrawal another (`w03-practice.cancel`); an acknowledgement is keyed by the
 * reply it answers (`ack-17`). The database's unique (enrolment, step_key) index makes each of
 * them happen once, which is why they are keys and not columns.
 */

/** `w03-` : every plan key of that week starts so. */
export function weekPrefix(week: number): string {
  return `w${String(week).padStart(2, '0')}-`;
}

/**
 * The key the planner gives a step.
 *
 * @example planKey(3, 'kickoff') // 'w03-kickoff'
 */
export function planKey(week: number, stepId: string): string {
  return `${weekPrefix(week)}${stepId}`;
}

/** What separates an update's or a withdrawal's suffix from the plan key. */
const updateSuffix = '.r';
const cancelSuffix = '.cancel';

/** The row of an invite's update: `w03-practice.r2` is SEQUENCE 2 of `w03-practice`. */
export function updateKey(stepKey: string, sequence: number): string {
  return `${stepKey}${updateSuffix}${sequence}`;
}

/** The plan key an update row updates (`w03-practice` for `w03-practice.r2`), else undefined. */
export function updatedKeyOf(stepKey: string): string | undefined {
  return /^(.+)\.r\d+$/.exec(stepKey)?.[1];
}

/** For SQL: `like` patterns of a plan key's update rows, and of any derived row. */
export const sqlPatterns = {
  /** Appended to a plan key's column: `step_key like d.step_key || '.r%'`. */
  updatesOf: `${updateSuffix}%`,
  /** Appended to a plan key's column: `d.step_key || '.cancel'`. */
  cancel: cancelSuffix,
  /** Any update or withdrawal: plan keys never contain a dot. */
  derived: '%.%',
} as const;

/**
 * The plan's own key of a delivery: `w03-practice` for itself, its update `.r2` and its `.cancel`.
 */
export function baseKeyOf(stepKey: string): string {
  return stepKey.replace(/\.(cancel|r\d+)$/, '');
}

/** The programme's step id a key names: `practice` for `w03-practice.r2`. */
export function stepIdOf(stepKey: string): string {
  return baseKeyOf(stepKey).replace(/^w\d+-/, '');
}

/** The acknowledgement of one inbound message: at most one per reply. */
export function acknowledgementKey(inboundId: number): string {
  return `ack-${inboundId}`;
}
