import { createRequire } from 'node:module';
import EmailForwardParser from 'email-forward-parser';
import EmailReplyParser from 'email-reply-parser';
import { replyMarker } from '../render/chrome.js';
import { asPattern, entriesOf, escapeRegExp } from './quote-headers.js';

/**
 * The learner's own words of a reply: quoted history, forwarded messages, client separators and
 * signatures removed. Each part does what it is strongest at:
 *
 * 1. HTML bodies lose their quoted parts before they become text: the history markers of Outlook
 *    on the web, Zimbra, Yahoo and Zoho cut the document, and Gmail's, Apple's and Thunderbird's
 *    quote containers are skipped by html-to-text, so answers between them stay.
 * 2. email-forward-parser finds where a forwarded message starts, in some twenty languages; only
 *    the words above it are the learner's.
 * 3. Our own line rules, built from the per-language tables in quote-headers.ts, find the first
 *    line where the history starts (a quote header, an Outlook header block, an "Original
 *    Message" separator, a `-- ` signature, a "Sent from my iPhone" line, our "Reply above this
 *    line" marker). They are linear and strict about what a header looks like, so a learner's
 *    sentence that starts with "On" or "From" is never taken for one. Below a quote header over
 *    ">" lines, the unquoted lines are the learner's answers (inline and bottom posting) and are
 *    kept; below anything else, everything is history.
 * 4. email-reply-parser then reads what is left, for what it knows and we do not (">" quoted
 *    lines above any header, "Regards" signatures).
 */

/** Only this much of a text body is read: a reply is a few lines, not a novel. */
const maxTextChars = 64 * 1024;
/** Only this much of an HTML body is read. */
const maxHtmlChars = 256 * 1024;

// email-reply-parser's regexes backtrack (`.+\s.+`, `[\s\S]+?`) when re2 is not installed, so it
// only sees short lines and bounded text; longer input stays with our linear rules.
const libraryMaxChars = 16 * 1024;
const libraryMaxLineChars = 200;
// No quote header or signature line is longer than this, even joined from a wrapped pair.
const headerMaxChars = 400;

export function visibleText(input: {
  text?: string | undefined;
  html?: string | undefined;
}): string {
  const text = input.text ?? '';
  const source = text.trim() !== '' ? text : htmlToPlainText(input.html ?? '');
  return visibleTextOfPlain(source);
}

function visibleTextOfPlain(raw: string): string {
  const lines = withoutForward(normaliseLines(raw));
  const reduced = withoutLibraryHistory(collapseBlankRuns(ownLines(lines)));
  return tidy(reduced);
}

function isBlank(lines: readonly string[]): boolean {
  return lines.every((line) => line.trim() === '');
}

/**
 * The lines above the first history marker and, when that marker is a quote header over ">"
 * quoted lines, the learner's answers written between and below them ("Before ... After",
 * inline and bottom posting): the header, the quoted lines and the blank lines after each are
 * dropped, the unquoted lines kept, up to the next unquoted history marker. Without ">" quoting
 * (Outlook, Apple's forwards) everything below the marker is history.
 */
function ownLines(lines: readonly string[]): string[] {
  const cut = firstHistoryLine(lines);
  const above = lines.slice(0, cut);
  const headerLines = cut < lines.length ? quoteHeaderLinesAt(lines, cut) : 0;
  if (headerLines === 0) return above;
  const quoteStart = lines.findIndex(
    (line, index) => index >= cut + headerLines && line.trim() !== '',
  );
  if (quoteStart === -1 || !isQuoted(lines[quoteStart] ?? '')) return above;
  const answers: string[] = [];
  let dropping = true;
  for (let index = quoteStart; index < lines.length; index++) {
    const line = lines[index] ?? '';
    if (isQuoted(line) || isWrappedLinkInQuote(lines, index)) {
      dropping = true;
      continue;
    }
    if (line.trim() === '' && dropping) continue;
    // Quoted lines are dropped anyway, our "Reply above this line" among them: only an
    // unquoted marker (a signature, a second header) ends the answers.
    if (startsHistory(lines, index)) break;
    dropping = false;
    answers.push(line);
  }
  if (isBlank(answers)) return above;
  return isBlank(above) ? answers : [...above, ...answers];
}

