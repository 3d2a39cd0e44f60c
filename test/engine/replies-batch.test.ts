import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cohortCsv } from '../../bench/cohort.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { replyStore } from '../../src/db/reply-store.js';
import { enrolCohort } from '../../src/engine/enrol.js';
import { handleInboundBatch } from '../../src/engine/replies-batch.js';
import {
  handleInbound,
  type ReplyDependencies,
  type ReplyStore,
} from '../../src/engine/replies.js';
import { readCohortCsv } from '../../src/enrol/cohort-csv.js';
import type { InboundItem } from '../../src/inbound/source.js';
import { messageIdFor } from '../../src/mail/headers.js';
import { replyAddressFor, signReplyToken } from '../../src/mail/tokens.js';
import { readMessage } from '../../src/replies/read.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';
import { shippedProgrammes, testMail } from '../helpers/cohort.js';

// Replies an hour after the first email of week 1 (Monday 4 January 2027).
const now = new Date('2027-01-04T18:00:00Z');
const learners = 12;

/** A fresh database: `learners` learners enrolled, each one's first email sent. */
async function prepared(backend: ReturnType<typeof testBackends>[number]) {
  const database = await openMigrated(backend);
  const { text } = cohortCsv(learners, '2027-01-04', 'b');
  const cohort = readCohortCsv(text, 'batch.csv', { now: new Date('2026-12-07T10:00:00Z') });
  await enrolCohort(enrolmentStore(database.db), cohort.rows, shippedProgrammes, {
    dryRun: false,
    holidays: new Set(),
  });
  const first = await database.db
    .selectFrom('deliveries')
    .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
    .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
    .select(['learners.email', sql<number>`min(deliveries.id)`.as('id')])
    .where('deliveries.kind', '=', 'email')
    .groupBy('learners.email')
    .orderBy('learners.email')
    .execute();
  for (const { id } of first)
    await database.db
      .updateTable('deliveries')
      .set({
        status: 'sent',
        sent_at: new Date('2027-01-04T09:00:00Z'),
        message_id: messageIdFor(testMail.secret, { deliveryId: id, domain: 'gym.example.gov.uk' }),
      })
      .where('id', '=', id)
      .execute();
  // The welcomes of the default programme, which asks intake questions, sent too.
  const welcomes = await database.db
    .selectFrom('deliveries')
    .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
    .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
    .innerJoin('sequence_versions', 'sequence_versions.id', 'enrolments.sequence_version_id')
    .select(['learners.email', 'deliveries.id'])
    .where('deliveries.kind', '=', 'welcome')
    .where('sequence_versions.sequence_id', '=', 'digital-foundations')
    .orderBy('learners.email')
    .execute();
  for (const { id } of welcomes)
    await database.db
      .updateTable('deliveries')
      .set({
        status: 'sent',
        sent_at: new Date('2027-01-01T09:00:00Z'),
        message_id: messageIdFor(testMail.secret, { deliveryId: id, domain: 'gym.example.gov.uk' }),
      })
      .where('id', '=', id)
      .execute();
  // The learner whose only other reply is forged by someone else, so their enrolment is open.
  const welcome = welcomes.find((w) => w.email === first[3]!.email);
  if (welcome === undefined) throw new Error('the cohort changed: pick another learner to answer');
  return { database, sent: first, welcome };
}

