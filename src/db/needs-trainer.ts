import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';

/**
 * A learner's reply that asks for a person: "too hard", "how do I…?", or a "resume" after their
 * programme was stopped (#12 §2). The reply handler records each as a progress event with
 * `data.flagged`; `gym inbox` and `gym report` list them with the learner's own words.
 */
export interface NeedsTrainer {
  readonly learnerId: number;
  readonly name: string;
  readonly email: string;
  /** `too_hard`, `help`, or `resume` (after a stop). */
  readonly kind: string;
  readonly week: number | null;
  /** What they wrote, as the reader kept it (quoted history and signatures removed). */
  readonly words: string;
  readonly occurredAt: Date;
}

/** Flagged replies since `since`, oldest first (at most `limit`), optionally of one cohort. */
export async function needsTrainer(
  db: Kysely<Database> | Transaction<Database>,
  options: { since: Date; cohort?: string | undefined; limit?: number },
): Promise<NeedsTrainer[]> {
  const rows = await db
    .selectFrom('progress_events')
    .innerJoin('enrolments', 'enrolments.id', 'progress_events.enrolment_id')
    .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
    .select([
      'learners.id as learnerId',
      'learners.first_name',
      'learners.last_name',
      'learners.email',
      'progress_events.kind',
      sql<string | null>`progress_events.data ->> 'week'`.as('week'),
      sql<string | null>`progress_events.data ->> 'text'`.as('words'),
      'progress_events.occurred_at as occurredAt',
    ])
    .where(sql<boolean>`progress_events.data ->> 'flagged' = 'true'`)
    .where('progress_events.occurred_at', '>=', options.since)
    .$if(options.cohort !== undefined, (q) => q.where('enrolments.cohort', '=', options.cohort!))
    .orderBy('progress_events.occurred_at')
    .orderBy('progress_events.id')
    .limit(options.limit ?? 500)
    .execute();
  return rows.map((r) => {
    const week = r.week === null ? null : Number(r.week);
    return {
      learnerId: r.learnerId,
      name: `${r.first_name} ${r.last_name}`.trim(),
      email: r.email,
      kind: r.kind,
      week: week !== null && Number.isInteger(week) ? week : null,
      words: r.words ?? '',
      occurredAt: r.occurredAt,
    };
  });
}

/** How a flagged reply reads in a list: "too hard", "asked for help", "asked to rejoin". */
export function needsTrainerLabel(kind: string): string {
  if (kind === 'too_hard') return 'finds it too hard';
  if (kind === 'help') return 'asked for help';
  if (kind === 'resume') return 'asked to rejoin after a stop';
  return kind;
}
