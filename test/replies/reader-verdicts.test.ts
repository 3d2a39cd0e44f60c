/**
 * The reply reader reads every known message and body exactly as the committed snapshot says
 * (test/fixtures/replies/reader-verdicts.json, made by test/replies/reader-verdicts.ts from the
 * reader before it was tuned for speed in #17). A change meant to make reading faster must not
 * change one verdict; a change meant to read differently regenerates the snapshot on purpose.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { intentTypes } from './natural-corpus.js';
import { readerVerdicts, snapshotPath, type Verdict } from './reader-verdicts.js';

const snapshot = JSON.parse(readFileSync(snapshotPath, 'utf8')) as Record<string, Verdict>;

describe('the reply reader keeps every verdict of its snapshot', () => {
  it('reads the same messages and bodies as when the snapshot was made', async () => {
    const verdicts = await readerVerdicts();
    expect(Object.keys(verdicts)).toEqual(Object.keys(snapshot));
    // Named per message, so a failure says which reading changed.
    const changed = Object.keys(snapshot).filter(
      (name) => JSON.stringify(verdicts[name]) !== JSON.stringify(snapshot[name]),
    );
    expect(changed.map((name) => ({ name, got: verdicts[name], was: snapshot[name] }))).toEqual([]);
    expect(verdicts).toEqual(snapshot);
  });

  it('covers every kind of message and every intent', () => {
    const kinds = new Set(Object.values(snapshot).map((v) => v.kind));
    const intents = new Set(
      Object.values(snapshot).map((v) => (v.intent as { type?: string } | null)?.type),
    );
    expect([...kinds].sort()).toEqual(['auto_reply', 'bounce', 'reply', 'rsvp', undefined].sort());
    for (const type of intentTypes) expect(intents).toContain(type);
    expect(Object.keys(snapshot).length).toBeGreaterThan(2000);
  });
});