function isQuoted(line: string): boolean {
  return line.startsWith('>');
}

/**
 * The rest of a long quoted line that the client wrapped without a ">", between two quoted lines:
 * a link ("> View ticket (http://example.com/action" / "_nonce=3dd518)" / ">") or the end of a
 * sentence under a full-width quoted line, which goes on in lower case. An answer written inline
 * starts a sentence of its own, or has blank lines around it.
 */
function isWrappedLinkInQuote(lines: readonly string[], index: number): boolean {
  const line = (lines[index] ?? '').trim();
  const previous = lines[index - 1] ?? '';
  if (!isQuoted(previous) || !isQuoted(lines[index + 1] ?? '')) return false;
  const wrappedSentence = previous.length >= 60 && /^\p{Ll}/u.test(line);
  return /:\/\//.test(line) || /^\S*[=/&?]\S*\)$/.test(line) || wrappedSentence;
}

/**
 * CRLF and lone CR to LF, the length cap, trailing spaces off every line, and the two
 * private-use characters our placeholders are made of (they carry nothing in an email).
 */
function normaliseLines(raw: string): string[] {
  return raw
    .slice(0, maxTextChars)
    .replace(/[\uE000\uE001]/g, '')
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd());
}

/** At most two blank lines in a row: more say nothing, and they make the library's `^\s*` slow. */
function collapseBlankRuns(lines: readonly string[]): string[] {
  const out: string[] = [];
  let blanks = 0;
  for (const line of lines) {
    blanks = line === '' ? blanks + 1 : 0;
    if (blanks <= 2) out.push(line);
  }
  return out;
}

/** Leading and trailing blank lines off, and trailing separators left behind by a cut. */
function tidy(lines: readonly string[]): string {
  const out = lines.map((line) => line.trimEnd());
  while (out.length > 0 && isBlankOrRule(out[out.length - 1] ?? '')) out.pop();
  while (out.length > 0 && (out[0] ?? '').trim() === '') out.shift();
  return out.join('\n');
}

// A line of only dashes, underscores, equals signs or stars (and spaces): a horizontal rule that
// a client put above the quoted history.
function isBlankOrRule(line: string): boolean {
  return /^[\s\-_=*—–]*$/.test(line);
}

// ---------------------------------------------------------------------------------------------
// Where the quoted history starts

/** The index of the first line of quoted history or signature, or `lines.length`. */
function firstHistoryLine(lines: readonly string[]): number {
  for (let index = 0; index < lines.length; index++) {
    if (startsHistory(lines, index)) return index;
  }
  return lines.length;
}

function startsHistory(lines: readonly string[], index: number): boolean {
  const line = lines[index] ?? '';
  if (line.trim() === '') return false;
  return isUnderscoreRule(lines, index) || startsHistoryOtherThanRule(lines, index);
}

function startsHistoryOtherThanRule(lines: readonly string[], index: number): boolean {
  const line = lines[index] ?? '';
  if (line.trim() === '') return false;
  return (
    line.includes(replyMarker) ||
    isSignatureDelimiter(line) ||
    isOriginalMessageSeparator(line) ||
    isForwardIntro(line) ||
    isDeviceSignature(line) ||
    isOutlookHeaderBlock(lines, index) ||
    isQuoteHeaderAt(lines, index)
  );
}

/** `-- ` (RFC 3676), which we see as `--` because trailing spaces are already trimmed. */
function isSignatureDelimiter(line: string): boolean {
  return line === '--';
}

/**
 * Outlook's `________________________________` right above its header block, or a rule above a
 * signature block ("____ / Dr. Jane Doe / Comms team"). A rule with a blank line and then
 * sentences under it is a delimiter in the learner's own text ("Part one / ____ / Part two.").
 */
