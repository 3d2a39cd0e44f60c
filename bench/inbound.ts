/**
 * Inbound for the benchmark: the reply reader (`readMessage`: parse, classify, strip quotes, read
 * the intent) over the fixture messages and the email-reply-parser corpus, and the whole handler
 * (`handleInboundBatch`, as the listener's mailbox drain calls it: match against the database,
 * record, progress, acknowledgement) over replies to deliveries the wave really sent.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { replyStore } from '../src/db/reply-store.js';
import type { Database } from '../src/db/schema.js';
import { handleInboundBatch } from '../src/engine/replies-batch.js';
import { handleInbound } from '../src/engine/replies.js';
import { maildirSource } from '../src/inbound/maildir-source.js';
import { threadReader } from '../src/replies/read-in-thread.js';
import { readMessage } from '../src/replies/read.js';
import type { InboundKind } from '../src/replies/types.js';
import { replyAddressFor, signReplyToken } from '../src/mail/tokens.js';

export interface InboundCorpus {
  /** The `.eml` fixtures as they are, then each corpus body wrapped in a plain-text message. */
  readonly messages: readonly Buffer[];
  readonly emlFiles: number;
  readonly corpusBodies: number;
  /** Plain bodies (corpus text and a few short answers), for replies built for the handler. */
  readonly bodies: readonly string[];
}

const crlf = (text: string) => text.replace(/\r?\n/g, '\r\n');

function plainMessage(headers: Record<string, string>, body: string): Buffer {
  const head = Object.entries({
    ...headers,
    'MIME-Version': '1.0',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Transfer-Encoding': '8bit',
  })
    .map(([name, value]) => `${name}: ${value}`)
    .join('\r\n');
  return Buffer.from(`${head}\r\n\r\n${crlf(body)}\r\n`);
}

export function loadInboundCorpus(root: string): InboundCorpus {
  const repliesDir = join(root, 'test/fixtures/replies');
  const corpusDir = join(root, 'test/fixtures/corpora/email-reply-parser/fixtures');
  const eml = readdirSync(repliesDir)
    .filter((name) => name.endsWith('.eml'))
    .sort()
    .map((name) => readFileSync(join(repliesDir, name)));
  const corpusBodies = readdirSync(corpusDir)
    .filter((name) => name.endsWith('.txt'))
    .sort()
    .map((name) => readFileSync(join(corpusDir, name), 'utf8'));
  const wrapped = corpusBodies.map((body, i) =>
    plainMessage(
      {
        From: `Learner ${i} <learner${i}@bench.example.gov.uk>`,
        To: 'progress@gym.bench.test',
        Subject: 'Re: Week 1: listen before you talk',
        Date: 'Mon, 04 Jan 2027 18:00:00 +0000',
        'Message-ID': `<corpus${i}@bench.example.gov.uk>`,
      },
      body,
    ),
  );
  const short = ['Done', 'done, took 20 minutes', '4/5', 'Too hard this week', 'help'];
  return {
    messages: [...eml, ...wrapped],
    emlFiles: eml.length,
    corpusBodies: corpusBodies.length,
    bodies: [...short, ...corpusBodies],
  };
}

export interface ReadResult {
  readonly messages: number;
  readonly elapsedMs: number;
  readonly kinds: Record<InboundKind | 'unreadable', number>;
}

/** `readMessage` over the corpus, repeated until `target` messages, one after another. */
export async function measureReading(corpus: InboundCorpus, target: number): Promise<ReadResult> {
  const kinds: ReadResult['kinds'] = { reply: 0, auto_reply: 0, bounce: 0, rsvp: 0, unreadable: 0 };
  const rounds = Math.max(1, Math.ceil(target / corpus.messages.length));
  for (const raw of corpus.messages) await readMessage(raw).catch(() => undefined); // warm up
  const started = performance.now();
  let messages = 0;
  for (let round = 0; round < rounds; round++) {
    for (const raw of corpus.messages) {
      messages += 1;
      try {
        kinds[(await readMessage(raw, { timeZone: 'Europe/London' })).kind] += 1;
      } catch {
        kinds.unreadable += 1;
      }
    }
  }
  return { messages, elapsedMs: performance.now() - started, kinds };
}

