/**
 * How fast the whole reply handler runs (issue #17 item 5), without the rest of the benchmark:
 * enrols a synthetic cohort (bench/cohort.ts), marks every learner's first email sent with the
 * Message-ID the dispatcher gives it, then hands the handler replies by the learners to those
 * emails (to the delivery's signed plus-address, In-Reply-To its Message-ID; bodies from the
 * bench's corpus, as bench/inbound.ts builds them). Not a test. Run it with
 *
 *   npm run measure:handling                      # PGlite, and PostgreSQL with TEST_DATABASE_URL
 *   npm run measure:handling -- --count 2000 --backend postgres --json
 *   npm run measure:handling -- --backend postgres --how batched   # one of the two ways only
 *   npm run measure:handling -- --backend postgres --how batched --no-overlap
 *   npm run measure:handling -- --backend postgres --how batched --thread   # as the listener
 *   npm run measure:handling -- --backend postgres --how drain --thread     # as npm run bench
 *
 * It reports `handleInbound` one message after another; `handleInboundBatch` over batches of 50
 * handed over as a mailbox drain does (the next while the one before is recorded); and the
 * listener's drain of a Maildir holding them (what `npm run bench` measures); each on a fresh
 * database, with how long reading them alone (`readMessage`, one after another) takes.
 */
/* eslint-disable no-console -- a measurement script: printing the numbers is its job */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { cohortCsv } from '../../bench/cohort.js';
import { loadInboundCorpus } from '../../bench/inbound.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { replyStore } from '../../src/db/reply-store.js';
import { enrolCohort } from '../../src/engine/enrol.js';
import { handleInboundBatch } from '../../src/engine/replies-batch.js';
import { handleInbound } from '../../src/engine/replies.js';
import { readCohortCsv } from '../../src/enrol/cohort-csv.js';
import { maildirSource } from '../../src/inbound/maildir-source.js';
import type { InboundItem, InboundVerdict } from '../../src/inbound/source.js';
import { messageIdFor } from '../../src/mail/headers.js';
import { replyAddressFor, signReplyToken } from '../../src/mail/tokens.js';
import { threadReader } from '../../src/replies/read-in-thread.js';
import { readMessage } from '../../src/replies/read.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';
import { repositoryRoot, shippedProgrammes, testMail } from '../helpers/cohort.js';

const argument = (name: string) => {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
};
const count = Number(argument('--count') ?? 2000);
const batchSize = Number(argument('--batch') ?? 50);
const only = argument('--backend');
const onlyHow = argument('--how');
// Each batch handed over only once the one before is recorded: what the overlap is worth.
const noOverlap = process.argv.includes('--no-overlap');
// Read in a thread of its own, as the listener reads (src/replies/read-in-thread.ts).
const inThread = process.argv.includes('--thread');
const json = process.argv.includes('--json');
const now = new Date('2027-01-04T18:00:00Z');
const corpus = loadInboundCorpus(repositoryRoot);

