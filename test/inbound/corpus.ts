import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The shared corpus lives beside the repo on a developer's machine; a clean clone (CI) has the
// copy under test/fixtures (MIT, from crisp-oss/email-reply-parser).
const sharedCorpus = new URL('../../../shared/corpora/email-reply-parser/', import.meta.url);
const copiedCorpus = new URL('../fixtures/corpora/email-reply-parser/', import.meta.url);
const corpus = existsSync(fileURLToPath(new URL('expectations.json', sharedCorpus)))
  ? sharedCorpus
  : copiedCorpus;

interface CorpusCase {
  fixture: string;
  check: string;
  expected_trimmed: string | null;
  assertions: string[];
}
interface Expectations {
  date_header_variants: string[];
  cases: CorpusCase[];
}

const expectations = JSON.parse(
  readFileSync(new URL('expectations.json', corpus), 'utf8'),
) as Expectations;

export function readFixture(fixture: string): string {
  return readFileSync(new URL(fixture, corpus), 'utf8');
}

/** Trailing spaces off every line, CRLF to LF, blank lines off both ends. */
export function normalise(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trim();
}

const stringLiteral = String.raw`("(?:[^"\\]|\\.)*")`;
// The source test compares the whole visible text with a literal...
const visibleAssertions = [
  new RegExp(String.raw`test\.equal\(${stringLiteral},\s*(?:reply|email\.getVisibleText\(\))\)`),
  new RegExp(String.raw`(?:parseReply\(body\)|visibleText) === ${stringLiteral}`),
];
// ...or only the first fragment, which is the visible text when the rest is history.
const firstFragmentAssertion = new RegExp(
  String.raw`test\.equal\(${stringLiteral},\s*(?:reply\.)?fragments\[0\](?:\.toString\(\))?\)`,
);

function parseLiteral(literal: string): string {
  return JSON.parse(literal.replace(/\\'/g, "'")) as string;
}

function literalFrom(assertions: readonly string[], patterns: readonly RegExp[]): string | null {
  for (const assertion of assertions) {
    for (const pattern of patterns) {
      const literal = pattern.exec(assertion)?.[1];
      if (literal !== undefined) return parseLiteral(literal);
    }
  }
  return null;
}

export interface Scored {
  name: string;
  body: string;
  expected: string;
}

/** Every case with a derivable expected visible text; the date-header template once per variant. */
export function scoredCases(): { scored: Scored[]; notScored: string[] } {
  const scored: Scored[] = [];
  const notScored: string[] = [];
  for (const entry of expectations.cases) {
    const body = readFixture(entry.fixture);
    const name = entry.fixture.replace(/^fixtures\//, '');
    if (entry.assertions.some((a) => a.includes('TEMPLATE: replace "[DATE]"'))) {
      expectations.date_header_variants.forEach((variant, index) => {
        const expected = literalFrom(entry.assertions, visibleAssertions) ?? 'Thank you very much.';
        scored.push({ name: `${name}[${index}]`, body: body.replace('[DATE]', variant), expected });
      });
      continue;
    }
    const expected =
      entry.expected_trimmed ??
      literalFrom(entry.assertions, visibleAssertions) ??
      literalFrom(entry.assertions, [firstFragmentAssertion]);
    if (expected === null) notScored.push(name);
    else scored.push({ name, body, expected });
  }
  return { scored, notScored };
}
