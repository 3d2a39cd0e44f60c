import type { ParsedInbound } from './parse-mail.js';
import { asksSomething } from './intent/grammar.js';
import type { BounceReport, InboundKind, RsvpReport } from './types.js';

/**
 * What kind of message a parsed inbound message is, from its headers and structure only (pure,
 * never throws). Order matters: a bounce or a calendar reply often carries auto-reply headers
 * too, and anything machine-made must be caught before its words are read as a learner's.
 */

export interface Classification {
  readonly kind: InboundKind;
  /** What decided it, for the log and `gym reply inspect`: `Auto-Submitted: auto-replied`. */
  readonly evidence: string;
  readonly bounce?: BounceReport;
  readonly rsvp?: RsvpReport;
}

const humanReply: Classification = {
  kind: 'reply',
  evidence: 'no automatic-mail headers or subject',
};

export function classify(mail: ParsedInbound): Classification {
  return bounceOf(mail) ?? rsvpOf(mail) ?? otherReportOf(mail) ?? autoReplyOf(mail) ?? humanReply;
}

// ---------------------------------------------------------------------------------------------
// Bounces (RFC 3464 delivery status notifications)

const daemonMailbox = /^(?:mailer-daemon|postmaster)(?:@|$)/i;

function bounceOf(mail: ParsedInbound): Classification | undefined {
  const isDsnReport =
    mail.contentType === 'multipart/report' && mail.reportType === 'delivery-status';
  const fromDaemon = mail.from !== undefined && daemonMailbox.test(mail.from);
  // A delivery-status part alone is not enough: a learner could forward a bounce to us.
  if (!isDsnReport && !(fromDaemon && mail.deliveryStatus.length > 0)) return undefined;
  const fields = recipientFieldsOf(mail.deliveryStatus);
  const status = statusOf(fields, mail.text);
  if (status.startsWith('2')) {
    // A success notice (Action: delivered/relayed) is a machine's message, not a bounce.
    return { kind: 'auto_reply', evidence: `delivery report with Status: ${status}` };
  }
  const recipient = addressOfField(
    fields.get('final-recipient') ?? fields.get('original-recipient'),
  );
  const diagnostic = fields.get('diagnostic-code');
  return {
    kind: 'bounce',
    evidence: isDsnReport
      ? `Content-Type: multipart/report; report-type=delivery-status (Status: ${status})`
      : `From: ${mail.from ?? ''} with a message/delivery-status part (Status: ${status})`,
    bounce: {
      status,
      hard: status.startsWith('5'),
      recipient,
      originalMessageId: originalMessageIdOf(mail),
      diagnostic:
        diagnostic === undefined
          ? undefined
          : diagnostic
              .replace(/^[a-z0-9-]+\s*;\s*/i, '')
              .replace(/\s+/g, ' ')
              .slice(0, 1000),
    },
  };
}

const enhancedStatus = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/;

/**
 * The fields of the recipient that failed: RFC 3464 puts per-message fields first, then one
 * block per recipient, blank lines between. A failed recipient beats a delayed one.
 */
export function recipientFieldsOf(reports: readonly string[]): ReadonlyMap<string, string> {
  const blocks = reports.flatMap((report) => report.split(/\r?\n[ \t]*\r?\n/)).map(fieldsOf);
  const recipients = blocks.filter((b) => b.has('status') || b.has('action'));
  const rank = (b: ReadonlyMap<string, string>) => {
    const action = b.get('action')?.toLowerCase() ?? '';
    return action.startsWith('failed') ? 0 : action.startsWith('delayed') ? 1 : 2;
  };
  return [...recipients].sort((a, b) => rank(a) - rank(b))[0] ?? new Map();
}

/** `Name: value` lines (continuation lines unfolded) -> lower-case name -> first value. */
export function fieldsOf(block: string): ReadonlyMap<string, string> {
  const fields = new Map<string, string>();
  const unfolded = block.replace(/\r?\n(?=[ \t])/g, '');
  for (const line of unfolded.split(/\r?\n/)) {
    const match = /^([A-Za-z0-9-]+)[ \t]*:(.*)$/.exec(line);
    if (match === null) continue;
    const name = match[1]!.toLowerCase();
    if (!fields.has(name)) fields.set(name, match[2]!.trim());
  }
  return fields;
}