function isUnderscoreRule(lines: readonly string[], index: number): boolean {
  const line = (lines[index] ?? '').slice(0, headerMaxChars);
  if (!/^\s*_{10,}\s*$/.test(line)) return false;
  if ((lines[index + 1] ?? '').trim() !== '') return true;
  return isSignatureBlockBelow(lines, index + 1);
}

/**
 * Whether the lines from `start` up to the next history marker (or the end) are a signature:
 * one to five short lines (a name, a title, a place), none of them ending a sentence.
 */
function isSignatureBlockBelow(lines: readonly string[], start: number): boolean {
  const block: string[] = [];
  for (let index = start; index < lines.length && block.length <= 5; index++) {
    const line = lines[index] ?? '';
    if (line.trim() === '') continue;
    if (startsHistoryOtherThanRule(lines, index)) break;
    block.push(line.trim());
  }
  return (
    block.length >= 1 &&
    block.length <= 5 &&
    block.every((line) => line.length <= 40 && !/[.!?:;]$/.test(line))
  );
}

// Table entries, lower case and with one kind of apostrophe, for exact comparison.
const fold = (text: string) => text.toLowerCase().replace(/’/g, "'").replace(/\s+/g, ' ');
const separatorWords = new Set(entriesOf('separators').map(fold));

/**
 * `-----Original Message-----` and its translations and decorations: `----- Original Message
 * -----`, `*-----Original Message-----*`, `> ---------- Forwarded message ---------`.
 */
function isOriginalMessageSeparator(line: string): boolean {
  const match = /^[\s>*_]*-{2,}\s*(.{2,60}?)\s*-{2,}[\s*_]*$/u.exec(line.slice(0, headerMaxChars));
  const words = match?.[1];
  return words !== undefined && separatorWords.has(fold(words));
}

const forwardIntro = new RegExp(
  `^\\s*>?\\s*(?:${entriesOf('forwardIntros').map(asPattern).join('|')})\\s*[:：]\\s*$`,
  'iu',
);

/** Apple Mail's forward intro ("Begin forwarded message:"): the learner's words are above it. */
function isForwardIntro(line: string): boolean {
  return forwardIntro.test(line.slice(0, headerMaxChars));
}

// "Sent from my iPhone" and friends. A sentence that only starts so ("Sent from my desk, is much
// easier...") has more punctuation and words than these one-line client stamps ever do. A stamp
// in a script with spaces ends a word ("Sent from", not "Sent fromage"); in Chinese the device
// follows directly ("发自我的iPhone").
const deviceSignatureStart = new RegExp(
  `^\\s*(?:${entriesOf('deviceSignatures')
    .map((entry) =>
      /[\p{Script=Latin}\p{Script=Cyrillic}]$/u.test(entry)
        ? `${asPattern(entry)}(?![\\p{L}\\p{N}])`
        : asPattern(entry),
    )
    .join('|')})`,
  'iu',
);

function isDeviceSignature(line: string): boolean {
  if (line.length > 120 || !deviceSignatureStart.test(line)) return false;
  const words = line.replace(/<[^<>\s]*>/g, '').trim();
  return !/[,;!?]/.test(words) && words.split(/\s+/).length <= 10;
}

// ---------------------------------------------------------------------------------------------
// Outlook header blocks: From/Sent/To/Subject in the client's language

const labelPattern = (labels: readonly string[]) =>
  new RegExp(`^\\s*\\*?(?:${labels.map(asPattern).join('|')})\\s*\\*?\\s*[:：]`, 'iu');
const fromLabel = labelPattern(entriesOf('fromLabels'));
const followingLabel = labelPattern(entriesOf('otherLabels'));
const dateLabel = labelPattern(['Date', 'Datum', 'Fecha', 'Data', 'Dato', 'Дата', '日期', '日付']);

