/**
 * The reply reader in its own thread (src/replies/read-in-thread.ts) reads every message as
 * `readMessage` does, fails as it does, and survives being closed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInboundCorpus } from '../../bench/inbound.js';
import { threadReader } from '../../src/replies/read-in-thread.js';
import { readMessage } from '../../src/replies/read.js';
import { repositoryRoot } from '../helpers/cohort.js';

const corpus = loadInboundCorpus(repositoryRoot);
const reader = threadReader();
afterAll(() => reader.close());

describe('the reply reader in a thread', () => {
  it('reads every fixture and corpus message as readMessage does, dates and all', async () => {
    const options = { timeZone: 'Europe/London', now: new Date('2027-01-04T18:00:00Z') };
    const inThread = await Promise.all(corpus.messages.map((raw) => reader.read(raw, options)));
    const direct = await Promise.all(corpus.messages.map((raw) => readMessage(raw, options)));
    expect(inThread).toEqual(direct);
    // The cases are the ones meant: every kind, and pause dates that stay Dates.
    expect(new Set(inThread.map((read) => read.kind))).toEqual(
      new Set(['reply', 'auto_reply', 'bounce', 'rsvp']),
    );
    expect(inThread.every((read) => read.date === undefined || read.date instanceof Date)).toBe(
      true,
    );
  });

  it('fails where readMessage fails, with its reason', async () => {
    const tooLarge = Buffer.alloc(60 * 1024 * 1024, 'a');
    const reason = await readMessage(tooLarge).then(
      () => 'read',
      (error: Error) => error.message,
    );
    expect(reason).not.toBe('read');
    await expect(reader.read(tooLarge)).rejects.toThrow(reason);
    // And goes on reading.
    const raw = readFileSync(join(repositoryRoot, 'test/fixtures/replies', firstEml()));
    expect(await reader.read(raw)).toEqual(await readMessage(raw));
  });

  it('starts a new thread after it was closed', async () => {
    const raw = readFileSync(join(repositoryRoot, 'test/fixtures/replies', firstEml()));
    const closedUnderIt = expect(reader.read(raw)).rejects.toThrow(
      "the reply reader's thread was closed",
    );
    await reader.close();
    await closedUnderIt;
    expect(await reader.read(raw)).toEqual(await readMessage(raw));
  });
});

function firstEml(): string {
  return readdirSync(join(repositoryRoot, 'test/fixtures/replies'))
    .filter((name) => name.endsWith('.eml'))
    .sort()[0]!;
}
