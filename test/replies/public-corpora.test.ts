/**
 * The public reply-parsing corpora (talon, discourse's email_reply_trimmer, willdurand's and
 * zapier's email reply parsers, crisp-oss's email-reply-parser) as exact visible-text tests:
 * each reply body must come out as exactly the learner's words written beside it (trailing
 * spaces and surrounding blank lines aside). `npm run measure:replies` prints the same per source.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  comparable,
  expectationFile,
  publicCases,
  publicProjects,
  scoreVisible,
  type VisibleCase,
} from './visible-corpus.js';

/**
 * Where the reader and the upstream expectation still differ, and why. Each is a known miss:
 * when the reader learns it, the `it.fails` below turns red and the entry must go.
 */
const knownMisses: Record<string, string> = {
  // A line of ">>>" that is a banner, not a quote: every ">" line is read as quoted text.
  'talon/test_quotation_marker_false_positive': 'a ">>> >>> link <<<" banner is read as a quote',
};

const cases = publicCases();
const outcomes = await scoreVisible(cases);
const key = (c: VisibleCase) => `${c.source}/${c.name}`;

describe('the public corpora are complete', () => {
  it('has every project folder with its licence, source notes and an expectation per email', () => {
    const corpora = fileURLToPath(new URL('../fixtures/corpora/', import.meta.url));
    for (const project of publicProjects) {
      const files = readdirSync(`${corpora}${project}`);
      expect(files, project).toEqual(
        expect.arrayContaining(['LICENSE', 'SOURCE.md', 'emails', 'visible']),
      );
      const emails = readdirSync(`${corpora}${project}/emails`).map(expectationFile).sort();
      expect(readdirSync(`${corpora}${project}/visible`).sort(), project).toEqual(emails);
    }
    expect(cases.filter((c) => c.source !== 'crisp-email-reply-parser').length).toBeGreaterThan(50);
  });

  it('names only cases that exist among the known misses', () => {
    const keys = new Set(cases.map(key));
    expect(Object.keys(knownMisses).filter((k) => !keys.has(k))).toEqual([]);
  });
});

describe('visibleText reads each public case exactly', () => {
  const expected = outcomes.filter((o) => !(key(o.case) in knownMisses));

  it.each(expected.map((o) => [key(o.case), o] as const))('%s', (_key, outcome) => {
    expect(comparable(outcome.case, outcome.got)).toBe(
      comparable(outcome.case, outcome.case.expected),
    );
  });

  for (const [name, why] of Object.entries(knownMisses)) {
    it.fails(`${name} (known: ${why})`, () => {
      const outcome = outcomes.find((o) => key(o.case) === name);
      expect(outcome).toBeDefined();
      if (outcome === undefined) return;
      expect(comparable(outcome.case, outcome.got)).toBe(
        comparable(outcome.case, outcome.case.expected),
      );
    });
  }
});