/**
 * A `From:` line followed, within the next five lines, by at least two other header lines
 * (Sent, Date, To, Subject...): one "From:" alone is how a learner may start a sentence. Some
 * clients start the block with the date ("Date: Fri, 28 Sep 2012 10:55:48 +0000" then From, To);
 * a Date line with a year and a time, right above another header line, starts one too.
 */
function isOutlookHeaderBlock(lines: readonly string[], index: number): boolean {
  const first = (lines[index] ?? '').slice(0, headerMaxChars);
  if (dateLabel.test(first) && headerYear.test(first) && headerTime.test(first)) {
    const next = (lines[index + 1] ?? '').slice(0, headerMaxChars);
    if (fromLabel.test(next) || followingLabel.test(next)) return true;
  }
  if (!fromLabel.test(first)) return false;
  let labels = 0;
  for (const next of lines.slice(index + 1, index + 6)) {
    if (followingLabel.test(next.slice(0, headerMaxChars))) labels++;
  }
  return labels >= 2;
}

// ---------------------------------------------------------------------------------------------
// Quote headers: "On <date>, <name> wrote:" in the client's language, maybe wrapped

// The words a header starts with, per language (quote-headers.ts): On, Le, Am, El, Il giorno,
// Em, Op, Den, På, Dne, W dniu, Ar, 在...
const headerOpener = new RegExp(
  `^\\s*(?:${entriesOf('openers').map(asPattern).join('|')})\\s`,
  'iu',
);
const wroteOpener = new RegExp(
  `^\\s*(?:${entriesOf('wroteOpeners').map(asPattern).join('|')})\\s`,
  'iu',
);

// A verb in a script with spaces must start a word ("wrote", not "rewrote"); a Japanese or
// Chinese one follows the name or the time directly ("Name <x@y>于...09:00写道：").
const alphabetic = /^[\p{Script=Latin}\p{Script=Cyrillic}]/u;
const verbAlternation = (verbs: readonly string[]) =>
  verbs
    .map((verb) =>
      alphabetic.test(verb)
        ? `(?<![\\p{Script=Latin}\\p{Script=Cyrillic}])${asPattern(verb)}`
        : asPattern(verb),
    )
    .join('|');

// The verb that ends it, then a colon (only Zoho's dash-framed "wrote ----" has none), or the verb
// followed by the author (nl, de, sv, da, no, cy: "Op 4 jan. 2027 schreef Digital Gym <...>:").
const verbsAtEnd = verbAlternation(entriesOf('verbsAtEnd'));
const headerVerbAtEnd = new RegExp(`(?:${verbsAtEnd})\\s*[:：]$`, 'iu');
const headerVerbAtFramedEnd = new RegExp(`(?:${verbsAtEnd})$`, 'iu');
const headerVerbBeforeAuthor = new RegExp(
  `(?:${verbAlternation(entriesOf('verbsBeforeAuthor'))})\\s[^:：]*[:：]$`,
  'iu',
);

// A real header carries a time, a year or an address; "On Monday I wrote:" carries none.
const headerAddress = /@|</;
const headerTime = /\d{1,2}[:.h]\d{2}/;
const headerYear = /(?<!\d)(?:19|20)\d{2}(?!\d)/;
// Gmail without a verb (ISO dates, Russian, Japanese): "2014-03-20 8:48 GMT+01:00 Rémi Dolan
// <do_not_reply@dolan.com>:", "ср, 5 мар. 2025 г. в 10:00, Имя <x@y>:", "2026年1月3日(土) 9:00
// Name <x@y>:". The address in angle brackets and then the colon end the line.
const addressThenColon = /<\s*[^<>\s]+@[^<>\s]+\s*>\s*[:：]$/;

/** Whether one line, or it and the one or two after it (a wrapped header), is a quote header. */
function isQuoteHeaderAt(lines: readonly string[], index: number): boolean {
  return quoteHeaderLinesAt(lines, index) > 0;
}

