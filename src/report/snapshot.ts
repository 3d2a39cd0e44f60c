import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Database } from '../db/schema.js';
import { needsTrainer } from '../db/needs-trainer.js';
import {
  programmeShape,
  stuckWindowDays,
  type AssignmentSent,
  type EventData,
  type LearnerData,
  type ManagerData,
  type ProgrammeVersionData,
  type ReportData,
  type SentSummary,
} from './compute.js';

export type { ReportData } from './compute.js';

export interface ReadReportOptions {
  /** Only enrolments of this cohort. */
  readonly cohort?: string | undefined;
  readonly now: Date;
  /** Called after each page of learners: learners read so far, and how many there are. */
  readonly onProgress?: ((done: number, total: number) => void) | undefined;
}

/**
 * Learners are read in pages of this many enrolments; each page costs three queries whatever
 * its size, so 20,000 learners take about sixty queries, and the `in (...)` lists stay far below
 * PostgreSQL's limit of 65,535 parameters.
 */
const pageSize = 1000;

/**
 * The enrolments the report is about: each learner's latest enrolment (in the cohort, when one
 * is given). Earlier, finished enrolments are history, not a second row for the same person.
 */
function reportedEnrolments(
  db: Kysely<Database>,
  cohort: string | undefined,
): SelectQueryBuilder<Database, 'enrolments', object> {
  let query = db.selectFrom('enrolments').where((eb) =>
    eb.not(
      eb.exists(
        eb
          .selectFrom('enrolments as later')
          .select(sql<number>`1`.as('one'))
          .whereRef('later.learner_id', '=', 'enrolments.learner_id')
          .whereRef('later.id', '>', 'enrolments.id')
          .$if(cohort !== undefined, (q) => q.where('later.cohort', '=', cohort!)),
      ),
    ),
  );
  if (cohort !== undefined) query = query.where('enrolments.cohort', '=', cohort);
  return query;
}

/**
 * Reads what the report needs in a few set-based queries: the programme versions in use and the
 * managers once, then the learners page by page with, per page, one query each for what was
 * sent and what they replied. Nothing is read per learner.
 */
