import type { AcknowledgementPayload, ManagerReplyAction } from '../replies/types.js';
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { SuppressionHow, SuppressionScope } from '../consent/suppression.js';
import type { LanguagePreference } from '../language/languages.js';

/**
 * The typed shape of the database, kept in step with `migrations/`. Invariants (unique keys,
 * foreign keys, the allowed values of every status column) live in the schema itself; the
 * unions below mirror its check constraints.
 */
export interface Database {
  organisations: OrganisationsTable;
  managers: ManagersTable;
  learners: LearnersTable;
  sequences: SequencesTable;
  sequence_versions: SequenceVersionsTable;
  compiled_programmes: CompiledProgrammesTable;
  compiled_layouts: CompiledLayoutsTable;
  enrolments: EnrolmentsTable;
  deliveries: DeliveriesTable;
  progress_events: ProgressEventsTable;
  inbound_messages: InboundMessagesTable;
  mailbox_cursors: MailboxCursorsTable;
  manager_digests: ManagerDigestsTable;
  manager_replies: ManagerRepliesTable;
  send_budget: SendBudgetTable;
  send_quota: SendQuotaTable;
  worker_ticks: WorkerTicksTable;
  suppressions: SuppressionsTable;
  erasures: ErasuresTable;
  trainer_alerts: TrainerAlertsTable;
  housekeeping: HousekeepingTable;
  manager_introductions: ManagerIntroductionsTable;
}

/** `timestamptz`: read as a Date, written as a Date (or SQL such as `now()`). */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
/** `date`: a calendar day as `YYYY-MM-DD`, never shifted by the server's time zone. */
type CalendarDate = string;
/** `jsonb`. */
type Json<T> = ColumnType<T, T | string, T | string>;
type JsonWithDefault<T> = ColumnType<T, T | string | undefined, T | string>;

export const contactStatuses = ['active', 'bounced', 'unsubscribed'] as const;
export type ContactStatus = (typeof contactStatuses)[number];

export const enrolmentStatuses = ['active', 'paused', 'completed', 'stopped'] as const;
export type EnrolmentStatus = (typeof enrolmentStatuses)[number];

/**
 * An acknowledgement is the short threaded answer to a learner's reply; `welcome` and
 * `programme_end` are the plan's first and last rows (migration 0009).
 */
export const deliveryKinds = [
  'email',
  'invite',
  'acknowledgement',
  'welcome',
  'programme_end',
] as const;
export type DeliveryKind = (typeof deliveryKinds)[number];

/**
 * pending: waiting for its time; claimed: a worker holds it until `lease_until`; then one of the
 * outcomes of sending. `cancelled` is a row the learner's stop or skip took out of the plan.
 */
export const deliveryStatuses = [
  'pending',
  'claimed',
  'sent',
  'skipped',
  'missed',
  'failed',
  'cancelled',
] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export const progressEventKinds = [
  'done',
  'too_hard',
  'pause',
  'resume',
  'skip',
  'stop',
  'help',
  'rating',
  'reflection',
  'empty',
  'rsvp',
  /** Answers to the welcome email's intake questions (migration 0011). */
  'intake',
] as const;
export type ProgressEventKind = (typeof progressEventKinds)[number];

export const inboundClassifications = ['reply', 'auto_reply', 'bounce', 'rsvp', 'unknown'] as const;
export type InboundClassification = (typeof inboundClassifications)[number];

/**
 * received: stored, not yet acted on; parked: unmatched or unreadable, kept for `gym inbox`;
 * quarantined: held for review (a token that names another learner, a command without a token);
 * discarded: a trainer looked at it in `gym inbox` and let it go (the row and raw mail stay).
 */
export const inboundStatuses = [
  'received',
  'processed',
  'parked',
  'quarantined',
  'discarded',
] as const;
export type InboundStatus = (typeof inboundStatuses)[number];