/** How many lines the quote header at `index` takes (a wrapped one, up to three), or 0. */
function quoteHeaderLinesAt(lines: readonly string[], index: number): number {
  const first = lines[index] ?? '';
  if (first.length > headerMaxChars) return 0;
  if (isQuoteHeader(first) || isDatedAddressAboveQuote(lines, index)) return 1;
  // Most lines: neither of the next two can end a wrapped header (#17).
  if (!mayEndWrappedHeader(lines[index + 1]) && !mayEndWrappedHeader(lines[index + 2])) return 0;
  // A wrapped header's later lines are not blank and do not begin a header of their own; else
  // "On Monday I..." followed by a real header would be taken together as one.
  let joined = first;
  for (let extra = 1; extra <= 2; extra++) {
    const next = lines[index + extra];
    if (next === undefined || next.trim() === '' || isHeaderLike(next)) return 0;
    joined = `${joined} ${next.trim()}`;
    if (joined.length > headerMaxChars) return 0;
    if (isQuoteHeader(joined))
      return !/[.!?]$/.test(first.trim()) || /@|</.test(first) ? extra + 1 : 0;
  }
  return 0;
}

/**
 * Whether `line`, as the last of a wrapped header joined by `quoteHeaderLinesAt`, could make it
 * one for `isQuoteHeader`: the joined text ends with a colon (what `endsWithColon` reads, decided
 * within this line unless it is only stars, dashes and spaces) or with two dashes.
 */
function mayEndWrappedHeader(line: string | undefined): boolean {
  if (line === undefined) return false;
  const trimmed = line.trim();
  return trimmed.endsWith('--') || endsWithColon(trimmed) || /^[*\s-]*$/.test(trimmed);
}

/**
 * A header with no verb and no colon, only a date and an address ("2011/4/7 Nathan <x@y>"), is
 * one when ">" quoted lines follow it.
 */
function isDatedAddressAboveQuote(lines: readonly string[], index: number): boolean {
  const line = lines[index] ?? '';
  if (!/^\s*(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}\b.*<[^<>\s]+@[^<>\s]+>\s*$/.test(line)) {
    return false;
  }
  const next = lines.slice(index + 1).find((candidate) => candidate.trim() !== '');
  return next !== undefined && isQuoted(next);
}

function isHeaderLike(line: string): boolean {
  return headerOpener.test(line) || isQuoteHeader(line) || fromLabel.test(line);
}

/** One candidate header, already joined from its wrapped lines. */
function isQuoteHeader(candidate: string): boolean {
  if (candidate.length > headerMaxChars) return false;
  // Zoho frames it in dashes, "---- On Wed, 24 Feb 2021 ... wrote ----"; "> " when nested.
  const dashFramed = /-{2,}$/.test(candidate.trimEnd());
  // Every header but a dash-framed one ends with a colon (each rule below asks for one at the
  // end of `text`): most lines are not headers, and this says so before the costly rules (#17).
  if (!dashFramed && !endsWithColon(candidate)) return false;
  const text = candidate
    .replace(/^[\s>*-]+/, '')
    .replace(/[\s*-]+$/, '')
    .replace(/\s+/g, ' ');
  const address = headerAddress.test(text);
  const time = headerTime.test(text);
  const year = headerYear.test(text);
  if (addressThenColon.test(text) && (time || year)) return true;
  if (wroteOpener.test(text) && /[:：]$/.test(text)) return address || time || year;
  const endsWithVerb =
    headerVerbAtEnd.test(text) ||
    (dashFramed && headerVerbAtFramedEnd.test(text)) ||
    headerVerbBeforeAuthor.test(text);
  if (!endsWithVerb) return false;
  if (headerOpener.test(text)) return address || time || year;
  // Without an opener word ("Jane <jane@...> wrote:", "tir. 18. apr. 2017 kl. 13:09 skrev ...",
  // "2013.02.08. 7:31 keltezéssel, ... írta:") it takes two of the three.
  return [address, time, year].filter(Boolean).length >= 2;
}

