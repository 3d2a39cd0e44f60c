import { createRequire } from 'node:module';
import EmailReplyParser from 'email-reply-parser';
import { replyMarker } from '../render/chrome.js';

/**
 * The learner's own words of a reply: quoted history, client separators and signatures removed.
 *
 * Our own line rules run first and cut the message at the first line where the quoted history
 * starts (a quote header, an Outlook header block, an "Original Message" or underscore separator,
 * a `-- ` signature, a "Sent from my iPhone" line, our "Reply above this line" marker). They are
 * linear, language-aware and strict about what a header looks like, so a learner's sentence
 * that starts with "On" or "From" is never taken for one. email-reply-parser then reads what is
 * left, for what it knows and we do not (">" quoted lines, "Regards" signatures, CJK and Polish
 * headers). Everything after the first cut is dropped: a reply written below the quoted email
 * (bottom posting) loses its words, which is the price of never keeping our own email's text.
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
  const lines = normaliseLines(raw);
  const cut = firstHistoryLine(lines);
  const kept = isBlank(lines.slice(0, cut)) ? inlineAnswers(lines, cut) : lines.slice(0, cut);
  const reduced = withoutLibraryHistory(collapseBlankRuns(kept));
  return tidy(reduced);
}

function isBlank(lines: readonly string[]): boolean {
  return lines.every((line) => line.trim() === '');
}

/**
 * A reply with nothing above the quote header may answer inline, between ">" quoted lines
 * ("> What about option B?\nOption B has drawbacks."). Then the learner's words are the unquoted
 * lines below the header, up to the next history marker; the library hides the quoted ones.
 * Without ">" quoting (Outlook) everything below the header is history.
 */