function reply(
  sent: { email: string; id: number },
  body: string,
  id: string,
  options: { from?: string; token?: boolean } = {},
): InboundItem {
  const to =
    options.token === false
      ? testMail.replyAddress
      : replyAddressFor(
          testMail.replyAddress,
          signReplyToken(testMail.secret, { deliveryId: sent.id }),
        );
  const head = [
    `From: ${options.from ?? sent.email}`,
    `To: ${to}`,
    'Subject: Re: Week 1',
    'Date: Mon, 04 Jan 2027 17:30:00 +0000',
    `Message-ID: <${id}@mail.example.test>`,
    `In-Reply-To: ${messageIdFor(testMail.secret, { deliveryId: sent.id, domain: 'gym.example.gov.uk' })}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
  ].join('\r\n');
  return { raw: Buffer.from(`${head}\r\n\r\n${body}\r\n`), mailbox: 'INBOX', uid: undefined };
}

/** What the replies left, in terms that do not depend on the order rows were numbered in. */
async function snapshot(database: TestDatabase) {
  const { db } = database;
  const inbound = await db
    .selectFrom('inbound_messages')
    .select(['id', 'message_id', 'status', 'classification', 'reason', 'learner_id', 'delivery_id'])
    .select(sql<boolean>`raw is not null`.as('kept'))
    .orderBy('message_id')
    .execute();
  const messageOf = new Map(inbound.map((row) => [row.id, row.message_id]));
  const byMessage = (text: string) =>
    text.replace(/ack-(\d+)/g, (_, id: string) => `ack-${messageOf.get(Number(id))}`);
  const events = await db
    .selectFrom('progress_events')
    .select(['enrolment_id', 'delivery_id', 'inbound_message_id', 'kind', 'data', 'occurred_at'])
    .execute();
  const deliveries = await db
    .selectFrom('deliveries')
    .select(['enrolment_id', 'step_key', 'week', 'kind', 'status', 'due_at', 'reason', 'method'])
    .select(sql<string>`payload - 'question'`.as('payload'))
    .select(sql<boolean>`payload ? 'question'`.as('asks'))
    .execute();
  return {
    inbound: inbound.map(({ id: _, ...row }) => ({
      ...row,
      // The trainer's command names the row's id, which depends on the order rows were numbered in.
      reason: row.reason?.replace(
        /assign (\d+)/,
        (_, id: string) => `assign ${messageOf.get(Number(id))}`,
      ),
    })),
    events: events
      .map((e) => ({ ...e, inbound_message_id: messageOf.get(e.inbound_message_id ?? -1) }))
      .sort((a, b) => String(a.inbound_message_id).localeCompare(String(b.inbound_message_id))),
    deliveries: deliveries
      .map((d) => ({ ...d, step_key: byMessage(d.step_key) }))
      .sort((a, b) =>
        `${a.enrolment_id}:${a.step_key}`.localeCompare(`${b.enrolment_id}:${b.step_key}`),
      ),
    enrolments: await db
      .selectFrom('enrolments')
      .select(['id', 'status', 'paused_until', 'ended_at'])
      .orderBy('id')
      .execute(),
    learners: await db
      .selectFrom('learners')
      .select(['id', 'status', 'profile'])
      .orderBy('id')
      .execute(),
    suppressions: await db
      .selectFrom('suppressions')
      .select(['address', 'scope', 'how'])
      .orderBy('address')
      .orderBy('scope')
      .execute(),
  };
}

describe.each(testBackends())('replies in batches on $name', (backend) => {
  let one: Awaited<ReturnType<typeof prepared>>;
  let many: Awaited<ReturnType<typeof prepared>>;
  let failing: Awaited<ReturnType<typeof prepared>>;
  let pipelined: Awaited<ReturnType<typeof prepared>>;
  const deps = (database: TestDatabase, store: ReplyStore = replyStore(database.db)) =>
    ({
      store,
      read: readMessage,
      secret: testMail.secret,
      replyAddress: testMail.replyAddress,
      now: () => now,
    }) satisfies ReplyDependencies;

  /** Every path through the handler: plan changes, a learner twice, duplicates, strangers. */
  const replies = (
    sent: { email: string; id: number }[],
    welcome: { email: string; id: number },
  ): InboundItem[] => {
    const at = (i: number) => sent[i]!;
    const items = [
      reply(at(0), 'Done! Tried all five.', 'a-done'),
      reply(at(1), 'Pause for 2 weeks please', 'b-pause'),
      reply(at(2), 'Stop', 'c-stop'),
      reply(at(0), 'I would give it 4/5', 'a-rating'),
      reply(at(3), 'Done', 'd-forged', { from: 'someone.else@example.org' }),
      reply(at(4), 'Skip this week', 'e-skip'),
      reply(at(5), 'help, I cannot find the settings page', 'f-help'),
      reply(at(6), 'I think I might need to drop out of this', 'g-maybe-stop'),
      reply(at(1), 'back now', 'b-resume'),
      reply(at(7), 'unsubscribe', 'h-unsubscribe'),
      reply(at(8), 'done, took 20 minutes', 'i-thread', { token: false }),
      reply(at(9), 'Too hard this week', 'j-hard'),
      reply(at(10), 'Done', 'k-stranger', { from: 'nobody@example.org', token: false }),
      // Intake answers to the welcome: the profile changes (week 1 is out, so no move).
      reply(welcome, '1. policy\n2) 2\n3 - time', 'l-intake'),
    ];
    return [
      ...items,
      items[0]!, // the same message again in the batch
      { raw: Buffer.from('\0'.repeat(10)), mailbox: 'INBOX', uid: undefined },
    ];
  };

  // Four databases with a cohort each: slow on a busy two-core machine.
  beforeAll(async () => {
    one = await prepared(backend);
    many = await prepared(backend);
    failing = await prepared(backend);
    pipelined = await prepared(backend);
  }, 600_000);
  afterAll(async () => {
    await Promise.all(
      [one, many, failing, pipelined].map((prepared) => prepared?.database.close()),
    );
  });

  it('leaves what handling the same messages one at a time leaves, with the same verdicts', async () => {
    const items = replies(one.sent, one.welcome);
    const verdicts: string[] = [];
    for (const item of items) verdicts.push(await handleInbound(deps(one.database), item));
    const store = replyStore(many.database.db);
    let transactions = 0;
    const counted: ReplyStore = {
      ...store,
      transaction: (work) => {
        transactions += 1;
        return store.transaction(work);
      },
    };
    const batched = await handleInboundBatch(
      deps(many.database, counted),
      replies(many.sent, many.welcome),
    );
    expect(batched).toEqual(verdicts);
    // One for the batch (the NUL bytes are read too, named by their hash, and held), one for the
    // duplicate after it: the batch held, it did not fall back to one message at a time.
    expect(transactions).toBe(2);
    const expected = await snapshot(one.database);
    // The cases are the ones meant: acted on, held, asked about.
    expect(expected.events.length).toBeGreaterThan(8);
    expect(expected.inbound.filter((r) => r.status !== 'processed').length).toBeGreaterThan(1);
    expect(expected.deliveries.filter((d) => d.asks).length).toBeGreaterThan(0);
    expect(expected.enrolments.map((e) => e.status)).toContain('stopped');
    expect(expected.events.map((e) => e.kind)).toContain('intake');
    expect(expected.learners.map((l) => l.profile)).toContainEqual(
      expect.objectContaining({ confidence: 2, barriers: ['no-time'] }),
    );
    expect(await snapshot(many.database)).toEqual(expected);

    // Again (a restart, a rescan): nothing more happens, and each is filed where it was.
    expect(await handleInboundBatch(deps(many.database), replies(many.sent, many.welcome))).toEqual(
      verdicts,
    );
    expect(await snapshot(many.database)).toEqual(expected);
  });

  it('keeps nothing of a batch that failed, and handles each message on its own', async () => {
    const store = replyStore(failing.database.db);
    let failures = 0;
    const faulty: ReplyStore = {
      ...store,
      transaction: (work) =>
        store.transaction((trx) =>
          work({
            ...trx,
            // The batch's last statement fails: everything before it must go.
            queueAcknowledgementMany: async () => {
              failures += 1;
              throw new Error('the database went away');
            },
          }),
        ),
    };
    const items = replies(failing.sent, failing.welcome);
    const verdicts = await handleInboundBatch(deps(failing.database, faulty), items);
    expect(failures).toBe(1);
    expect(verdicts).toEqual(
      await handleInboundBatch(deps(one.database), replies(one.sent, one.welcome)),
    );
    expect(await snapshot(failing.database)).toEqual(await snapshot(one.database));
  });

  it('records nothing of a batch handed over after one that failed, and fails too', async () => {
    const before = await snapshot(pipelined.database);
    const failed = Promise.reject(new Error('the database went away'));
    await expect(
      handleInboundBatch(
        deps(pipelined.database),
        replies(pipelined.sent, pipelined.welcome).slice(0, 4),
        failed,
      ),
    ).rejects.toThrow('the database went away');
    expect(await snapshot(pipelined.database)).toEqual(before);
  });
  it('handed over while the batch before is recorded, reads at once and records in order', async () => {
    const items = replies(pipelined.sent, pipelined.welcome);
    const expectedVerdicts: string[] = [];
    for (const item of replies(one.sent, one.welcome))
      expectedVerdicts.push(await handleInbound(deps(one.database), item)); // again: all seen
    // A learner's pause and resume, and another's done and rating, fall in different batches.
    const first = items.slice(0, 3);
    const second = items.slice(3, 9);
    const third = items.slice(9);
    let read = 0;
    let allRead: () => void = () => undefined;
    const secondRead = new Promise<void>((resolve) => (allRead = resolve));
    const counting: ReplyDependencies = {
      ...deps(pipelined.database),
      read: async (raw) => {
        const message = await readMessage(raw);
        if (++read === first.length + second.length) allRead();
        return message;
      },
    };
    // As a drain hands them over, and more: all three before the first is recorded.
    let releaseFirst: () => void = () => undefined;
    const firstMayGo = new Promise<void>((resolve) => (releaseFirst = resolve));
    const firstBatch = firstMayGo.then(() => handleInboundBatch(counting, first));
    const secondBatch = handleInboundBatch(counting, second, firstBatch);
    const thirdBatch = handleInboundBatch(counting, third, secondBatch);
    // The second batch is read while the first waits, and nothing of it is recorded meanwhile.
    await secondRead;
    const recorded = () =>
      pipelined.database.db
        .selectFrom('inbound_messages')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
    expect(Number((await recorded()).n)).toBe(0);
    releaseFirst();
    const verdicts = [...(await firstBatch), ...(await secondBatch), ...(await thirdBatch)];
    expect(verdicts).toEqual(expectedVerdicts);
    expect(await snapshot(pipelined.database)).toEqual(await snapshot(one.database));
  });
});