/**
 * Whether the last character of `candidate` that is not white space, `*` or `-` (what
 * `isQuoteHeader` trims off the end) is a colon.
 */
function endsWithColon(candidate: string): boolean {
  for (let i = candidate.length - 1; i >= 0; i--) {
    const c = candidate[i] ?? '';
    if (c === '*' || c === '-' || /\s/.test(c)) continue;
    return c === ':' || c === '：';
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// email-reply-parser, fed only what it can read quickly

// Lines the library would take for a signature ("Sent from my desk, which..."), but which our
// stricter rules above have already judged to be the learner's: a real one would have been cut.
const librarySignatureLookalike =
  /^\s*(?:sent|envoyé|enviado|verzonden|verstuurd|sendt|von|gesendet|télécharger|get outlook)\b/i;
// "----" or "====" right under a line of text underlines a heading; after a blank line it is a
// signature separator, as the library takes it.
const ruleLine = /^\s*[-_+=]{2,4}$/;

function isLearnersOwn(line: string, previous: string | undefined): boolean {
  return (
    librarySignatureLookalike.test(line) ||
    (ruleLine.test(line) && previous !== undefined && previous.trim() !== '')
  );
}

/**
 * What email-reply-parser keeps of `lines`. Long lines, and lines we know are not signatures, are
 * swapped for placeholders it cannot take for anything and put back afterwards (no header or
 * signature is that long, and the library's regexes are slow on long lines).
 */
function withoutLibraryHistory(lines: readonly string[]): string[] {
  return throughLibrary(
    lines,
    (line, index) => isLearnersOwn(line, lines[index - 1]),
    (text) => new EmailReplyParser().read(text).getVisibleText(),
  );
}

// email-forward-parser (crisp-oss, MIT) knows how Gmail, Outlook, Apple Mail, Yahoo, Thunderbird
// and others introduce a forwarded message in some twenty languages. It is only asked where the
// learner's words end; what it says about the forwarded message is not used.
const forwardParser = new EmailForwardParser();

// Escapes that stand for one character of a kind, or for a position: never for a plain run.
const simpleEscape = /^\\[sSdDwWbB]$|^\\[^\p{L}\p{N}]$/u;

/**
 * The longest run of plain characters (at least three) that every match of `source` holds as
 * written, for a pattern without the `i` flag that is one sequence: no group, no alternative.
 * Undefined for any other pattern, or an escape this does not know. A character under a
 * quantifier (`?`, `*`, `+`, `{n,m}`) is not part of a run; a class, `.`, an escape, `^` and `$`
 * end one.
 */
export function requiredRunOf(source: string): string | undefined {
  let best = '';
  let run = '';
  const endRun = () => {
    if (run.length > best.length) best = run;
    run = '';
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '(' || c === ')' || c === '|') return undefined;
    if (c === '?' || c === '*' || c === '+' || c === '{') {
      run = run.slice(0, -1);
      endRun();
      if (c === '{') {
        const close = source.indexOf('}', i);
        if (close < 0) return undefined;
        i = close;
      }
    } else if (c === '\\') {
      if (!simpleEscape.test(source.slice(i, i + 2))) return undefined;
      endRun();
      i++;
    } else if (c === '[') {
      endRun();
      let j = i + 1;
      while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1;
      if (j >= source.length) return undefined;
      i = j;
    } else if (c === '.' || c === '^' || c === '$' || c === ']' || c === '}') {
      endRun();
    } else run += c;
  }
  endRun();
  return best.length >= 3 ? best : undefined;
}

/**
 * Whether `text` may hold a forwarded message (#17): asked without a subject, as we ask it, the
 * library finds a forward only where one of its `separator` patterns matches (its `split` by each
 * in turn), and most replies hold none. A pattern with a run of plain characters it must match
 * ("Begin forwarded message", "kirjoitti") is tried only on text that holds the run; the others
 * in one pass, joined as alternatives (each starts with `^`, said once for them all). The library
 * first turns no-break spaces into spaces, drops byte order marks and CRs before LFs, which can
 * make a pattern match: text with any of them always goes to it, as does everything when its patterns are not as
 * described here (a new version).
 */
const mayHoldForward = ((): ((text: string) => boolean) => {
  const internals = forwardParser as unknown as {
    parser?: { regexes?: { separator?: unknown; separator_line?: unknown } };
  };
  const separators = internals.parser?.regexes?.separator;
  const lines = internals.parser?.regexes?.separator_line;
  const asDescribed =
    Array.isArray(separators) &&
    Array.isArray(lines) &&
    separators.length > 0 &&
    lines.length === separators.length &&
    separators.every(
      (pattern, index) =>
        pattern instanceof RegExp &&
        pattern.flags === 'm' &&
        pattern.source.startsWith('^') &&
        !pattern.source.includes('(?<') &&
        !/\\[1-9]/.test(pattern.source) &&
        lines[index] instanceof RegExp &&
        lines[index].source === `(${pattern.source})` &&
        lines[index].flags === 'm',
    );
  if (!asDescribed) return () => true;
  const withRun: { pattern: RegExp; run: string }[] = [];
  const withoutRun: RegExp[] = [];
  for (const pattern of separators as RegExp[]) {
    const run = requiredRunOf(pattern.source);
    if (run === undefined) withoutRun.push(pattern);
    else withRun.push({ pattern, run });
  }
  const anyWithoutRun =
    withoutRun.length === 0
      ? undefined
      : new RegExp(
          `^(?:${withoutRun.map((pattern) => `(?:${pattern.source.slice(1)})`).join('|')})`,
          'm',
        );
  // Whether any of the runs is in the text, in one pass rather than one per run.
  const anyRun = new RegExp(withRun.map(({ run }) => escapeRegExp(run)).join('|'));
  return (text) =>
    /[\u00A0\uFEFF\r]/.test(text) ||
    anyWithoutRun?.test(text) === true ||
    (anyRun.test(text) &&
      withRun.some(({ pattern, run }) => text.includes(run) && pattern.test(text)));
})();

/** The lines above a forwarded message, or all of them when there is none. */
function withoutForward(lines: readonly string[]): string[] {
  return throughLibrary(
    lines,
    () => false,
    (text) => {
      if (!mayHoldForward(text)) return text;
      const result = forwardParser.read(text);
      return result.forwarded ? (result.message ?? '') : text;
    },
  );
}

/**
 * Runs one of the libraries on `lines` when they are short enough for its backtracking regexes,
 * with long lines (and those `keep` says are the learner's own) swapped for placeholders that it
 * cannot take for anything, and put back afterwards.
 */
function throughLibrary(
  lines: readonly string[],
  keep: (line: string, index: number) => boolean,
  read: (text: string) => string,
): string[] {
  const total = lines.reduce((sum, line) => sum + line.length + 1, 0);
  if (total > libraryMaxChars || isBlank(lines)) return [...lines];
  const held: string[] = [];
  const shortened = lines.map((line, index) => {
    if (line.length <= libraryMaxLineChars && !keep(line, index)) return line;
    held.push(line);
    return placeholder(held.length - 1);
  });
  const text = shortened.join('\n');
  const result = read(text);
  // Read as it was (most replies): the lines as they came, when none holds a line break of its
  // own that the split would make two of.
  if (result === text && !lines.some((line) => line.includes('\n'))) return [...lines];
  return result
    .split('\n')
    .map((line) =>
      held.length === 0
        ? line
        : line.replace(/\uE000(\d+)\uE001/g, (_, n: string) => held[Number(n)] ?? ''),
    );
}

function placeholder(index: number): string {
  return `\uE000${index}\uE001`;
}

// ---------------------------------------------------------------------------------------------
// HTML bodies

// Elements that hold the quoted history (or a client-made signature) in each client's HTML.
const quoteContainers = [
  'div.gmail_quote',
  'div.gmail_quote_container',
  'div.gmail_extra',
  'div.gmail_signature',
  'blockquote',
  'div.moz-cite-prefix',
  'div.moz-signature',
  'pre.moz-signature',
  'div.yahoo_quoted',
  'div.ydp_quoted',
  'div.OutlookMessageHeader',
];

// Where a client starts the history in HTML; nothing after it is the learner's, nested or not, so
// the HTML is cut at the tag's `<` before it is turned into text (as talon's html_quotations
// does with cut_microsoft_quote, cut_zimbra_quote and cut_by_id):
// - Outlook on the web, new Outlook and Outlook 365: `<div id="appendonsend">`, `<hr>` then
//   `<div id="divRplyFwdMsg">` (`x_` prefixed once forwarded), `mail-editor-reference-message-
//   container`; Outlook for Mac `<div id="OLK_SRC_BODY_SECTION">`; old Outlook `stopSpelling`.
// - Zimbra: `<hr id="zwchr" data-marker="__DIVIDER__">` above `data-marker="__QUOTED_TEXT__"`.
// - Yahoo: `<div id="yahoo_quoted_…" class="yahoo_quoted">`, its classes prefixed `ydp…` when
//   the reply is itself quoted again.
// - Zoho: `<div class="zmail_extra">`.
const htmlHistoryStarts = [
  /<(?:div|hr|span)\b[^<>]*\bid\s*=\s*["']?(?:x_)?(?:divRplyFwdMsg|appendonsend|stopSpelling|mail-editor-reference-message-container|OLK_SRC_BODY_SECTION|zwchr)\b/i,
  /<(?:div|hr)\b[^<>]*\bdata-marker\s*=\s*["']?__(?:DIVIDER|QUOTED_TEXT)__/i,
  /<div\b[^<>]*\bclass\s*=\s*["']?[^"'<>]*(?:yahoo_quoted|zmail_extra)\b/i,
];

/** The HTML before the first client history marker, or all of it. */
function beforeHtmlHistory(html: string): string {
  let end = html.length;
  for (const start of htmlHistoryStarts) {
    const found = start.exec(html);
    if (found !== null && found.index < end) end = found.index;
  }
  return html.slice(0, end);
}

interface HtmlToTextOptions {
  wordwrap: false;
  limits: { maxDepth: number; maxChildNodes: number; maxInputLength: number };
  selectors: { selector: string; format?: string; options?: Record<string, unknown> }[];
}
type Convert = (html: string) => string;

// html-to-text ships no type declarations: load its CommonJS build with the one signature we use.
const require = createRequire(import.meta.url);
const { compile } = require('html-to-text') as { compile: (options: HtmlToTextOptions) => Convert };

const htmlToTextOptions: HtmlToTextOptions = {
  wordwrap: false,
  limits: { maxDepth: 200, maxChildNodes: 10_000, maxInputLength: maxHtmlChars },
  selectors: [
    ...quoteContainers.map((selector) => ({ selector, format: 'skip' })),
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'h5', options: { uppercase: false } },
    { selector: 'h6', options: { uppercase: false } },
  ],
};
// Compiled once: html-to-text's `convert(html, options)` compiles the options and selectors
// again for every document, which cost more than converting a short reply (#17).
const convert = compile(htmlToTextOptions);

/** The text of an HTML body without the quote containers each client wraps history in. */
function htmlToPlainText(html: string): string {
  if (html.trim() === '') return '';
  const capped = html.slice(0, maxHtmlChars);
  const own = beforeHtmlHistory(capped);
  try {
    return convert(own);
  } catch {
    // A pathological document (html-to-text recurses): fall back to stripping the tags.
    return stripTags(own);
  }
}

/** A last resort: block tags to newlines, other tags off, the common entities decoded. */
function stripTags(html: string): string {
  return html
    .replace(/<(?:br|\/p|\/div|\/li|\/tr|\/h\d)\b[^<>]*>/gi, '\n')
    .replace(/<[^<>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