/** A database with `count` learners, each one's first email sent; the replies to them. */
async function prepare(database: TestDatabase): Promise<InboundItem[]> {
  const { text } = cohortCsv(count, '2027-01-04', 'm');
  const cohort = readCohortCsv(text, 'measure.csv', { now: new Date('2026-12-07T10:00:00Z') });
  await enrolCohort(enrolmentStore(database.db), cohort.rows, shippedProgrammes, {
    dryRun: false,
    holidays: new Set(),
  });
  const first = await database.db
    .selectFrom('deliveries')
    .select(['enrolment_id', sql<number>`min(id)`.as('id')])
    .where('kind', '=', 'email')
    .groupBy('enrolment_id')
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
  const sent = await database.db
    .selectFrom('deliveries')
    .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
    .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
    .select(['deliveries.id', 'deliveries.message_id', 'learners.email', 'learners.first_name'])
    .where('deliveries.status', '=', 'sent')
    .orderBy('deliveries.id')
    .limit(count)
    .execute();
  const date = now.toUTCString().replace('GMT', '+0000');
  return sent.map((delivery, i) => {
    const head = [
      `From: ${delivery.first_name} <${delivery.email}>`,
      `To: ${replyAddressFor(testMail.replyAddress, signReplyToken(testMail.secret, { deliveryId: delivery.id }))}`,
      'Subject: Re: Week 1',
      `Date: ${date}`,
      `Message-ID: <reply${i}.${delivery.id}@bench.example.gov.uk>`,
      `In-Reply-To: ${delivery.message_id}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
    ].join('\r\n');
    const body = corpus.bodies[i % corpus.bodies.length]!.replace(/\r?\n/g, '\r\n');
    return { raw: Buffer.from(`${head}\r\n\r\n${body}\r\n`), mailbox: 'INBOX', uid: undefined };
  });
}

interface Figures {
  replies: number;
  seconds: number;
  perSecond: number;
  readingSeconds: number;
  processed: number;
  failed: number;
  progressEvents: number;
  acknowledgements: number;
  held: number;
}

async function run(backendName: string, how: 'one-by-one' | 'batched' | 'drain'): Promise<Figures> {
  const backend = testBackends().find((b) => b.name === backendName)!;
  const database = await openMigrated(backend);
  try {
    const items = await prepare(database);
    // Reading alone, one message after another, for comparison: in the drain it overlaps.
    const readingStarted = performance.now();
    for (const item of items) await readMessage(item.raw).catch(() => undefined);
    const readingMs = performance.now() - readingStarted;
    const reader = inThread ? threadReader() : undefined;
    // Warmed up, as the main thread is by reading them alone above.
    if (reader !== undefined)
      await Promise.all(corpus.messages.map((raw) => reader.read(raw).catch(() => undefined)));
    const deps = {
      store: replyStore(database.db),
      read: (raw: Buffer) => reader?.read(raw) ?? readMessage(raw),
      secret: testMail.secret,
      replyAddress: testMail.replyAddress,
      now: () => now,
    };
    const inbox = how === 'drain' ? mkdtempSync(join(tmpdir(), 'gym-measure-inbox-')) : undefined;
    const source =
      inbox === undefined
        ? undefined
        : maildirSource({
            dir: inbox,
            handler: (item) => handleInbound(deps, item),
            batchHandler: (batch, after) => handleInboundBatch(deps, batch, after),
            logger: { info() {}, warn() {}, error() {} },
          });
    if (inbox !== undefined) {
      mkdirSync(join(inbox, 'new'));
      const width = String(items.length).length;
      for (const [i, item] of items.entries())
        writeFileSync(join(inbox, 'new', `${String(i).padStart(width, '0')}.measure`), item.raw);
    }
    const verdicts: string[] = [];
    const started = performance.now();
    if (how === 'one-by-one')
      for (const item of items) verdicts.push(await handleInbound(deps, item));
    else if (how === 'drain') {
      // The listener's drain of a Maildir, as `npm run bench` measures it.
      const drained = await source!.poll();
      const processed = readdirSync(join(inbox!, '.Processed', 'cur')).length;
      verdicts.push(...Array.from({ length: processed }, () => 'processed'));
      verdicts.push(...Array.from({ length: drained - processed }, () => 'failed'));
    } else {
      // As a mailbox drain hands them over: the next batch handed over (and read) while the
      // one before is still being recorded.
      let inFlight: Promise<InboundVerdict[]> | undefined;
      for (let i = 0; i < items.length; i += batchSize) {
        if (noOverlap && inFlight !== undefined) {
          verdicts.push(...(await inFlight));
          inFlight = undefined;
        }
        const current = handleInboundBatch(deps, items.slice(i, i + batchSize), inFlight);
        if (inFlight !== undefined) verdicts.push(...(await inFlight));
        inFlight = current;
      }
      if (inFlight !== undefined) verdicts.push(...(await inFlight));
    }
    const elapsed = (performance.now() - started) / 1000;
    await source?.stop();
    if (inbox !== undefined) rmSync(inbox, { recursive: true, force: true });
    await reader?.close();
    const countOf = async (
      table: 'progress_events' | 'inbound_messages' | 'deliveries',
      where?: [string, string],
    ) => {
      let query = database.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n'));
      if (where !== undefined) query = query.where(sql.ref(where[0]), '=', where[1]);
      return Number((await query.executeTakeFirstOrThrow()).n);
    };
    return {
      replies: items.length,
      seconds: Math.round(elapsed * 100) / 100,
      perSecond: Math.round(items.length / elapsed),
      readingSeconds: Math.round(readingMs / 10) / 100,
      processed: verdicts.filter((v) => v === 'processed').length,
      failed: verdicts.filter((v) => v === 'failed').length,
      progressEvents: await countOf('progress_events'),
      acknowledgements: await countOf('deliveries', ['kind', 'acknowledgement']),
      held:
        (await countOf('inbound_messages')) -
        (await countOf('inbound_messages', ['status', 'processed'])),
    };
  } finally {
    await database.close();
  }
}

const results: Record<string, Record<string, Figures>> = {};
for (const backend of testBackends()) {
  if (only !== undefined && backend.name !== only) continue;
  for (const how of ['one-by-one', 'batched', 'drain'] as const) {
    if (onlyHow !== undefined && how !== onlyHow) continue;
    const figures = await run(backend.name, how);
    (results[backend.name] ??= {})[how] = figures;
    if (!json)
      console.log(
        `${backend.name} ${how}: ${figures.replies} replies in ${figures.seconds} s = ${figures.perSecond}/s ` +
          `(reading alone ${figures.readingSeconds} s); ${figures.processed} processed, ${figures.failed} failed, ` +
          `${figures.progressEvents} progress events, ${figures.acknowledgements} acknowledgements, ${figures.held} held`,
      );
  }
}
if (json) console.log(JSON.stringify(results, null, 2));
