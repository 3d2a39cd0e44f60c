/**
 * The public reply-parsing corpora (test/fixtures/corpora/<project>/, each with its LICENSE and
 * SOURCE.md) as visible-text cases: the reply body and the learner's own words expected from
 * it. Shared by test/replies/public-corpora.test.ts and `npm run measure:replies`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMessage } from '../../src/replies/read.js';
import { visibleText } from '../../src/replies/visible-text.js';
import { normalise, scoredCases } from '../inbound/corpus.js';

const corporaDir = fileURLToPath(new URL('../fixtures/corpora/', import.meta.url));

/** Each project whose fixtures are laid out as emails/<name>.txt and visible/<name>.txt. */
export const publicProjects = [
  'talon',
  'discourse-email-reply-trimmer',
  'willdurand-email-reply-parser',
  'zapier-email-reply-parser',
  'fiedl-extended-email-reply-parser',
] as const;

export interface VisibleCase {
  /** The project the case comes from (its folder, or `crisp-email-reply-parser`). */
  readonly source: string;
  readonly name: string;
  readonly body: string;
  /**
   * `text` (the default) and `html` bodies are read with `visibleText` (an HTML one is compared
   * with white space runs as one space); an `eml` message with `readMessage`, end to end.
   */
  readonly kind?: Kind;
  readonly expected: string;
}

/**
 * `emails/x.txt` is expected in `visible/x.txt`; `emails/x.html` (an HTML body) and `emails/x.eml`
 * (a whole message, read with `readMessage`) in `visible/x.html.txt` and `visible/x.eml.txt`.
 */
export function expectationFile(email: string): string {
  return email.endsWith('.txt') ? email : `${email}.txt`;
}

type Kind = 'text' | 'html' | 'eml';
const kindOf = (file: string): Kind =>
  file.endsWith('.html') ? 'html' : file.endsWith('.eml') ? 'eml' : 'text';

function projectCases(project: string): VisibleCase[] {
  const dir = join(corporaDir, project);
  const emails = join(dir, 'emails');
  if (!existsSync(join(dir, 'LICENSE')))
    throw new Error(`${dir}: no LICENSE beside the fixtures; copy the upstream licence first`);
  return readdirSync(emails)
    .filter((file) => /\.(?:txt|html|eml)$/.test(file))
    .sort()
    .map((file) => {
      const expectedPath = join(dir, 'visible', expectationFile(file));
      if (!existsSync(expectedPath))
        throw new Error(`${expectedPath}: missing; write the expected visible text of ${file}`);
      return {
        source: project,
        name: file.replace(/\.txt$/, ''),
        body: readFileSync(join(emails, file), 'utf8'),
        kind: kindOf(file),
        expected: readFileSync(expectedPath, 'utf8'),
      };
    });
}

/**
 * crisp-oss cases whose expectation, read from the upstream test, is the first fragment of a
 * bottom-posted reply ("Hi," of email_2): the learner's words go on below the quote, and the
 * full text is written in email-reply-parser/visible/<fixture>.
 */
const crispOverrides = new URL('../fixtures/corpora/email-reply-parser/visible/', import.meta.url);

function crispExpected(name: string, fromTests: string): string {
  const override = new URL(name, crispOverrides);
  return existsSync(fileURLToPath(override)) ? readFileSync(override, 'utf8') : fromTests;
}

/** Every public case: the crisp-oss corpus (expectations from its tests) and the projects above. */
export function publicCases(): VisibleCase[] {
  const crisp = scoredCases().scored.map((c): VisibleCase => ({
    source: 'crisp-email-reply-parser',
    ...c,
    expected: crispExpected(c.name, c.expected),
  }));
  return [...crisp, ...publicProjects.flatMap(projectCases)];
}

export interface VisibleOutcome {
  readonly case: VisibleCase;
  readonly got: string;
  readonly right: boolean;
}

/** Reads every case with the product's reader and compares it with the expectation. */
export async function scoreVisible(cases: readonly VisibleCase[]): Promise<VisibleOutcome[]> {
  const outcomes: VisibleOutcome[] = [];
  for (const c of cases) {
    const got = await readCase(c);
    outcomes.push({ case: c, got, right: comparable(c, got) === comparable(c, c.expected) });
  }
  return outcomes;
}

async function readCase(c: VisibleCase): Promise<string> {
  switch (c.kind ?? 'text') {
    case 'html':
      return visibleText({ html: c.body });
    case 'eml':
      return (await readMessage(Buffer.from(c.body, 'utf8'))).text;
    case 'text':
      return visibleText({ text: c.body });
  }
}

/** The text as compared: normalised, and for an HTML case with its white space runs as one. */
export function comparable(c: VisibleCase, text: string): string {
  const normalised = normalise(text);
  return c.kind === 'html' ? normalised.replace(/\s+/g, ' ') : normalised;
}
