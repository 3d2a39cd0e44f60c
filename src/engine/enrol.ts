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
import { effectivePreference, type LanguagePreference } from '../language/languages.js';
import { offeredLanguages, type Sequence } from '../sequence/schema.js';

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
   * Inserts or updates by e-mail address; returns the manager's id. The language replaces a
   * stored one only when the file gave it (`given`); an existing manager's zone changes only when
   * `timeZone` was given for them (`explicit`), never by a fallback.
   */
  saveManager(manager: {
    email: string;
    name: string;
    timeZone: string;
    language: { value: LanguagePreference; given: boolean };
    explicit: boolean;
  }): Promise<number>;
  /** The zone stored for an organisation (by name), if one was ever given. */
  organisationTimeZone(organisation: string): Promise<string | undefined>;
  /**
   * Inserts or updates by e-mail address; returns the learner's id and whether it was new. The
   * language is handled as the manager's. `organisationLanguage`, when set, becomes the default
   * of the learner's organisation (`gym enrol --language`).
   */
  saveLearner(
    profile: CohortRow,
    /** Null when the row's manager was erased at their request. */
    managerId: number | null,
    language: { value: LanguagePreference; given: boolean },
    organisationLanguage: LanguagePreference | undefined,
  ): Promise<{ id: number; created: boolean }>;
  /** The default language stored for an organisation (by its name), if any. */
  organisationLanguage(organisation: string): Promise<LanguagePreference | undefined>;
  /**
   * The learners of these addresses who are already known, each with the programme they are
   * following now (active or paused), if any; keyed by the address as given.
   */
  knownLearners(emails: readonly string[]): Promise<Map<string, KnownLearner>>;
  /** Stores the version if it is new; returns its id. */
  saveProgrammeVersion(programme: ProgrammeVersion): Promise<number>;
  createEnrolment(enrolment: {
    learnerId: number;
    versionId: number;
    cohort: string | undefined;
    startsOn: string;
    matchReason: string;
    /** What the programme's mail is in for this learner. */
    language: LanguagePreference;
    /** The plan's rows in order: the welcome, the programme's steps, the programme end. */
    deliveries: readonly (ScheduledDelivery | JourneyDelivery)[];
  }): Promise<number>;
}

export interface KnownLearner {
  readonly learnerId: number;
  readonly open: { readonly programmeId: string; readonly startsOn: string } | undefined;
}

/**
 * How many rows are looked up together. A batch's lookups are three statements instead of three
 * a row, and each row is then planned with no await in between, so its plan is garbage before
 * the next collection: memory stays flat however long the file (#16: 100,000 rows).
 */
const lookupBatch = 500;

async function* batchesOf<T>(
  items: Iterable<T> | AsyncIterable<T>,
  size: number,
): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
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
  /** Set when the row's manager was erased: the learner enrols without a manager. */
  readonly managerNotice?: string | undefined;
  /** The first step, on the learner's clock, for a new enrolment. */
  readonly firstStep: string | undefined;
  readonly deliveries: number;
  /** What the learner's mail is in: their preference, as far as the programme offers it. */
  readonly language: LanguagePreference;
  /** Set when the programme does not offer the language the learner asked for. */
  readonly languageNotice: string | undefined;
}

