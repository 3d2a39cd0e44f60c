/**
 * Every verdict the reply reader gives on every message and body the tests know (#17): the .eml
 * fixtures, the email-reply-parser corpus as the benchmark wraps it, the natural-phrasing corpora
 * (with and without their quoted history) and the public reply-parsing corpora. The reader is
 * tuned for speed from time to time; test/replies/reader-verdicts.test.ts compares these
 * verdicts, deep-equal, with the ones committed in test/fixtures/replies/reader-verdicts.json, so
 * that a faster reader is known to read exactly as the slower one did.
 *
 * Regenerate the snapshot ONLY when a change to a rule is meant to change readings (and say so in
 * the commit):
 *
 *   npx tsx test/replies/reader-verdicts.ts --write
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInboundCorpus } from '../../bench/inbound.js';
import { readIntent } from '../../src/replies/intent.js';
import { asksSomething, meansUnsubscribe } from '../../src/replies/intent/grammar.js';
import { readMessage } from '../../src/replies/read.js';
import type { ReadMessage } from '../../src/replies/types.js';
import { visibleText } from '../../src/replies/visible-text.js';
import { loadCorpus, parseCorpusFile, readCase, type Case } from './natural-corpus.js';
import { publicCases } from './visible-corpus.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const snapshotPath = join(root, 'test/fixtures/replies/reader-verdicts.json');

/** A verdict as JSON holds it (dates as ISO strings, absent fields as null). */
export type Verdict = Record<string, unknown>;

/** The whole reading of a message, plus the two yes/no readers other modules ask of its text. */
function messageVerdict(read: ReadMessage): Verdict {
  const verdict = JSON.parse(JSON.stringify(read)) as Verdict;
  for (const key of Object.keys(read) as (keyof ReadMessage)[])
    if (read[key] === undefined) verdict[key] = null;
  if (read.kind === 'reply')
    Object.assign(verdict, {
      asksSomething: asksSomething(read.text),
      meansUnsubscribe: meansUnsubscribe(read.text),
    });
  return verdict;
}

async function readRaw(raw: Buffer, options: Parameters<typeof readMessage>[1]): Promise<Verdict> {
  try {
    return messageVerdict(await readMessage(raw, options));
  } catch (error) {
    return { unreadable: error instanceof Error ? error.message : String(error) };
  }
}

/** A body alone: its visible text, and the intent read from that text at a fixed moment. */
function bodyVerdict(body: { text?: string; html?: string }): Verdict {
  const text = visibleText(body);
  const { intent, confidence, language } = readIntent(text, {
    sentAt: new Date('2027-01-04T18:00:00Z'),
    timeZone: 'Europe/London',
  });
  return {
    text,
    intent,
    confidence,
    language: language ?? null,
    asksSomething: asksSomething(text),
    meansUnsubscribe: meansUnsubscribe(text),
  };
}

// Sentences that ask for nothing, put around a case's words.
const sorry = 'Sorry for the slow reply.';
const busy = 'It has been a busy week at work.';
const thanks = 'Thanks for the reminder.';

function heldOutCases(): Case[] {
  const dir = join(root, 'test/fixtures/corpora/natural-extra');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .flatMap(
      (name) => parseCorpusFile(join(dir, name), readFileSync(join(dir, name), 'utf8')).cases,
    );
}

/** Every verdict, keyed by a name that says where the message or body comes from. */
export async function readerVerdicts(): Promise<Record<string, Verdict>> {
  const verdicts: Record<string, Verdict> = {};
  const bench = loadInboundCorpus(root);
  for (const [i, raw] of bench.messages.entries())
    verdicts[`bench/${i}`] = await readRaw(raw, { timeZone: 'Europe/London' });
  const natural = [...loadCorpus().values()].flat();
  for (const [source, cases] of [
    ['natural', natural],
    ['natural-extra', heldOutCases()],
  ] as const)
    for (const c of cases)
      for (const withQuote of [true, false]) {
        const name = `${source}/${c.lang}-${c.index}${withQuote ? '' : '/no-quote'}`;
        verdicts[name] = messageVerdict(await readCase(c, { withQuote }));
        // The case's words alone, as the intent reader sees them once quotes are gone, and
        // moved later in a reply, which its rules about opening sentences tell apart.
        if (!withQuote)
          for (const [variant, text] of [
            ['intent', c.text],
            ['second', `${sorry} ${c.text}`],
            ['third', `Hi Sam,\n\n${sorry} ${busy} ${c.text}`],
            ['fourth', `${sorry} ${busy}\n${thanks} ${c.text}`],
            ['before', `${c.text}\n\n${busy}`],
          ] as const)
            verdicts[`${name}/${variant}`] = bodyVerdict({ text });
      }
  for (const c of publicCases()) {
    const name = `public/${c.source}/${c.name}`;
    switch (c.kind ?? 'text') {
      case 'eml':
        verdicts[name] = await readRaw(Buffer.from(c.body, 'utf8'), {});
        break;
      case 'html':
        verdicts[name] = bodyVerdict({ html: c.body });
        break;
      case 'text':
        verdicts[name] = bodyVerdict({ text: c.body });
        break;
    }
  }
  return verdicts;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  const verdicts = await readerVerdicts();
  // One verdict a line: a changed reading shows as a one-line diff.
  const lines = Object.entries(verdicts).map(
    ([name, verdict]) => `${JSON.stringify(name)}: ${JSON.stringify(verdict)}`,
  );
  writeFileSync(snapshotPath, `{\n${lines.join(',\n')}\n}\n`);
  // eslint-disable-next-line no-console -- a generator: saying what it wrote is its job
  console.log(`wrote ${Object.keys(verdicts).length} verdicts to ${snapshotPath}`);
}