/**
 * `5.1.1` from Status, else from the Diagnostic-Code (`smtp; 550 5.1.1 ...`), else from the
 * report's text, else from Action. Unknown is soft (4.0.0): a mangled report must not mark an
 * address dead for good.
 */
function statusOf(fields: ReadonlyMap<string, string>, text: string | undefined): string {
  for (const source of [fields.get('status'), fields.get('diagnostic-code'), text]) {
    const match = source === undefined ? null : enhancedStatus.exec(source);
    if (match !== null) return `${match[1]}.${match[2]}.${match[3]}`;
  }
  return fields.get('action')?.toLowerCase().startsWith('failed') ? '5.0.0' : '4.0.0';
}

/** `rfc822; J.Smith@example.com` -> `j.smith@example.com`. */
function addressOfField(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const address = value
    .replace(/^[a-z0-9-]+\s*;/i, '')
    .trim()
    .replace(/^<(.*)>$/, '$1')
    .toLowerCase();
  return address.includes('@') ? address : undefined;
}

/** Our Message-ID from the returned headers; else the report's In-Reply-To (Exchange sets it). */
function originalMessageIdOf(mail: ParsedInbound): string | undefined {
  for (const block of mail.returnedHeaders) {
    const id = fieldsOf(block).get('message-id');
    const bracketed = id === undefined ? undefined : /<[^<>\s]+>/.exec(id)?.[0];
    if (bracketed !== undefined) return bracketed;
  }
  const inReplyTo = mail.headers['in-reply-to']?.[0];
  return inReplyTo === undefined ? undefined : /<[^<>\s]+>/.exec(inReplyTo)?.[0];
}

// ---------------------------------------------------------------------------------------------
// Calendar replies (iTIP METHOD:REPLY, RFC 5546 / iMIP RFC 6047)

function rsvpOf(mail: ParsedInbound): Classification | undefined {
  for (const part of mail.calendarParts) {
    const lines = unfoldCalendar(part.content);
    const method = part.method ?? lines.find((line) => line.name === 'METHOD')?.value.toUpperCase();
    if (method !== 'REPLY') continue;
    const rsvp = rsvpFromLines(lines);
    if (rsvp === undefined) continue;
    const where = part.method
      ? `${part.contentType}; method=${part.method}`
      : `METHOD:REPLY in ${part.filename ?? part.contentType}`;
    return { kind: 'rsvp', evidence: `${where} (${rsvp.partstat})`, rsvp };
  }
  return undefined;
}

export interface ContentLine {
  /** Upper case. */
  readonly name: string;
  /** Upper-case names; values unquoted. */
  readonly params: ReadonlyMap<string, string>;
  readonly value: string;
}

/** iCalendar text -> content lines, folded lines joined (RFC 5545 3.1). */
export function unfoldCalendar(content: string): ContentLine[] {
  return content
    .replace(/\r?\n[ \t]/g, '')
    .split(/\r?\n|\r/)
    .map(parseContentLine)
    .filter((line) => line !== undefined);
}