export const digestStatuses = ['pending', 'claimed', 'sent', 'skipped', 'failed'] as const;
export type DigestStatus = (typeof digestStatuses)[number];

export interface OrganisationsTable {
  id: string;
  name: string;
  /** Days off (`YYYY-MM-DD`) on which nothing is scheduled. */
  holidays: JsonWithDefault<CalendarDate[]>;
  /** The language of people from this organisation who did not give one (migration 0010). */
  language: ColumnType<
    LanguagePreference | null,
    LanguagePreference | null | undefined,
    LanguagePreference | null
  >;
  /** The zone of a manager who has none of their own (migration 0009); null when not given. */
  time_zone: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
}

export interface ManagersTable {
  id: Generated<number>;
  email: string;
  name: string;
  time_zone: string;
  status: ColumnType<ContactStatus, ContactStatus | undefined, ContactStatus>;
  /** What the manager's digests are written in (migration 0010). */
  language: ColumnType<LanguagePreference, LanguagePreference | undefined, LanguagePreference>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface LearnersTable {
  id: Generated<number>;
  email: string;
  first_name: string;
  last_name: string;
  time_zone: string;
  role: string | null;
  organisation_id: string | null;
  manager_id: number | null;
  /** Free profile fields from the intake: confidence, barriers, goals, share_with_manager... */
  profile: JsonWithDefault<Record<string, unknown>>;
  status: ColumnType<ContactStatus, ContactStatus | undefined, ContactStatus>;
  /** The language the learner asked for, or their organisation's default (migration 0010). */
  language: ColumnType<LanguagePreference, LanguagePreference | undefined, LanguagePreference>;

  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SequencesTable {
  id: string;
  title: string;
  created_at: CreatedAt;
}

export interface SequenceVersionsTable {
  id: Generated<number>;
  sequence_id: string;
  /** Hash of the programme's content; an enrolment keeps the version it started on. */
  content_hash: string;
  definition: Json<unknown>;
  created_at: CreatedAt;
}

/** A programme version's emails as MJML compiled them (#17), read by workers instead of MJML. */
export interface CompiledProgrammesTable {
  version_id: number;
  /** The language preference compiled for: `cy`, `en` or `cy+en`. */
  language: string;
  /** Digest of the `emails/` layout files compiled with. */
  layouts: string;
  format: number;
  skeleton: Json<unknown>;
  created_at: CreatedAt;
}

/** The emails of no programme (acknowledgements, digests) as MJML compiled them (#17). */
export interface CompiledLayoutsTable {
  /** Digest of the `emails/` layout files compiled with. */
  layouts: string;
  format: number;
  skeleton: Json<unknown>;
  created_at: CreatedAt;
}

export interface EnrolmentsTable {
  id: Generated<number>;
  learner_id: number;
  sequence_version_id: number;
  cohort: string | null;
  starts_on: CalendarDate;
  status: ColumnType<EnrolmentStatus, EnrolmentStatus | undefined, EnrolmentStatus>;
  /** Why the matcher chose this programme, in words a trainer can read. */
  match_reason: ColumnType<string, string | undefined, string>;
  paused_at: Timestamp | null;
  paused_until: Timestamp | null;
  /** Whole weeks the current pause moved the plan. */
  paused_weeks: ColumnType<number, number | undefined, number>;
  ended_at: Timestamp | null;
  /** The learner's language as far as the programme offers it: what its mail is in (0010). */
  language: ColumnType<LanguagePreference, LanguagePreference | undefined, LanguagePreference>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface DeliveriesTable {
  id: Generated<number>;
  enrolment_id: number;
  step_key: string;
  kind: DeliveryKind;
  week: number;
  /** When the message goes out (shifted by pause/resume); for an invite, ahead of its slot. */
  due_at: Timestamp;
  /** For an invite, the start of the practice slot it blocks; null for an email. */
  starts_at: Timestamp | null;
  /** REQUEST for a step of the plan; CANCEL cancels the invite of the step its key names. */
  method: ColumnType<'REQUEST' | 'CANCEL', 'REQUEST' | 'CANCEL' | undefined, 'REQUEST' | 'CANCEL'>;
  /** The programme's own slot on the learner's clock, before holidays moved it. */
  planned_local: string;
  /** When a retry may run, after a temporary failure; null means `due_at`. */
  retry_at: Timestamp | null;
  status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  claimed_by: string | null;
  /** On the database's clock, like every lease: workers' clocks may disagree. */
  lease_until: Timestamp | null;
  /** The fencing token: bumped by every claim; the holder's writes are conditional on it. */
  lease_token: ColumnType<number, number | undefined, number>;
  /** The Message-ID we sent it with, on our domain; unique. */
  message_id: string | null;
  /** The calendar UID of an invite, stable for (enrolment, step). */
  invite_uid: string | null;
  invite_sequence: ColumnType<number, number | undefined, number>;
  /** Why a row was skipped, missed, failed or cancelled, or the last temporary error. */
  reason: string | null;
  sent_at: Timestamp | null;
  /** Carried to this instant by the relay's quota; lateness counts from here (migration 0005). */
  quota_deferred_until: ColumnType<
    Date | null,
    Date | string | null | undefined,
    Date | string | null
  >;
  /** What an acknowledgement says and which message it answers; null for plan rows. */
  payload: Json<AcknowledgementPayload> | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface ProgressEventsTable {
  id: Generated<number>;
  enrolment_id: number;
  delivery_id: number | null;
  inbound_message_id: number | null;
  kind: ProgressEventKind;
  data: JsonWithDefault<Record<string, unknown>>;
  occurred_at: Timestamp;
  created_at: CreatedAt;
}

export interface InboundMessagesTable {
  id: Generated<number>;
  message_id: string;
  mailbox: string;
  uid: number | null;
  received_at: Timestamp;
  from_address: string | null;
  subject: string | null;
  classification: InboundClassification;
  status: ColumnType<InboundStatus, InboundStatus | undefined, InboundStatus>;
  learner_id: number | null;
  delivery_id: number | null;
  reason: string | null;
  /** The raw message, kept while it is parked or quarantined so that nothing is lost. */
  raw: Buffer | null;
  /** What the reader understood: kind, visible text, intent, why it was held. */
  summary: Json<Record<string, unknown>> | null;
  /** When retention or an erasure cleared `raw` (migration 0008). */
  raw_cleared_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface MailboxCursorsTable {
  mailbox: string;
  /** IMAP UIDVALIDITY as text: it is an unsigned 32-bit number, beyond `integer`. */
  uid_validity: string;
  last_uid: number;
  updated_at: UpdatedAt;
}

export interface ManagerDigestsTable {
  id: Generated<number>;
  manager_id: number;
  /** First day of the fortnight the digest covers; one digest per manager and fortnight. */
  period_starts_on: CalendarDate;
  status: ColumnType<DigestStatus, DigestStatus | undefined, DigestStatus>;
  message_id: string | null;
  sent_at: Timestamp | null;
  claimed_by: string | null;
  /** On the database's clock, like every lease. */
  lease_until: Timestamp | null;
  /** The fencing token, as for deliveries. */
  lease_token: ColumnType<number, number | undefined, number>;
  attempts: ColumnType<number, number | undefined, number>;
  retry_at: Timestamp | null;
  /** Why it failed or was skipped, or the last temporary error. */
  reason: string | null;
  /** Active learners it covered. */
  learners: ColumnType<number, number | undefined, number>;
  created_at: CreatedAt;
}

/** A manager's answer to a digest ("I've talked to Sam"): their engagement. */
export interface ManagerRepliesTable {
  id: Generated<number>;
  manager_id: number;
  inbound_message_id: number;
  digest_id: number | null;
  learner_id: number | null;
  action: ManagerReplyAction;
  text: ColumnType<string, string | undefined, string>;
  occurred_at: Timestamp;
  created_at: CreatedAt;
}

/** One introduction per manager, before their first digest (migration 0009). */
export interface ManagerIntroductionsTable {
  id: Generated<number>;
  manager_id: number;
  status: ColumnType<DigestStatus, DigestStatus | undefined, DigestStatus>;
  message_id: string | null;
  sent_at: Timestamp | null;
  claimed_by: string | null;
  lease_until: Timestamp | null;
  lease_token: ColumnType<number, number | undefined, number>;
  attempts: ColumnType<number, number | undefined, number>;
  retry_at: Timestamp | null;
  reason: string | null;
  created_at: CreatedAt;
}

export interface SendBudgetTable {
  /** A whole second of the senders' clock. */
  second: Timestamp;
  /** Messages sent in that second, by all workers together. */
  sent: number;
}

/** Each worker's last tick, for `gym status` (migration 0006). */
export interface WorkerTicksTable {
  worker: string;
  last_tick_at: Timestamp;
  sent: ColumnType<number, number | undefined, number>;
  /** Why the last tick failed; null when it did not. */
  error: string | null;
}

export interface SendQuotaTable {
  /** `minute`: sends in the minute starting at `starts_at`; `relay_pause`: nobody sends before `starts_at`. */
  bucket: 'minute' | 'relay_pause';
  starts_at: Timestamp;
  sent: ColumnType<number, number | undefined, number>;
}

/**
 * A person's "no" (#11), by normalised address: `all` mail, a manager's `digests`, or
 * `programme:<id>` for a stopped programme. Lifted rows are kept as history and are not active.
 */
export interface SuppressionsTable {
  id: Generated<number>;
  address: string;
  organisation_id: string | null;
  scope: SuppressionScope;
  how: SuppressionHow;
  /** What happened, in words: the bounce's status, the reason given by hand. */
  detail: string | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  lifted_at: Timestamp | null;
  lifted_by: string | null;
  lifted_reason: string | null;
}

/** The audit row of an erasure (migration 0008): who, when, why; the address only as a keyed hash. */
export interface ErasuresTable {
  id: Generated<number>;
  fingerprint: string;
  erased_at: Timestamp;
  erased_by: string;
  reason: string;
  /** What was removed, as counts. */
  removed: JsonWithDefault<Record<string, number>>;
}

export const trainerAlertStatuses = ['claimed', 'pending', 'sent', 'skipped', 'failed'] as const;
export type TrainerAlertStatus = (typeof trainerAlertStatuses)[number];

/** One working day's alert to the trainer (migration 0008), claimed under a lease like a digest. */
export interface TrainerAlertsTable {
  id: Generated<number>;
  day: CalendarDate;
  status: TrainerAlertStatus;
  /** What the alert covers: events from `covers_from` (the previous day's `covers_to`) to here. */
  covers_from: Timestamp;
  covers_to: Timestamp;
  claimed_by: string | null;
  lease_until: Timestamp | null;
  lease_token: ColumnType<number, number | undefined, number>;
  attempts: ColumnType<number, number | undefined, number>;
  retry_at: Timestamp | null;
  message_id: string | null;
  reason: string | null;
  items: ColumnType<number, number | undefined, number>;
  sent_at: Timestamp | null;
  created_at: CreatedAt;
}

/** When a daily job last ran and what it did (migration 0008). */
export interface HousekeepingTable {
  job: string;
  last_run_at: Timestamp;
  outcome: JsonWithDefault<Record<string, unknown>>;
}

export type Learner = Selectable<LearnersTable>;
export type NewLearner = Insertable<LearnersTable>;
export type Delivery = Selectable<DeliveriesTable>;
export type NewDelivery = Insertable<DeliveriesTable>;
export type DeliveryUpdate = Updateable<DeliveriesTable>;