export interface EnrolOptions {
  readonly dryRun: boolean;
  /** The organisation's holidays (YYYY-MM-DD) for everyone in this cohort. */
  readonly holidays: ReadonlySet<string>;
  /**
   * The language of learners and managers whose row gives none (`gym enrol --language`), recorded
   * as their organisation's default for later files. Without it, the organisation's stored
   * default, or English.
   */
  readonly defaultLanguage?: LanguagePreference | undefined;
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
    // Every programme of the import is stored, chosen or not: a learner's intake answers may
    // move them to any of them before week 1 (src/engine/replies.ts reads the latest of each).
    if (!options.dryRun)
      for (const programme of programmes)
        if (!versionIds.has(programme.hash))
          versionIds.set(programme.hash, await tx.saveProgrammeVersion(programme));
    // Each organisation's stored default language, read once (`gym enrol --language` sets it).
    const organisationDefaults = new Map<string, LanguagePreference | undefined>();
    const zoneNoticed = new Set<string>();
    // One look-up per organisation and import, not per row: a cohort is one organisation or few.
    const organisationZones = new Map<string, string | undefined>();
    for await (const batch of batchesOf(rows, lookupBatch)) {
      const emails = batch.map((row) => row.email);
      // Managers' addresses too: an erased manager is never recreated by a re-import.
      const suppressions = await tx.suppressionsOf([
        ...emails,
        ...new Set(batch.map((row) => row.manager_email)),
      ]);
      const known = await tx.knownLearners(emails);
      if (options.defaultLanguage === undefined) {
        for (const organisation of new Set(batch.map((row) => row.organisation))) {
          if (organisation && !organisationDefaults.has(organisation))
            organisationDefaults.set(organisation, await tx.organisationLanguage(organisation));
        }
      }
      for (const next of batch) {
        const { row, match, programme, deliveries, journey } = plan(next);
        // The learner's language: theirs, else their organisation's, else English; then what the
        // programme offers of it. A fallback is said, with the line, never silent.
        const organisationDefault =
          options.defaultLanguage ??
          (row.organisation ? organisationDefaults.get(row.organisation) : undefined);
        const wanted = row.language ?? organisationDefault ?? 'en';
        const { preference: language, notice: languageNotice } = effectivePreference(
          wanted,
          offeredLanguages(programme.sequence),
          programme.sequence.id,
        );
        const languages = { language, languageNotice };
        // Each person's "no", if any, is read with their batch.
        const address = normaliseAddress(row.email);
        const no = suppressionFor(
          suppressions.filter((s) => s.address === address),
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
            ...languages,
          });
          options.onProgress?.(done, total);
          continue;
        }
        // A manager erased at their request (`gym manager erase`) is not recreated and gets
        // nothing; their people still enrol, without a manager, and the import says so.
        const managerErased = suppressions.some(
          (s) => s.address === normaliseAddress(row.manager_email) && s.how === 'erasure',
        );
        const manager = managerErased
          ? { zone: row.time_zone, notice: undefined }
          : await managerZone(tx, row, zoneNoticed, organisationZones);
        const managerNotice = managerErased
          ? 'the manager on this line was erased at their request: not recreated, they get no digest; enrolled without a manager'
          : undefined;
        const save = async () => {
          const managerId = managerErased
            ? null
            : await tx.saveManager({
                email: row.manager_email,
                name: row.manager_name,
                timeZone: manager.zone,
                explicit: manager.notice === undefined,
                language: {
                  value: row.manager_language ?? organisationDefault ?? 'en',
                  given: row.manager_language !== undefined,
                },
              });
          const saved = await tx.saveLearner(
            row,
            managerId,
            { value: wanted, given: row.language !== undefined },
            options.defaultLanguage,
          );
          return saved.id;
        };
        const open = known.get(row.email)?.open;
        const base = {
          line: row.line,
          email: row.email,
          reason: match.reason,
          ...languages,
          ...(manager.notice ? { zoneNotice: manager.notice } : {}),
          ...(managerNotice ? { managerNotice } : {}),
        };
        if (open !== undefined) {
          // A dry run reads what is there and writes nothing.
          if (!options.dryRun) await save();
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
          const learnerId = await save();
          let versionId = versionIds.get(programme.hash);
          if (versionId === undefined) {
            versionId = await tx.saveProgrammeVersion(programme);
            versionIds.set(programme.hash, versionId);
          }
          await tx.createEnrolment({
            learnerId,
            versionId,
            cohort: row.cohort,
            startsOn: row.start_date,
            matchReason: match.reason,
            language,
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
