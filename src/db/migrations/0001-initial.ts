import { sql, type Kysely } from 'kysely';

// Migrations are frozen history: the value lists below are written out, not imported from
// schema.ts, so that changing the code later never rewrites what an old migration did.

function oneOf(column: string, values: readonly string[]) {
  return sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;
}

const contactStatuses = ['active', 'bounced', 'unsubscribed'];

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('organisations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('holidays', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('organisations_holidays_is_array', sql`jsonb_typeof(holidays) = 'array'`)
    .execute();

  await db.schema
    .createTable('managers')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('managers_email_is_lower_case', sql`email = lower(email)`)
    .addCheckConstraint('managers_status', oneOf('status', contactStatuses))
    .execute();

  await db.schema
    .createTable('learners')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('last_name', 'text', (c) => c.notNull())
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('role', 'text')
    .addColumn('organisation_id', 'text', (c) =>
      c.references('organisations.id').onDelete('set null'),
    )
    .addColumn('manager_id', 'integer', (c) => c.references('managers.id').onDelete('set null'))
    .addColumn('profile', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('learners_email_is_lower_case', sql`email = lower(email)`)
    .addCheckConstraint('learners_status', oneOf('status', contactStatuses))
    .addCheckConstraint('learners_profile_is_object', sql`jsonb_typeof(profile) = 'object'`)
    .execute();
  await db.schema.createIndex('learners_manager_id').on('learners').column('manager_id').execute();

  await db.schema
    .createTable('sequences')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('sequences_id_is_slug', sql`id ~ '^[a-z0-9][a-z0-9-]*$'`)
    .execute();

  await db.schema
    .createTable('sequence_versions')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('sequence_id', 'text', (c) => c.notNull().references('sequences.id'))
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('definition', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('sequence_versions_content', ['sequence_id', 'content_hash'])
    .execute();

  await db.schema
    .createTable('enrolments')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('learner_id', 'integer', (c) =>
      c.notNull().references('learners.id').onDelete('cascade'),
    )
    .addColumn('sequence_version_id', 'integer', (c) =>
      c.notNull().references('sequence_versions.id'),
    )
    .addColumn('cohort', 'text')
    .addColumn('starts_on', 'date', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('match_reason', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('paused_at', 'timestamptz')
    .addColumn('paused_until', 'timestamptz')
    // Whole weeks the current pause moved the plan: an early "resume" moves it back no further.
    .addColumn('paused_weeks', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('ended_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint(
      'enrolments_status',
      oneOf('status', ['active', 'paused', 'completed', 'stopped']),
    )
    .addCheckConstraint(
      'enrolments_paused_has_time',
      sql`status <> 'paused' or paused_at is not null`,
    )
    .addCheckConstraint(
      'enrolments_ended_has_time',
      sql`status not in ('completed', 'stopped') or ended_at is not null`,
    )
    .execute();
  // A learner follows one programme at a time; finished enrolments stay as history.
  await db.schema
    .createIndex('enrolments_one_open_per_learner')
    .on('enrolments')
    .column('learner_id')
    .unique()
    .where(sql.ref('status'), 'in', ['active', 'paused'])
    .execute();

  await db.schema
    .createTable('deliveries')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('enrolment_id', 'integer', (c) =>
      c.notNull().references('enrolments.id').onDelete('cascade'),
    )
    .addColumn('step_key', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('week', 'integer', (c) => c.notNull())
    // When the message goes out; for an invite, ahead of the slot it blocks (`starts_at`).
    .addColumn('due_at', 'timestamptz', (c) => c.notNull())
    .addColumn('starts_at', 'timestamptz')
    // REQUEST for a step of the plan; CANCEL for the cancellation of an invite already sent
    // (its step_key is the original's with ".cancel"), when a programme ends early.
    .addColumn('method', 'text', (c) => c.notNull().defaultTo('REQUEST'))
    // The programme's own slot on the learner's clock ("2027-05-04T09:00"), before holidays and
    // working days moved it: a pause shifts this and settles it again.
    .addColumn('planned_local', 'text', (c) => c.notNull())
    .addColumn('retry_at', 'timestamptz')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('claimed_by', 'text')
    .addColumn('lease_until', 'timestamptz')
    .addColumn('message_id', 'text', (c) => c.unique())
    .addColumn('invite_uid', 'text', (c) => c.unique())
    .addColumn('invite_sequence', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reason', 'text')
    .addColumn('sent_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('deliveries_one_per_step', ['enrolment_id', 'step_key'])
    .addCheckConstraint('deliveries_kind', oneOf('kind', ['email', 'invite']))
    .addCheckConstraint(
      'deliveries_status',
      oneOf('status', ['pending', 'claimed', 'sent', 'skipped', 'missed', 'failed', 'cancelled']),
    )
    .addCheckConstraint('deliveries_attempts_not_negative', sql`attempts >= 0`)
    .addCheckConstraint('deliveries_week', sql`week between 1 and 52`)
    .addCheckConstraint(
      'deliveries_invite_has_start',
      sql`(kind = 'invite') = (starts_at is not null)`,
    )
    .addCheckConstraint('deliveries_invite_sequence_not_negative', sql`invite_sequence >= 0`)
    .addCheckConstraint(
      'deliveries_claimed_has_lease',
      sql`status <> 'claimed' or (claimed_by is not null and lease_until is not null)`,
    )
    .addCheckConstraint(
      'deliveries_sent_has_message',
      sql`status <> 'sent' or (sent_at is not null and message_id is not null)`,
    )
    .addCheckConstraint(
      'deliveries_outcome_has_reason',
      sql`status not in ('skipped', 'missed', 'failed', 'cancelled') or reason is not null`,
    )
    .execute();
  // What the dispatcher asks every tick: the due pending rows and the expired leases.
  await db.schema
    .createIndex('deliveries_pending_by_time')
    .on('deliveries')
    .expression(sql`coalesce(retry_at, due_at)`)
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  await db.schema
    .createIndex('deliveries_claimed_by_lease')
    .on('deliveries')
    .column('lease_until')
    .where(sql.ref('status'), '=', 'claimed')
    .execute();

  await db.schema
    .createTable('inbound_messages')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('message_id', 'text', (c) => c.notNull().unique())
    .addColumn('mailbox', 'text', (c) => c.notNull())
    .addColumn('uid', 'bigint')
    .addColumn('received_at', 'timestamptz', (c) => c.notNull())
    .addColumn('from_address', 'text')
    .addColumn('subject', 'text')
    .addColumn('classification', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('received'))
    .addColumn('learner_id', 'integer', (c) => c.references('learners.id').onDelete('set null'))
    .addColumn('delivery_id', 'integer', (c) => c.references('deliveries.id').onDelete('set null'))
    .addColumn('reason', 'text')
    .addColumn('raw', 'bytea')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint(
      'inbound_messages_classification',
      oneOf('classification', ['reply', 'auto_reply', 'bounce', 'rsvp', 'unknown']),
    )
    .addCheckConstraint(
      'inbound_messages_status',
      oneOf('status', ['received', 'processed', 'parked', 'quarantined']),
    )
    .addCheckConstraint(
      'inbound_messages_parked_is_kept',
      sql`status not in ('parked', 'quarantined') or (raw is not null and reason is not null)`,
    )
    .execute();
  await db.schema
    .createIndex('inbound_messages_awaiting_review')
    .on('inbound_messages')
    .column('created_at')
    .where(sql.ref('status'), 'in', ['parked', 'quarantined'])
    .execute();

  await db.schema
    .createTable('progress_events')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('enrolment_id', 'integer', (c) =>
      c.notNull().references('enrolments.id').onDelete('cascade'),
    )
    .addColumn('delivery_id', 'integer', (c) => c.references('deliveries.id').onDelete('set null'))
    .addColumn('inbound_message_id', 'integer', (c) => c.references('inbound_messages.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('data', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint(
      'progress_events_kind',
      oneOf('kind', [
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
      ]),
    )
    // Reading the same message twice (a restart, a rescan after UIDVALIDITY changed) must not
    // count it twice.
    .addUniqueConstraint('progress_events_once_per_message', ['inbound_message_id', 'kind'])
    .execute();
  await db.schema
    .createIndex('progress_events_by_enrolment')
    .on('progress_events')
    .columns(['enrolment_id', 'occurred_at'])
    .execute();

  await db.schema
    .createTable('mailbox_cursors')
    .addColumn('mailbox', 'text', (c) => c.primaryKey())
    .addColumn('uid_validity', 'text', (c) => c.notNull())
    .addColumn('last_uid', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('mailbox_cursors_uid_validity_is_number', sql`uid_validity ~ '^[0-9]+$'`)
    .addCheckConstraint('mailbox_cursors_last_uid_not_negative', sql`last_uid >= 0`)
    .execute();

  // SMTP_MAX_PER_SECOND across all workers: one row per second of sending, counting what was
  // sent in it. Rows older than a minute are cleared as workers go.
  await db.schema
    .createTable('send_budget')
    .addColumn('second', 'timestamptz', (c) => c.primaryKey())
    .addColumn('sent', 'integer', (c) => c.notNull())
    .addCheckConstraint('send_budget_sent_positive', sql`sent > 0`)
    .execute();

  await db.schema
    .createTable('manager_digests')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('manager_id', 'integer', (c) =>
      c.notNull().references('managers.id').onDelete('cascade'),
    )
    .addColumn('period_starts_on', 'date', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('message_id', 'text', (c) => c.unique())
    .addColumn('sent_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // Whichever worker gets there first sends it; the others hit this key.
    .addUniqueConstraint('manager_digests_one_per_fortnight', ['manager_id', 'period_starts_on'])
    .addCheckConstraint(
      'manager_digests_status',
      oneOf('status', ['pending', 'claimed', 'sent', 'skipped', 'failed']),
    )
    .addCheckConstraint(
      'manager_digests_sent_has_message',
      sql`status <> 'sent' or (sent_at is not null and message_id is not null)`,
    )
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'send_budget',
    'manager_digests',
    'mailbox_cursors',
    'progress_events',
    'inbound_messages',
    'deliveries',
    'enrolments',
    'sequence_versions',
    'sequences',
    'learners',
    'managers',
    'organisations',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