function inlineAnswers(lines: readonly string[], cut: number): string[] {
  const quoteStart = lines.findIndex((line, index) => index > cut && line.trim() !== '');
  if (quoteStart === -1 || !(lines[quoteStart] ?? '').startsWith('>')) return [];
  const below = lines.slice(quoteStart);
  // Quoted lines are hidden anyway, our "Reply above this line" among them: only an unquoted
  // marker (a signature, a second header) ends the answers.
  const end = below.findIndex(
    (line, index) => !line.startsWith('>') && startsHistory(below, index),
  );
  const own = end === -1 ? below : below.slice(0, end);
  return own.some((line) => line.trim() !== '' && !line.startsWith('>')) ? own : [];
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
  return (
    line.includes(replyMarker) ||
    isSignatureDelimiter(line) ||
    isUnderscoreRule(line) ||
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

/** Outlook's `________________________________` above the header block. */
function isUnderscoreRule(line: string): boolean {
  return /^\s*_{10,}\s*$/.test(line.slice(0, headerMaxChars));
}

const originalMessageWords = [
  'original message',
  'ursprüngliche nachricht',
  'originalnachricht',
  "message d'origine",
  'message d’origine',
  'mensaje original',
  'messaggio originale',
  'mensagem original',
  'oorspronkelijk bericht',
  'origineel bericht',
  'originalmeddelande',
  'ursprungligt meddelande',
  'oprindelig meddelelse',
  'opprinnelig melding',
  'alkuperäinen viesti',
  'forwarded message',
  'weitergeleitete nachricht',
  'message transféré',
  'mensaje reenviado',
  'messaggio inoltrato',
  'mensagem encaminhada',
  'doorgestuurd bericht',
  'vidarebefordrat meddelande',
  'videresendt meddelelse',
  'videresendt melding',
  'välitetty viesti',
  'reply message',
];

/** `-----Original Message-----` and its translations, with or without the dashes' spaces. */
function isOriginalMessageSeparator(line: string): boolean {
  const match = /^[\s>*]*-{2,}\s*([^-]{3,60}?)\s*-{2,}\s*$/.exec(line.slice(0, headerMaxChars));
  const words = match?.[1]?.toLowerCase();
  return words !== undefined && originalMessageWords.includes(words);
}

/** Apple Mail's forward intro: the learner's words are above it. */
function isForwardIntro(line: string): boolean {
  return /^\s*(?:Begin forwarded message|Anfang der weitergeleiteten Nachricht|Début du message réexpédié|Inicio del mensaje reenviado|Inizio messaggio inoltrato|Início da mensagem reencaminhada|Begin doorgestuurd bericht|Vidarebefordrat brev)\s*:\s*$/i.test(
    line.slice(0, headerMaxChars),
  );
}

// "Sent from my iPhone" and friends. A sentence that only starts so ("Sent from my desk, is much
// easier...") has more punctuation and words than these one-line client stamps ever do.
const deviceSignatureStart =
  /^\s*(?:Sent from|Sent via|Sent with|Sent using|Get Outlook for|Envoyé de mon|Envoyé depuis|Envoyé à partir de|Obtenir Outlook pour|Télécharger Outlook pour|Von meinem|Gesendet von|Outlook für \S+ beziehen|Enviado desde|Enviado do meu|Enviado de meu|Enviado do|Inviato da|Scarica Outlook per|Verzonden vanaf|Verstuurd vanaf|Outlook voor \S+ downloaden|Skickat från|Hämta Outlook för|Sendt fra|Hent Outlook til|Få Outlook til|Lähetetty|Hanki Outlook)\b/i;

function isDeviceSignature(line: string): boolean {
  if (line.length > 120 || !deviceSignatureStart.test(line)) return false;
  const words = line.replace(/<[^<>\s]*>/g, '').trim();
  return !/[,;!?]/.test(words) && words.split(/\s+/).length <= 10;
}

// ---------------------------------------------------------------------------------------------
// Outlook header blocks: From/Sent/To/Subject in the client's language

const fromLabel =
  /^\s*\*?(?:From|De|Von|Da|Van|Från|Fra|Frá|Lähettäjä|Od|От|Kimden|Feladó)\s*\*?\s*:/i;
const followingLabel =
  /^\s*\*?(?:Sent|Date|To|Cc|Subject|Envoyé(?: le)?|À|A|Objet|Gesendet|Datum|An|Betreff|Enviado(?: el)?|Enviada em|Fecha|Para|Asunto|Assunto|Data|Inviato|Oggetto|Verzonden|Aan|Onderwerp|Skickat|Till|Ämne|Kopia|Sendt|Dato|Til|Emne|Kopi|Lähetetty|Päivämäärä|Vastaanottaja|Aihe|Wysłane|Do|Temat|Odesláno|Komu|Předmět)\s*\*?\s*:/i;

/**
 * A `From:` line followed, within the next five lines, by at least two other header lines
 * (Sent, Date, To, Subject...): one "From:" alone is how a learner may start a sentence.
 */
function isOutlookHeaderBlock(lines: readonly string[], index: number): boolean {
  const first = (lines[index] ?? '').slice(0, headerMaxChars);
  if (!fromLabel.test(first)) return false;
  let labels = 0;
  for (const next of lines.slice(index + 1, index + 6)) {
    if (followingLabel.test(next.slice(0, headerMaxChars))) labels++;
  }
  return labels >= 2;
}

// ---------------------------------------------------------------------------------------------
// Quote headers: "On <date>, <name> wrote:" in the client's language, maybe wrapped

// The words a header starts with, per language: On (en), Le (fr), Am (de), El (es, ca), Il / In
// data (it), Em / No dia (pt), Op (nl), Den / På (sv, da, no), Dne (cs), W dniu / Dnia (pl).
const headerOpener = /^\s*(?:On|Le|Am|El|Il|In data|Em|No dia|Op|Den|På|Dne|W dniu|Dnia|El día)\s/i;

// The verb that ends it, then a colon (only Zoho's dash-framed "wrote ----" has none), or the verb
// followed by the author (nl, de, sv, da, no: "Op 4 jan. 2027 schreef Digital Gym <...>:").
const headerVerb =
  '(?:wrote|a écrit|écrit|schrieb|escribió|escribio|ha escrit|scritto|escreveu|schreef|skrev|kirjoitti|napisał|napisal|pisze|napsal|írta)';
const headerVerbAtEnd = new RegExp(`${headerVerb}\\s*:$`, 'i');
const headerVerbAtFramedEnd = new RegExp(`${headerVerb}$`, 'i');
const headerVerbBeforeAuthor = /\b(?:schrieb|schreef|skrev|wrote|kirjoitti)\s[^:]*:$/i;

// A real header carries a time, a year or an address; "On Monday I wrote:" carries none.
const headerAddress = /@|</;
const headerTime = /\d{1,2}[:.h]\d{2}/;
const headerYear = /\b(?:19|20)\d{2}\b/;
// Gmail's ISO style: "2014-03-20 8:48 GMT+01:00 Rémi Dolan <do_not_reply@dolan.com>:"
const isoHeader = /^\s*(?:19|20)\d{2}-\d{2}-\d{2}\s[^<>]*<[^<>]*>:$/;

/** Whether one line, or it and the one or two after it (a wrapped header), is a quote header. */
function isQuoteHeaderAt(lines: readonly string[], index: number): boolean {
  const first = lines[index] ?? '';
  if (first.length > headerMaxChars) return false;
  if (isQuoteHeader(first)) return true;
  // A wrapped header's later lines are not blank and do not begin a header of their own; else
  // "On Monday I..." followed by a real header would be taken together as one.
  let joined = first;
  for (let extra = 1; extra <= 2; extra++) {
    const next = lines[index + extra];
    if (next === undefined || next.trim() === '' || isHeaderLike(next)) return false;
    joined = `${joined} ${next.trim()}`;
    if (joined.length > headerMaxChars) return false;
    if (isQuoteHeader(joined)) return !/[.!?]$/.test(first.trim()) || /@|</.test(first);
  }
  return false;
}

function isHeaderLike(line: string): boolean {
  return headerOpener.test(line) || isQuoteHeader(line) || fromLabel.test(line);
}

/** One candidate header, already joined from its wrapped lines. */
function isQuoteHeader(candidate: string): boolean {
  if (candidate.length > headerMaxChars) return false;
  // Zoho frames it in dashes, "---- On Wed, 24 Feb 2021 ... wrote ----"; "> " when nested.
  const dashFramed = /-{2,}$/.test(candidate.trimEnd());
  const text = candidate
    .replace(/^[\s>*-]+/, '')
    .replace(/[\s*-]+$/, '')
    .replace(/\s+/g, ' ');
  if (isoHeader.test(text)) return true;
  const endsWithVerb =
    headerVerbAtEnd.test(text) ||
    (dashFramed && headerVerbAtFramedEnd.test(text)) ||
    (text.endsWith(':') && headerVerbBeforeAuthor.test(text));
  if (!endsWithVerb) return false;
  const address = headerAddress.test(text);
  const time = headerTime.test(text);
  const year = headerYear.test(text);
  if (headerOpener.test(text)) return address || time || year;
  // Without an opener word ("Jane <jane@...> wrote:", "tir. 18. apr. 2017 kl. 13:09 skrev ...",
  // "2013.02.08. 7:31 keltezéssel, ... írta:") it takes two of the three.
  return [address, time, year].filter(Boolean).length >= 2;
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
  const total = lines.reduce((sum, line) => sum + line.length + 1, 0);
  if (total > libraryMaxChars || lines.every((line) => line.trim() === '')) return [...lines];
  const longLines: string[] = [];
  const shortened = lines.map((line, index) => {
    if (line.length <= libraryMaxLineChars && !isLearnersOwn(line, lines[index - 1])) return line;
    longLines.push(line);
    return placeholder(longLines.length - 1);
  });
  const visible = new EmailReplyParser().read(shortened.join('\n')).getVisibleText();
  return visible
    .split('\n')
    .map((line) =>
      line.replace(/\uE000(\d+)\uE001/g, (_, n: string) => longLines[Number(n)] ?? ''),
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

// Outlook (web, new and desktop 365) starts the history with one of these; nothing after it is
// the learner's, nested or not, so the HTML is cut at the tag's `<`.
const outlookHistoryStart =
  /<(?:div|hr|span)\b[^<>]*\bid\s*=\s*["']?(?:x_)?(?:divRplyFwdMsg|appendonsend|stopSpelling)\b/i;

interface HtmlToTextOptions {
  wordwrap: false;
  limits: { maxDepth: number; maxChildNodes: number; maxInputLength: number };
  selectors: { selector: string; format?: string; options?: Record<string, unknown> }[];
}
type Convert = (html: string, options: HtmlToTextOptions) => string;

// html-to-text ships no type declarations: load its CommonJS build with the one signature we use.
const require = createRequire(import.meta.url);
const { convert } = require('html-to-text') as { convert: Convert };

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

/** The text of an HTML body without the quote containers each client wraps history in. */
function htmlToPlainText(html: string): string {
  if (html.trim() === '') return '';
  const capped = html.slice(0, maxHtmlChars);
  const outlook = outlookHistoryStart.exec(capped);
  const own = outlook === null ? capped : capped.slice(0, outlook.index);
  try {
    return convert(own, htmlToTextOptions);
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