export async function readReportData(
  db: Kysely<Database>,
  options: ReadReportOptions,
): Promise<ReportData> {
  const { cohort, now, onProgress } = options;
  const enrolments = () => reportedEnrolments(db, cohort);

  const { total } = await enrolments()
    .select((eb) => eb.fn.countAll<number>().as('total'))
    .executeTakeFirstOrThrow();

  const versionRows = await db
    .selectFrom('sequence_versions')
    .innerJoin('sequences', 'sequences.id', 'sequence_versions.sequence_id')
    .select([
      'sequence_versions.id',
      'sequence_versions.sequence_id',
      'sequences.title',
      'sequence_versions.definition',
    ])
    .where('sequence_versions.id', 'in', enrolments().select('enrolments.sequence_version_id'))
    .execute();
  const programmes: ProgrammeVersionData[] = versionRows.map((v) => {
    const shape = programmeShape(v.definition);
    return {
      versionId: v.id,
      programmeId: v.sequence_id,
      title: v.title,
      weeks: shape.weeks,
      assignmentSteps: shape.assignmentSteps,
    };
  });
  // Narrows the deliveries read to the candidate assignment emails; compute matches each row to
  // its own version's step.
  const assignmentKeys = [
    ...new Set(programmes.flatMap((p) => p.assignmentSteps.map((s) => s.stepKey))),
  ];

  const learners: LearnerData[] = [];
  const sent: SentSummary[] = [];
  const assignmentsSent: AssignmentSent[] = [];
  const events: EventData[] = [];
  onProgress?.(0, Number(total));

  // Keyset pages by enrolment id: stable while the workers keep writing, and no OFFSET scans.
  let after = 0;
  for (;;) {
    const page = await enrolments()
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .select([
        'enrolments.id as enrolmentId',
        'learners.id as learnerId',
        'learners.first_name as firstName',
        'learners.last_name as lastName',
        'learners.email',
        'learners.status as learnerStatus',
        'learners.manager_id as managerId',
        'enrolments.sequence_version_id as versionId',
        'enrolments.cohort',
        'enrolments.starts_on as startsOn',
        'enrolments.status as enrolmentStatus',
        'enrolments.paused_until as pausedUntil',
      ])
      .where('enrolments.id', '>', after)
      .orderBy('enrolments.id')
      .limit(pageSize)
      .execute();
    if (page.length === 0) break;
    const ids = page.map((p) => p.enrolmentId);
    after = ids[ids.length - 1]!;
    learners.push(...page);

    const [sentRows, assignmentRows, eventRows] = await Promise.all([
      db
        .selectFrom('deliveries')
        .select([
          'enrolment_id as enrolmentId',
          sql<Date>`min(sent_at)`.as('firstSentAt'),
          sql<number>`max(week)`.as('lastWeek'),
          sql<number>`count(*) filter (where kind = 'email')`.as('emailsSent'),
        ])
        .where('enrolment_id', 'in', ids)
        .where('status', '=', 'sent')
        .where('method', '=', 'REQUEST')
        // The programme's own steps: the welcome is no week's work, the end no week at all.
        .where('kind', 'in', ['email', 'invite'])
        .groupBy('enrolment_id')
        .execute(),
      assignmentKeys.length === 0
        ? Promise.resolve([])
        : db
            .selectFrom('deliveries')
            .select([
              'enrolment_id as enrolmentId',
              'step_key as stepKey',
              'week',
              'sent_at as sentAt',
            ])
            .where('enrolment_id', 'in', ids)
            .where('status', '=', 'sent')
            .where('kind', '=', 'email')
            .where('method', '=', 'REQUEST')
            .where('step_key', 'in', assignmentKeys)
            .execute(),
      db
        .selectFrom('progress_events')
        .select([
          'enrolment_id as enrolmentId',
          'kind',
          sql<string | null>`data ->> 'week'`.as('week'),
          'occurred_at as occurredAt',
        ])
        // An RSVP is the calendar answering, not the learner writing back.
        .where('kind', '!=', 'rsvp')
        .where('enrolment_id', 'in', ids)
        .execute(),
    ]);
    sent.push(
      ...sentRows.map((s) => ({
        enrolmentId: s.enrolmentId,
        firstSentAt: s.firstSentAt,
        lastWeek: Number(s.lastWeek),
        emailsSent: Number(s.emailsSent),
      })),
    );
    for (const a of assignmentRows) {
      if (a.sentAt !== null) assignmentsSent.push({ ...a, sentAt: a.sentAt });
    }
    for (const e of eventRows) {
      const week = e.week === null ? null : Number(e.week);
      events.push({ ...e, week: week !== null && Number.isInteger(week) ? week : null });
    }
    onProgress?.(learners.length, Math.max(Number(total), learners.length));
  }

  const managerRows = await db
    .selectFrom('managers')
    .select((eb) => [
      'managers.id as managerId',
      'managers.name',
      'managers.email',
      eb
        .selectFrom('manager_digests')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('manager_digests.manager_id', '=', 'managers.id')
        .where('manager_digests.status', '=', 'sent')
        .as('digestsSent'),
      eb
        .selectFrom('manager_replies')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('manager_replies.manager_id', '=', 'managers.id')
        .as('replies'),
      eb
        .selectFrom('manager_replies')
        .select((sub) => sub.fn.max('manager_replies.occurred_at').as('last'))
        .whereRef('manager_replies.manager_id', '=', 'managers.id')
        .as('lastEngagementAt'),
    ])
    .where(
      'managers.id',
      'in',
      enrolments()
        .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
        .select('learners.manager_id')
        .where('learners.manager_id', 'is not', null)
        .$narrowType<{ manager_id: number }>(),
    )
    .execute();
  const managers: ManagerData[] = managerRows.map((m) => ({
    managerId: m.managerId,
    name: m.name,
    email: m.email,
    digestsSent: Number(m.digestsSent ?? 0),
    replies: Number(m.replies ?? 0),
    lastEngagementAt: m.lastEngagementAt ?? null,
  }));

  const flagged = await needsTrainer(db, {
    since: new Date(now.getTime() - stuckWindowDays * 24 * 60 * 60 * 1000),
    cohort,
  });
  return {
    now,
    cohort,
    programmes,
    learners,
    sent,
    assignmentsSent,
    events,
    managers,
    needsTrainer: flagged,
  };
}

/** The cohorts that have enrolments, with how many, for "no such cohort" messages. */
export async function cohortsOf(
  db: Kysely<Database>,
): Promise<{ cohort: string | null; enrolments: number }[]> {
  const rows = await db
    .selectFrom('enrolments')
    .select(['cohort', (eb) => eb.fn.countAll<number>().as('enrolments')])
    .groupBy('cohort')
    .orderBy('cohort')
    .execute();
  return rows.map((r) => ({ cohort: r.cohort, enrolments: Number(r.enrolments) }));
}
