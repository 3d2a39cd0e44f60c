import {
  describeSuppression,
  normaliseAddress,
  suppressionFor,
  type ConsentReader,
} from '../consent/suppression.js';
import type { CohortRow } from '../enrol/cohort-csv.js';
import { matchProgramme } from '../matcher/match.js';
import {
  planEnrolment,
  planProgrammeEnd,
  planWelcome,
  sendingSchedule,
  type JourneyDelivery,
  type ScheduledDelivery,
} from '../planner/index.js';
import type { Sequence } from '../sequence/schema.js';

/** A programme as loaded and versioned: the definition and the hash of its content. */
export interface ProgrammeVersion {
  readonly sequence: Sequence;
  readonly hash: string;
}

/**
 * What enrolling needs from storage; `src/db/enrolment-store.ts` implements it over Kysely. It
 * reads suppressions: nobody who said no is enrolled again.
 */
export interface EnrolmentStore extends ConsentReader {
  /** Runs `work` in one transaction: a cohort is imported whole or not at all. */
  transaction<T>(work: (store: EnrolmentStore) => Promise<T>): Promise<T>;
  /**
   * Inserts or updates by e-mail address; returns the manager's id. An existing manager's zone
   * changes only when `timeZone` was given for them (`explicit`), never by a fallback.
   */
  saveManager(manager: {
    email: string;
    name: string;
    timeZone: string;
    explicit: boolean;
  }): Promise<number>;
  /** The zone stored for an organisation (by name), if one was ever given. */
  organisationTimeZone(organisation: string): Promise<string | undefined>;
  /** Inserts or updates by e-mail address; returns the learner's id and whether it was new. */
  saveLearner(profile: CohortRow, managerId: number): Promise<{ id: number; created: boolean }>;
  findLearnerId(email: string): Promise<number | undefined>;
  /** The programme a learner is following now (active or paused), if any. */
  openEnrolment(learnerId: number): Promise<{ programmeId: string; startsOn: string } | undefined>;
  /** Stores the version if it is new; returns its id. */
  saveProgrammeVersion(programme: ProgrammeVersion): Promise<number>;
  createEnrolment(enrolment: {
    learnerId: number;
    versionId: number;
    cohort: string | undefined;
    startsOn: string;
    matchReason: string;
    /** The plan's rows in order: the welcome, the programme's steps, the programme end. */
    deliveries: readonly (ScheduledDelivery | JourneyDelivery)[];
  }): Promise<number>;
}

export type EnrolAction =
  /** A new enrolment, with its plan. */
  | 'enrolled'
  /** Already following a programme: the profile is updated, the programme and plan are kept. */
  | 'kept'
  /** Dry run: what would happen. */
  | 'would-enrol'
  | 'would-keep'
  /** The person said no (unsubscribed, stopped this programme, bounced): not enrolled, not touched. */
  | 'skipped';

export interface EnrolResult {
  readonly line: number;
  readonly email: string;
  readonly action: EnrolAction;
  readonly programmeId: string;
  /** Why the matcher chose it (for `kept`: why it would choose it today). */
  readonly reason: string;
  /** Set when the learner stays on a programme other than the one that matches today. */
  readonly notice: string | undefined;
  /**
   * Set, once per manager and import, when neither the file nor the organisation gives the
   * manager's zone: what was used instead and how to set it.
   */
  readonly zoneNotice?: string | undefined;
  /** The first step, on the learner's clock, for a new enrolment. */
  readonly firstStep: string | undefined;
  readonly deliveries: number;
}

export interface EnrolOptions {
  readonly dryRun: boolean;
  /** The organisation's holidays (YYYY-MM-DD) for everyone in this cohort. */
  readonly holidays: ReadonlySet<string>;
  /**
   * The moment of enrolment: the welcome goes the next learner's morning, or on the working day
   * before week 1 if that is sooner (see `planWelcome`). Without it, on that working day.
   */
  readonly now?: Date | undefined;
  /** Called after each row, for a progress display on large files. */
  readonly onProgress?: (done: number, total: number) => void;
  /** How many rows there are, when `rows` is a stream (for `onProgress`). */
  readonly total?: number;
  /**
   * Takes each result as it comes instead of keeping them all (the returned list is then empty):
   * a dry run of a large cohort prints as it goes and holds nothing.
   */
  readonly onResult?: (result: EnrolResult) => void;
}

/** A row that no programme matches (and no programme is the default). */
export class NoProgrammeMatches extends Error {
  constructor(
    readonly line: number,
    readonly email: string,
    readonly reason: string,
  ) {
    super(`line ${line}: ${email}: ${reason}`);
  }
}

/**
 * Enrols a checked cohort (see `readCohortCsv`: only a file without problems comes here): each
 * learner gets the programme that fits, with the reason, and the plan of that programme in their
 * zone as pending deliveries. Re-importing the same file updates profiles and managers and adds
 * no second enrolment: a learner already on a programme keeps it (and its plan), and is told
 * when a different one would match now. All rows in one transaction: all or nothing (a row that
 * no programme matches throws NoProgrammeMatches and rolls the transaction back).
 *
 * `rows` may be a stream (see `cohortRows`): each row is matched and planned when its turn
 * comes, so memory holds one plan at a time, not a cohort's.
 */