/** `ATTENDEE;CN="Turner, Zoe";PARTSTAT=TENTATIVE:mailto:zoe@...` -> name, params, value. */
export function parseContentLine(line: string): ContentLine | undefined {
  // The value starts at the first colon outside a quoted parameter value.
  let quoted = false;
  let colon = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === ':' && !quoted) {
      colon = i;
      break;
    }
  }
  if (colon <= 0) return undefined;
  const [name = '', ...rawParams] = splitParams(line.slice(0, colon));
  const params = new Map<string, string>();
  for (const param of rawParams) {
    const eq = param.indexOf('=');
    if (eq <= 0) continue;
    params.set(param.slice(0, eq).trim().toUpperCase(), param.slice(eq + 1).replace(/"/g, ''));
  }
  return { name: name.trim().toUpperCase(), params, value: line.slice(colon + 1).trim() };
}

function splitParams(head: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const c of head) {
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/** UID, the (first) ATTENDEE and its PARTSTAT, SEQUENCE of the first VEVENT that has a UID. */
function rsvpFromLines(lines: readonly ContentLine[]): RsvpReport | undefined {
  let inEvent = false;
  let uid: string | undefined;
  let attendee: ContentLine | undefined;
  let sequence = 0;
  for (const line of lines) {
    if (line.name === 'BEGIN' && line.value.toUpperCase() === 'VEVENT') {
      inEvent = true;
      uid = undefined;
      attendee = undefined;
      sequence = 0;
    } else if (!inEvent) {
      continue;
    } else if (line.name === 'UID') {
      uid = unescapeText(line.value);
    } else if (line.name === 'ATTENDEE') {
      attendee ??= line;
    } else if (line.name === 'SEQUENCE') {
      const n = Number(line.value);
      sequence = Number.isSafeInteger(n) && n >= 0 ? n : 0;
    } else if (line.name === 'END' && line.value.toUpperCase() === 'VEVENT') {
      if (uid) return rsvpReport(uid, attendee, sequence);
      inEvent = false;
    }
  }
  // A part cut short (or missing its END) still names its event.
  return inEvent && uid ? rsvpReport(uid, attendee, sequence) : undefined;
}

function rsvpReport(uid: string, attendee: ContentLine | undefined, sequence: number): RsvpReport {
  return {
    uid,
    // RFC 5545: an ATTENDEE without PARTSTAT is NEEDS-ACTION.
    partstat: (attendee?.params.get('PARTSTAT') ?? 'NEEDS-ACTION').trim().toUpperCase(),
    attendee: attendeeAddress(attendee),
    sequence,
  };
}

/** `mailto:Zoe@Example.org` -> `zoe@example.org`; the EMAIL parameter when the value is a URN. */
function attendeeAddress(line: ContentLine | undefined): string | undefined {
  if (line === undefined) return undefined;
  const candidates = [line.value, line.params.get('EMAIL') ?? ''];
  for (const candidate of candidates) {
    const address = candidate
      .trim()
      .replace(/^mailto:/i, '')
      .toLowerCase();
    if (/^[^\s@]+@[^\s@]+$/.test(address)) return address;
  }
  return undefined;
}

const unescapeText = (value: string) =>
  value.replace(/\\([\\;,nN])/g, (_, c: string) => (c.toLowerCase() === 'n' ? '\n' : c));

// ---------------------------------------------------------------------------------------------
// Other reports and automatic replies

/** Read receipts (RFC 8098) and other machine reports that are not delivery failures. */
function otherReportOf(mail: ParsedInbound): Classification | undefined {
  if (mail.contentType !== 'multipart/report') return undefined;
  return {
    kind: 'auto_reply',
    evidence: `Content-Type: multipart/report; report-type=${mail.reportType ?? '(none)'}`,
  };
}

interface HeaderSign {
  /** As written in evidence. */
  readonly name: string;
  /** Whether this header value marks automatic mail. */
  readonly test: (value: string) => boolean;
}

const present = (value: string) => value.trim() !== '';
const presentAndNotNo = (value: string) => present(value) && !/^\s*(?:no|false)\b/i.test(value);

/**
 * Headers that automatic mail carries and people's mail does not. X-Auto-Response-Suppress is
 * deliberately absent: Outlook puts it on ordinary human mail too.
 */
const headerSigns: readonly HeaderSign[] = [
  // RFC 3834: anything but `no` is automatic.
  { name: 'Auto-Submitted', test: presentAndNotNo },
  { name: 'X-Autoreply', test: presentAndNotNo },
  { name: 'X-Autorespond', test: presentAndNotNo },
  { name: 'X-Autogenerated', test: (v) => /\breply\b/i.test(v) },
  { name: 'X-AutoReply-From', test: present },
  { name: 'X-Mail-Autoreply', test: present },
  { name: 'X-FC-MachineGenerated', test: (v) => /^\s*true\b/i.test(v) },
  { name: 'X-POST-MessageClass', test: (v) => /autoresponder/i.test(v) },
  { name: 'Precedence', test: (v) => /^\s*(?:bulk|junk|list|auto_reply)\b/i.test(v) },
  { name: 'X-Precedence', test: (v) => /^\s*(?:bulk|junk|list|auto_reply)\b/i.test(v) },
  // Exchange marks mail its inbox rules (out-of-office among them) generate.
  { name: 'X-MS-Exchange-Inbox-Rules-Loop', test: present },
  { name: 'X-MS-Exchange-Generated-Message-Source', test: present },
  // A null reverse path: the sender wants no bounce, as only automatic mail does (RFC 3834 3.3).
  { name: 'Return-Path', test: (v) => /^\s*<\s*>\s*$/.test(v) },
];

/**
 * Subject openings of out-of-office and autoresponder mail, in the languages our learners'
 * clients write them. Only at the start (after gateway tags such as `[EXTERNAL]`): our own
 * subjects could contain these words, and a learner's reply starts with `Re:`.
 */
const autoSubjects: readonly RegExp[] = [
  /^automatic reply(?=$|[\s:])/iu,
  /^auto(?:matic)?[- ]?(?:reply|response)(?=$|[\s:])/iu,
  /^autoreply(?=$|[\s:])/iu,
  /^auto\s*:/iu,
  /^out of (?:the )?office(?=$|[\s:])/iu,
  /^abwesenheitsnotiz(?=$|[\s:])/iu,
  /^automatische antwort(?=$|[\s:])/iu,
  /^r[ée]ponse automatique(?=$|[\s:])/iu,
  /^respuesta autom[áa]tica(?=$|[\s:])/iu,
  /^risposta automatica(?=$|[\s:])/iu,
  /^automatisch antwoord(?=$|[\s:])/iu,
  /^automatiskt svar(?=$|[\s:])/iu,
  /^automatisk svar(?=$|[\s:])/iu,
  /^autosvar(?=$|[\s:])/iu,
  /^automaattinen vastaus(?=$|[\s:])/iu,
  /^odpowied[źz] automatyczna(?=$|[\s:])/iu,
  /^resposta autom[áa]tica(?=$|[\s:])/iu,
  /^fuera de la oficina(?=$|[\s:])/iu,
  /^absence(?=$|[\s:])/iu,
  // "Absent: Re: Week 3" and its kin, as Exchange and Gmail localise them (#16).
  /^abwesend(?=$|[\s:])/iu,
  /^absente?(?=$|[\s:])/iu,
  /^ausente(?=$|[\s:])/iu,
  /^fuori (?:sede|ufficio)(?=$|[\s:])/iu,
  /^fora do escrit[óo]rio(?=$|[\s:])/iu,
  /^afwezig(?=$|[\s:])/iu,
  /^fr[åa]nvarande(?=$|[\s:])/iu,
  /^frav[æa]rende(?=$|[\s:])/iu,
  /^frav[æa]r(?=$|[\s:])/iu,
  /^poissa(?=$|[\s:])/iu,
  /^lomalla(?=$|[\s:])/iu,
];

/** The same words as a tag anywhere in the subject: "Re: Week 3 [Out of Office]". */
const autoSubjectTag =
  /[([]\s*(?:out of (?:the )?office|ooo|auto[- ]?reply|abwesend|absente?|ausente|afwezig|fr[åa]nvarande|frav[æa]rende|poissa)\s*[)\]]/iu;

/**
 * Out-of-office wording in the body, for robots that send no header and keep the subject
 * (`Re: Week 3`). Two signs are needed, in one language: a statement of absence ("I am out of
 * the office") AND one of the set phrases around it ("on my return", "for urgent matters",
 * "limited access to email"). A learner who writes "done, and I'm on leave next week" has only
 * the first, and is read as a person (#16).
 */
export const awayWording: readonly (readonly [RegExp, RegExp])[] = [
  [
    /\b(?:i am|i'm|i’m|i will be|i'll be|i’ll be)\s+(?:currently\s+|now\s+)?(?:out of (?:the )?office|away from (?:the|my) (?:office|desk)|on (?:annual |parental |sick |maternity |paternity )?leave|on holiday|on vacation|away)\b/iu,
    /\b(?:limited|no) access to (?:e-?mail|my (?:e-?mail|inbox))|\b(?:for|in case of) urgent (?:matters|queries|enquiries|inquiries|issues|requests)|\b(?:on|upon|after) my return|\bwill (?:respond|reply|get back to you)|\bplease contact\b|\bwill not be (?:checking|reading|monitoring)|\b(?:i will|i'll|i’ll) be back (?:on|in)\b|\bthank you for your (?:e-?mail|message)\b|\bno longer work/iu,
  ],
  [
    /\bje (?:suis|serai) (?:actuellement |absente? )?(?:absente?|en (?:congés?|vacances)|hors du bureau|en déplacement)/iu,
    /(?:à|dès) mon retour|en cas d'urgence|en cas d’urgence|accès limité|(?:veuillez|merci de) contacter|(?:serai|suis) de retour (?:le|à partir)|je reviens le/iu,
  ],
  [
    /\bich bin (?:derzeit |zurzeit |momentan |bis .{1,40}? )?(?:nicht im büro|abwesend|im urlaub|außer haus)/iu,
    /nach meiner rückkehr|in dringenden fällen|wenden sie sich|eingeschränkte[mn]? zugriff|keinen zugriff|wieder (?:erreichbar|im büro)|nicht weitergeleitet/iu,
  ],
  [
    /\b(?:estoy|estaré|me encuentro) (?:actualmente )?(?:fuera de la oficina|de vacaciones|ausente)/iu,
    /a mi regreso|(?:para|en caso de) (?:asuntos )?urgen(?:tes?|cias?)|acceso limitado|contacte con|póngase en contacto|volveré el|regresaré el|estaré de vuelta/iu,
  ],
  [
    /\b(?:sono|sarò) (?:attualmente )?(?:fuori (?:sede|ufficio)|in ferie|assente)/iu,
    /al mio rientro|per (?:questioni |casi )?urgen(?:ti|ze)|accesso limitato|contattare|rientrerò (?:il|lunedì|martedì|mercoledì|giovedì|venerdì)|sarò di ritorno/iu,
  ],
  [
    /\b(?:estou|estarei) (?:atualmente |actualmente )?(?:fora do escritório|de férias|ausente)/iu,
    /(?:no|após o) meu regresso|quando (?:eu )?(?:voltar|regressar)|(?:para|em caso de) (?:assuntos )?urgen(?:tes?|cia)|acesso limitado|contact(?:e|ar)|regresso (?:a|no dia) \d|estarei de volta/iu,
  ],
  [
    /\bik ben (?:momenteel |tot .{1,40}? )?(?:afwezig|niet op kantoor|niet aanwezig|met vakantie|op vakantie|met verlof)/iu,
    /na mijn terugkeer|(?:voor|bij) dringende|beperkte toegang|neem (?:dan )?contact op|weer (?:aanwezig|bereikbaar|op kantoor)/iu,
  ],
  [
    /\bjag är (?:för närvarande |tillfälligt )?(?:frånvarande|på semester|ledig|inte på kontoret|borta)/iu,
    /när jag är tillbaka|(?:vid|för) brådskande|begränsad tillgång|kontakta|läser inte (?:min )?(?:mejl|mail|e-post)|tack för ditt (?:mejl|mail|meddelande)/iu,
  ],
  [
    /\bjeg er (?:i øjeblikket |for tiden |p\.t\. )?(?:fraværende|på ferie|ikke på kontoret|borte)/iu,
    /når jeg er tilbake?|(?:i|ved) (?:hastende|akutte|hastesaker)|begræns(?:et)? adgang|begrenset tilgang|kontakt|(?:læser|leser) ikke (?:mine )?(?:mails|e-mails|e-post)|takk? for (?:din |e-posten|mailen)|tilba(?:ge|ke) (?:den )?\d/iu,
  ],
  [
    /\bolen (?:tällä hetkellä |parhaillaan )?(?:lomalla|poissa toimistolta|poissa)/iu,
    /palattuani|kiireellisissä|rajoitetusti|ota(?:kaa)? yhteyttä|palaan \d|en(?:kä)? lue sähköpost|kiitos viestistäsi/iu,
  ],
  [
    // Welsh (#15 §3): "Rydw i allan o'r swyddfa", "ar wyliau", "ar absenoldeb".
    /\b(?:rydw i|rwyf|dw i|rydw|rwy)(?:'n| yn)? (?:allan o'r swyddfa|ar wyliau|i ffwrdd o'r swyddfa|ar absenoldeb)|\ballan o'r swyddfa/iu,
    /diolch am eich (?:neges|e-bost)|byddaf yn ôl|cysylltwch â|mewn argyfwng/iu,
  ],
];

/**
 * The characters on which lower-casing and the `iu` flags read the statements of absence
 * differently: "İ" lower-cases to two characters, and "ſ" matches "s" (and is a word character)
 * under `iu` but lower-cases to itself. test/replies/out-of-office.test.ts checks, over every code
 * point, that there are no others for the letters `awayWording` uses.
 */
export const foldedUnlikeLowerCase = /[\u0130\u017F]/u;

/** Every language's statement of absence, in one pattern for lower-cased text. */
const anyAwayLowerCased = new RegExp(
  awayWording.map(([away]) => `(?:${away.source})`).join('|'),
  'u',
);

/**
 * Whether `top` may hold a statement of absence in any language, in one pass (#17): most replies
 * hold none, and the patterns with the `iu` flags cost many times what the same patterns cost on
 * lower-cased text, with which they agree but for `foldedUnlikeLowerCase`.
 */
function mayStateAbsence(top: string): boolean {
  return foldedUnlikeLowerCase.test(top) || anyAwayLowerCased.test(top.toLowerCase());
}

/** The first out-of-office sentence of a body, when it reads as one (see `awayWording`). */
export function awayNotice(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  // The top of the message: an out-of-office says it at once; quoted history comes later.
  const top = text.slice(0, 1500).replace(/\s+/g, ' ');
  if (!mayStateAbsence(top)) return undefined;
  for (const [away, formula] of awayWording) {
    const match = away.exec(top);
    // A learner who says they are away AND asks for something ("I'm on leave until 15 March,
    // please pause till then") wrote the reply themselves: read it, do not drop it.
    if (match !== null && formula.test(top) && !asksSomething(top))
      return top.slice(match.index, match.index + 80);
  }
  return undefined;
}

function autoReplyOf(mail: ParsedInbound): Classification | undefined {
  for (const sign of headerSigns) {
    const value = mail.headers[sign.name.toLowerCase()]?.find(sign.test);
    if (value !== undefined) {
      return { kind: 'auto_reply', evidence: `${sign.name}: ${value.slice(0, 100)}` };
    }
  }
  if (mail.from !== undefined && daemonMailbox.test(mail.from)) {
    // A mail server's notice in no standard format: certainly not a learner's words.
    return { kind: 'auto_reply', evidence: `From: ${mail.from} (no delivery report)` };
  }
  if (isAutoSubject(mail.subject)) {
    return {
      kind: 'auto_reply',
      evidence: `subject ${JSON.stringify(mail.subject.slice(0, 100))}`,
    };
  }
  // Text, else the top of the HTML with its tags dropped (some robots send HTML only).
  const notice = awayNotice(mail.text ?? mail.html?.slice(0, 20_000).replace(/<[^>]*>/g, ' '));
  if (notice !== undefined) {
    return { kind: 'auto_reply', evidence: `out-of-office wording ${JSON.stringify(notice)}` };
  }
  return undefined;
}

export function isAutoSubject(subject: string): boolean {
  const normalised = subject
    .normalize('NFC')
    .replace(/[\s\u00a0\u202f]+/g, ' ')
    .trim()
    .replace(/^(?:\[[^\]]{0,40}\]\s*)+/, '');
  return anyAutoSubject.test(normalised) || autoSubjectTag.test(normalised);
}

/** `autoSubjects` in one pass (#17): each has its own `^`, and all the same flags. */
const anyAutoSubject = new RegExp(
  autoSubjects.map((pattern) => `(?:${pattern.source})`).join('|'),
  'iu',
);
if (autoSubjects.some((pattern) => pattern.flags !== 'iu'))
  throw new Error('autoSubjects: every pattern takes the iu flags, as anyAutoSubject does');