export interface HandleResult {
  readonly messages: number;
  readonly elapsedMs: number;
  readonly processed: number;
  readonly failed: number;
  /** Progress events written, and inbound messages held for a person (unmatched, quarantined). */
  readonly progressEvents: number;
  readonly held: number;
}

/**
 * The full reply handler, as the listener runs it: `count` replies by learners to emails the
 * wave sent (addressed to the signed plus-address of the delivery, In-Reply-To its Message-ID,
 * from the learner), delivered to a Maildir and drained by the embedded inbox source with the
 * listener's handlers (`handleInboundBatch`, 50 at a time, the next batch read while the one
 * before is recorded, read in the listener's reader thread): the file reads and the renames into
 * `.Processed` are part of it.
 */
export async function measureHandling(options: {
  db: Kysely<Database>;
  corpus: InboundCorpus;
  count: number;
  secret: string;
  replyAddress: string;
  now: Date;
}): Promise<HandleResult> {
  const { db, corpus } = options;
  const sent = await db
    .selectFrom('deliveries')
    .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
    .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
    .select(['deliveries.id', 'deliveries.message_id', 'learners.email', 'learners.first_name'])
    .where('deliveries.status', '=', 'sent')
    .where('deliveries.kind', '=', 'email')
    .orderBy('deliveries.id')
    .limit(options.count)
    .execute();
  const date = options.now.toUTCString().replace('GMT', '+0000');
  const dir = mkdtempSync(join(tmpdir(), 'gym-bench-inbox-'));
  try {
    mkdirSync(join(dir, 'new'));
    // Maildir names sort in delivery order.
    const width = String(sent.length).length;
    for (const [i, delivery] of sent.entries()) {
      const reply = plainMessage(
        {
          From: `${delivery.first_name} <${delivery.email}>`,
          To: replyAddressFor(
            options.replyAddress,
            signReplyToken(options.secret, { deliveryId: delivery.id }),
          ),
          Subject: 'Re: Week 1',
          Date: date,
          'Message-ID': `<reply${i}.${delivery.id}@bench.example.gov.uk>`,
          ...(delivery.message_id === null ? {} : { 'In-Reply-To': delivery.message_id }),
        },
        corpus.bodies[i % corpus.bodies.length]!,
      );
      writeFileSync(join(dir, 'new', `${String(i).padStart(width, '0')}.bench`), reply);
    }
    // As the listener reads them: in a thread of their own (src/replies/read-in-thread.ts).
    const reader = threadReader();
    const deps = {
      store: replyStore(db),
      read: (raw: Buffer) => reader.read(raw),
      secret: options.secret,
      replyAddress: options.replyAddress,
      now: () => options.now,
    };
    const source = maildirSource({
      dir,
      handler: (item) => handleInbound(deps, item),
      batchHandler: (items, after) => handleInboundBatch(deps, items, after),
      logger: { info() {}, warn() {}, error() {} },
    });
    // The reader thread warmed up first, as a listener's is after its first minutes: the figure
    // is the listener's steady rate, not its first second's.
    await Promise.all(corpus.messages.map((raw) => reader.read(raw).catch(() => undefined)));
    const started = performance.now();
    const drained = await source.poll();
    const elapsedMs = performance.now() - started;
    await source.stop();
    await reader.close();
    const filed = (folder: string) => readdirSync(join(dir, folder, 'cur')).length;
    const events = await db
      .selectFrom('progress_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const held = await db
      .selectFrom('inbound_messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', 'in', ['parked', 'quarantined'])
      .executeTakeFirstOrThrow();
    return {
      messages: drained,
      elapsedMs,
      processed: filed('.Processed'),
      failed: filed('.Failed'),
      progressEvents: Number(events.n),
      held: Number(held.n),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