export async function enrolCohort(
  store: EnrolmentStore,
  rows: Iterable<CohortRow> | AsyncIterable<CohortRow>,
  programmes: readonly ProgrammeVersion[],
  options: EnrolOptions,
): Promise<EnrolResult[]> {
  const sequences = programmes.map((p) => p.sequence);
  const plan = (row: CohortRow) => {
    const match = matchProgramme(row, sequences);
    if (match.programmeId === undefined)
      throw new NoProgrammeMatches(row.line, row.email, match.reason);
    const programme = programmes.find((p) => p.sequence.id === match.programmeId)!;
    const steps = planEnrolment({
      sequence: programme.sequence,
      startsOn: row.start_date,
      zone: row.time_zone,
      holidays: options.holidays,
    });
    const deliveries = sendingSchedule(steps);
    const around = {
      sequence: programme.sequence,
      zone: row.time_zone,
      holidays: options.holidays,
      plan: steps,
      now: options.now,
    };
    // The welcome and the programme end are rows of the plan like its steps: unique per
    // enrolment, so a re-import (which keeps the enrolment) never sends either twice.
    const journey = { welcome: planWelcome(around), end: planProgrammeEnd(around) };
    return { row, match, programme, deliveries, journey };
  };
  const total = options.total ?? (Array.isArray(rows) ? rows.length : 0);

  return store.transaction(async (tx) => {
    const kept: EnrolResult[] = [];
    let done = 0;
    const results = {
      push(result: EnrolResult) {
        done += 1;
        if (options.onResult === undefined) kept.push(result);
        else options.onResult(result);
      },
    };
    const versionIds = new Map<string, number>();
    const zoneNoticed = new Set<string>();
    // One look-up per organisation and import, not per row: a cohort is one organisation or few.
    const organisationZones = new Map<string, string | undefined>();
    for await (const next of rows) {
      const { row, match, programme, deliveries, journey } = plan(next);
      // One row at a time, as the file streams: its person's "no", if any, is read with it.
      const address = normaliseAddress(row.email);
      const no = suppressionFor(
        (await tx.suppressionsOf([row.email])).filter((s) => s.address === address),
        { kind: 'programme', programmeId: programme.sequence.id },
      );
      if (no !== undefined) {
        // Dry run or not: a "no" is honoured across re-imports until the person lifts it.
        results.push({
          line: row.line,
          email: row.email,
          reason: match.reason,
          action: 'skipped',
          programmeId: programme.sequence.id,
          notice: `${describeSuppression(no)}; skipped`,
          firstStep: undefined,
          deliveries: 0,
        });
        options.onProgress?.(done, total);
        continue;
      }
      const manager = await managerZone(tx, row, zoneNoticed, organisationZones);
      // A dry run reads what is there and writes nothing.
      const learnerId = options.dryRun
        ? await tx.findLearnerId(row.email)
        : (
            await tx.saveLearner(
              row,
              await tx.saveManager({
                email: row.manager_email,
                name: row.manager_name,
                timeZone: manager.zone,
                explicit: manager.notice === undefined,
              }),
            )
          ).id;
      const open = learnerId === undefined ? undefined : await tx.openEnrolment(learnerId);
      const base = {
        line: row.line,
        email: row.email,
        reason: match.reason,
        ...(manager.notice ? { zoneNotice: manager.notice } : {}),
      };
      if (open !== undefined) {
        const notice =
          open.programmeId === match.programmeId
            ? undefined
            : `stays on ${open.programmeId} (started ${open.startsOn}); ${match.programmeId} would match now`;
        results.push({
          ...base,
          action: options.dryRun ? 'would-keep' : 'kept',
          programmeId: open.programmeId,
          notice,
          firstStep: undefined,
          deliveries: 0,
        });
      } else if (options.dryRun) {
        results.push({
          ...base,
          action: 'would-enrol',
          programmeId: programme.sequence.id,
          notice: undefined,
          firstStep: deliveries.find((d) => d.kind === 'email')?.local,
          deliveries: deliveries.length,
        });
      } else {
        let versionId = versionIds.get(programme.hash);
        if (versionId === undefined) {
          versionId = await tx.saveProgrammeVersion(programme);
          versionIds.set(programme.hash, versionId);
        }
        await tx.createEnrolment({
          learnerId: learnerId!,
          versionId,
          cohort: row.cohort,
          startsOn: row.start_date,
          matchReason: match.reason,
          deliveries: [journey.welcome, ...deliveries, journey.end],
        });
        results.push({
          ...base,
          action: 'enrolled',
          programmeId: programme.sequence.id,
          notice: undefined,
          firstStep: deliveries.find((d) => d.kind === 'email')?.local,
          deliveries: deliveries.length,
        });
      }
      options.onProgress?.(done, total);
    }
    return kept;
  });
}

/**
 * The zone a row's manager gets: their own column, else the organisation's (the row's column or
 * the one stored from an earlier import). With neither, the learner's zone is used, and said so
 * once per manager (`notice`): a manager's digests never follow a learner's clock silently.
 */
async function managerZone(
  store: EnrolmentStore,
  row: CohortRow,
  noticed: Set<string>,
  organisationZones: Map<string, string | undefined>,
): Promise<{ zone: string; notice: string | undefined }> {
  if (row.organisation_time_zone !== undefined)
    organisationZones.set(row.organisation, row.organisation_time_zone);
  if (!organisationZones.has(row.organisation))
    organisationZones.set(row.organisation, await store.organisationTimeZone(row.organisation));
  const given = row.manager_time_zone ?? organisationZones.get(row.organisation);
  if (given !== undefined) return { zone: given, notice: undefined };
  const first = !noticed.has(row.manager_email);
  noticed.add(row.manager_email);
  return {
    zone: row.time_zone,
    notice: first
      ? `manager ${row.manager_email} has no time zone (no manager_time_zone or organisation_time_zone): a new manager's digests follow ${row.time_zone}, ${row.email}'s zone; add a manager_time_zone column to set it`
      : '',
  };
}
