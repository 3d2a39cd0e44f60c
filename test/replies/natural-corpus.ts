/**
 * The natural-phrasing reply corpus (test/fixtures/corpora/natural/*.yaml): loading it, wrapping
 * each case in the .eml a real mail client would send, reading it with the product's reader and
 * scoring the result. Shared by `npm run measure:replies` and test/replies/natural-corpus.test.ts.
 *
 * Everything here is deterministic: dates come from the corpus, Message-IDs from the case's
 * position, and no clock is read.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DateTime } from 'luxon';
import { parse } from 'yaml';
import { z } from 'zod';
import { readMessage } from '../../src/replies/read.js';
import type { Intent, IntentType, ReadMessage } from '../../src/replies/types.js';

export const corpusDir = fileURLToPath(new URL('../fixtures/corpora/natural/', import.meta.url));

/** Every language the corpus must have a file for: every language the reader claims (Welsh too, #15). */
export const languages = [
  'en',
  'de',
  'es',
  'nl',
  'fr',
  'it',
  'pt',
  'sv',
  'da',
  'no',
  'fi',
  'cy',
] as const;
export type Lang = (typeof languages)[number];

export const intentTypes = [
  'done',
  'too_hard',
  'pause',
  'resume',
  'skip',
  'stop',
  'help',
  'rating',
  'reflection',
  'empty',
] as const satisfies readonly IntentType[];

export const clients = ['gmail', 'outlook', 'apple', 'thunderbird', 'phone'] as const;
export type Client = (typeof clients)[number];

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');
// YAML reads an unquoted 2027-03-15 as a string with the default (core) schema: keep it a string.
const caseSchema = z
  .object({
    text: z.string(),
    intent: z.enum(intentTypes).optional(),
    kind: z.literal('auto_reply').optional(),
    weeks: z.number().int().min(1).max(52).optional(),
    until: isoDate.optional(),
    rating: z.number().int().min(1).max(5).optional(),
    quoted: z.string().optional(),
    client: z.enum(clients).optional(),
    sent: z.string().datetime().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.kind === 'auto_reply') {
      if (c.intent !== undefined)
        ctx.addIssue({ code: 'custom', message: 'an auto_reply case has no intent' });
      return;
    }
    if (c.intent === undefined)
      ctx.addIssue({ code: 'custom', message: 'intent is required (or kind: auto_reply)' });
    if (c.intent === 'pause' && (c.weeks === undefined) === (c.until === undefined))
      ctx.addIssue({ code: 'custom', message: 'a pause case needs exactly one of weeks or until' });
    if (c.intent !== 'pause' && (c.weeks !== undefined || c.until !== undefined))
      ctx.addIssue({ code: 'custom', message: 'weeks/until only belong to a pause case' });
    if ((c.intent === 'rating') !== (c.rating !== undefined))
      ctx.addIssue({ code: 'custom', message: 'a rating case, and only one, has rating 1-5' });
  });

const fileSchema = z
  .object({
    lang: z.enum(languages),
    sent: z.string().datetime(),
    timeZone: z.string(),
    subject: z.string(),
    learner: z.string(),
    quotes: z.record(z.string(), z.object({ decoys: z.boolean(), text: z.string() }).strict()),
    cases: z.array(caseSchema).min(1),
  })
  .strict();

export type CorpusFile = z.infer<typeof fileSchema>;
type RawCase = z.infer<typeof caseSchema>;

export interface Case {
  readonly lang: Lang;
  /** 1-based position in its file, for messages. */
  readonly index: number;
  readonly text: string;
  /** `auto_reply` for a hand-written out-of-office (no auto-reply headers), else `reply`. */
  readonly kind: 'reply' | 'auto_reply';
  /** The expected reading; undefined for an auto_reply case. */
  readonly expected: Intent | undefined;
  readonly quoted:
    { readonly name: string; readonly decoys: boolean; readonly text: string } | undefined;
  readonly client: Client;
  readonly sent: string;
  readonly timeZone: string;
  readonly subject: string;
  readonly learner: string;
}

function expectedIntent(c: RawCase): Intent | undefined {
  switch (c.intent) {
    case undefined:
      return undefined;
    case 'pause':
      return c.weeks !== undefined
        ? { type: 'pause', weeks: c.weeks }
        : { type: 'pause', until: c.until as string };
    case 'rating':
      return { type: 'rating', rating: c.rating as number };
    default:
      return { type: c.intent };
  }
}

/** Parses one corpus file; throws naming the file, case and field that is wrong. */
export function parseCorpusFile(path: string, source: string): { file: CorpusFile; cases: Case[] } {
  const result = fileSchema.safeParse(parse(source));
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`${path}: not a valid corpus file:\n${problems.join('\n')}`);
  }
  const file = result.data;
  const cases = file.cases.map((c, i): Case => {
    const quote = c.quoted === undefined ? undefined : file.quotes[c.quoted];
    if (c.quoted !== undefined && quote === undefined)
      throw new Error(
        `${path}: cases.${i}.quoted: no quote "${c.quoted}" (have: ${Object.keys(file.quotes).join(', ')})`,
      );
    return {
      lang: file.lang,
      index: i + 1,
      text: c.text,
      kind: c.kind ?? 'reply',
      expected: expectedIntent(c),
      quoted: quote && c.quoted ? { name: c.quoted, ...quote } : undefined,
      client: c.client ?? 'gmail',
      sent: c.sent ?? file.sent,
      timeZone: file.timeZone,
      subject: file.subject,
      learner: file.learner,
    };
  });
  return { file, cases };
}

/** Every corpus file present, by language (a missing language is simply absent). */
export function loadCorpus(): Map<Lang, Case[]> {
  const byLang = new Map<Lang, Case[]>();
  for (const name of readdirSync(corpusDir).sort()) {
    if (!name.endsWith('.yaml')) continue;
    const path = join(corpusDir, name);
    const { file, cases } = parseCorpusFile(path, readFileSync(path, 'utf8'));
    if (`${file.lang}.yaml` !== name) throw new Error(`${path}: lang is "${file.lang}"`);
    byLang.set(file.lang, cases);
  }
  return byLang;
}

// ---------------------------------------------------------------------------------------------
// How each client, in each language, writes the quote header and the quoted original

const us = { name: 'Digital Gym', address: 'progress+t0k3n@gym.example' };
const who = `${us.name} <${us.address}>`;

/** Gmail's "On ... wrote:" line (web and Android), per language. */
const gmail: Record<Lang, (d: DateTime) => string> = {
  en: (d) => `On ${d.toFormat("ccc, d LLL yyyy 'at' HH:mm")}, ${who} wrote:`,
  de: (d) => `Am ${d.toFormat("ccc., d. LLL yyyy 'um' HH:mm")} Uhr schrieb ${who}:`,
  es: (d) =>
    `El ${d.toFormat("ccc, d LLL yyyy, 'a' 'las' H:mm")}, ${us.name} (<${us.address}>) escribió:`,
  nl: (d) => `Op ${d.toFormat("ccc d LLL yyyy 'om' HH:mm")} schreef ${who}:`,
  fr: (d) => `Le ${d.toFormat("ccc d LLL yyyy 'à' HH:mm")}, ${who} a écrit :`,
  it: (d) => `Il giorno ${d.toFormat("ccc d LLL yyyy 'alle' 'ore' HH:mm")} ${who} ha scritto:`,
  pt: (d) => `Em ${d.toFormat("ccc, d 'de' LLL 'de' yyyy 'às' HH:mm")}, ${who} escreveu:`,
  sv: (d) => `Den ${d.toFormat("ccc d LLL yyyy 'kl' HH:mm")} skrev ${who}:`,
  da: (d) => `Den ${d.toFormat("ccc d. LLL yyyy 'kl.' HH.mm")} skrev ${who}:`,
  no: (d) => `${d.toFormat("ccc d. LLL yyyy 'kl.' HH:mm")} skrev ${who}:`,
  fi: (d) => `${d.toFormat("ccc d.M.yyyy 'klo' H.mm")} ${who} kirjoitti:`,
  cy: (d) => `Ar ${d.toFormat("ccc, d LLL yyyy 'am' HH:mm")}, ysgrifennodd ${who}:`,
};

/** Apple Mail (macOS and iOS), per language. */
const apple: Record<Lang, (d: DateTime) => string> = {
  en: (d) => `On ${d.toFormat("d LLL yyyy, 'at' HH:mm")}, ${who} wrote:`,
  de: (d) => `Am ${d.toFormat("dd.MM.yyyy 'um' HH:mm")} schrieb ${who}:`,
  es: (d) => `El ${d.toFormat("d LLL yyyy, 'a' 'las' H:mm")}, ${who} escribió:`,
  nl: (d) => `Op ${d.toFormat("d LLL yyyy 'om' HH:mm")} heeft ${who} het volgende geschreven:`,
  fr: (d) => `Le ${d.toFormat("d LLL yyyy 'à' HH:mm")}, ${who} a écrit :`,
  it: (d) => `Il giorno ${d.toFormat("d LLL yyyy, 'alle' 'ore' HH:mm")}, ${who} ha scritto:`,
  pt: (d) => `No dia ${d.toFormat("d 'de' LLL 'de' yyyy, 'às' HH:mm")}, ${who} escreveu:`,
  sv: (d) => `${d.toFormat("d LLL yyyy 'kl.' HH:mm")} skrev ${who}:`,
  da: (d) => `Den ${d.toFormat("d. LLL yyyy 'kl.' HH.mm")} skrev ${who}:`,
  no: (d) => `${d.toFormat("d. LLL yyyy 'kl.' HH:mm")} skrev ${who}:`,
  fi: (d) => `${d.toFormat("d.M.yyyy 'kello' H.mm")} ${who} kirjoitti:`,
  cy: (d) => `Ar ${d.toFormat("d LLL yyyy, 'am' HH:mm")}, ysgrifennodd ${who}:`,
};

/** Thunderbird's default reply header (name only, numeric date), per language. */
const thunderbird: Record<Lang, (d: DateTime) => string> = {
  en: (d) => `On ${d.toFormat('dd/MM/yyyy HH:mm')}, ${us.name} wrote:`,
  de: (d) => `Am ${d.toFormat("dd.MM.yy 'um' HH:mm")} schrieb ${us.name}:`,
  es: (d) => `El ${d.toFormat("d/M/yy 'a' 'las' H:mm")}, ${us.name} escribió:`,
  nl: (d) => `Op ${d.toFormat("dd-MM-yyyy 'om' HH:mm")} schreef ${us.name}:`,
  fr: (d) => `Le ${d.toFormat("dd/MM/yyyy 'à' HH:mm")}, ${us.name} a écrit :`,
  it: (d) => `Il ${d.toFormat('dd/MM/yy HH:mm')}, ${us.name} ha scritto:`,
  pt: (d) => `Em ${d.toFormat('dd/MM/yyyy HH:mm')}, ${us.name} escreveu:`,
  sv: (d) => `Den ${d.toFormat("yyyy-MM-dd 'kl.' HH:mm")}, skrev ${us.name}:`,
  da: (d) => `Den ${d.toFormat("dd.MM.yyyy 'kl.' HH.mm")} skrev ${us.name}:`,
  no: (d) => `Den ${d.toFormat('dd.MM.yyyy HH:mm')}, skrev ${us.name}:`,
  fi: (d) => `${d.toFormat("d.M.yyyy 'klo' H.mm")}, ${us.name} kirjoitti:`,
  cy: (d) => `Ar ${d.toFormat('dd/MM/yyyy HH:mm')}, ysgrifennodd ${us.name}:`,
};

/** Outlook's header block labels and its older "Original Message" separator, per language. */
const outlook: Record<
  Lang,
  { from: string; sent: string; to: string; subject: string; original: string; date: string }
> = {
  en: {
    from: 'From:',
    sent: 'Sent:',
    to: 'To:',
    subject: 'Subject:',
    original: 'Original Message',
    date: 'cccc, d MMMM yyyy HH:mm',
  },
  de: {
    from: 'Von:',
    sent: 'Gesendet:',
    to: 'An:',
    subject: 'Betreff:',
    original: 'Ursprüngliche Nachricht',
    date: 'cccc, d. MMMM yyyy HH:mm',
  },
  es: {
    from: 'De:',
    sent: 'Enviado el:',
    to: 'Para:',
    subject: 'Asunto:',
    original: 'Mensaje original',
    date: "cccc, d 'de' MMMM 'de' yyyy H:mm",
  },
  nl: {
    from: 'Van:',
    sent: 'Verzonden:',
    to: 'Aan:',
    subject: 'Onderwerp:',
    original: 'Oorspronkelijk bericht',
    date: 'cccc d MMMM yyyy HH:mm',
  },
  fr: {
    from: 'De :',
    sent: 'Envoyé :',
    to: 'À :',
    subject: 'Objet :',
    original: "Message d'origine",
    date: 'cccc d MMMM yyyy HH:mm',
  },
  it: {
    from: 'Da:',
    sent: 'Inviato:',
    to: 'A:',
    subject: 'Oggetto:',
    original: 'Messaggio originale',
    date: 'cccc d MMMM yyyy HH:mm',
  },
  pt: {
    from: 'De:',
    sent: 'Enviada:',
    to: 'Para:',
    subject: 'Assunto:',
    original: 'Mensagem original',
    date: "cccc, d 'de' MMMM 'de' yyyy HH:mm",
  },
  sv: {
    from: 'Från:',
    sent: 'Skickat:',
    to: 'Till:',
    subject: 'Ämne:',
    original: 'Ursprungligt meddelande',
    date: "'den' d MMMM yyyy HH:mm",
  },
  da: {
    from: 'Fra:',
    sent: 'Sendt:',
    to: 'Til:',
    subject: 'Emne:',
    original: 'Oprindelig meddelelse',
    date: "cccc 'den' d. MMMM yyyy HH.mm",
  },
  no: {
    from: 'Fra:',
    sent: 'Sendt:',
    to: 'Til:',
    subject: 'Emne:',
    original: 'Opprinnelig melding',
    date: 'cccc d. MMMM yyyy HH:mm',
  },
  fi: {
    from: 'Lähettäjä:',
    sent: 'Lähetetty:',
    to: 'Vastaanottaja:',
    subject: 'Aihe:',
    original: 'Alkuperäinen viesti',
    date: 'cccc d. MMMM yyyy H.mm',
  },
  cy: {
    from: 'Oddi wrth:',
    sent: 'Anfonwyd:',
    to: 'At:',
    subject: 'Pwnc:',
    original: 'Neges Wreiddiol',
    date: 'cccc, d MMMM yyyy HH:mm',
  },
};

/** The signature a phone adds under the learner's words, per language. */
const sentFromPhone: Record<Lang, string> = {
  en: 'Sent from my iPhone',
  de: 'Von meinem iPhone gesendet',
  es: 'Enviado desde mi iPhone',
  nl: 'Verstuurd vanaf mijn iPhone',
  fr: 'Envoyé de mon iPhone',
  it: 'Inviato da iPhone',
  pt: 'Enviado do meu iPhone',
  sv: 'Skickat från min iPhone',
  da: 'Sendt fra min iPhone',
  no: 'Sendt fra min iPhone',
  fi: 'Lähetetty iPhonesta',
  cy: 'Anfonwyd o fy iPhone',
};

const luxonLocale: Record<Lang, string> = {
  en: 'en-GB',
  de: 'de',
  es: 'es',
  nl: 'nl',
  fr: 'fr',
  it: 'it',
  pt: 'pt',
  sv: 'sv',
  da: 'da',
  no: 'nb',
  fi: 'fi',
  cy: 'cy',
};

const greaterThanQuoted = (text: string) =>
  text
    .split('\n')
    .map((line) => (line === '' ? '>' : `> ${line}`))
    .join('\n');

/** The body the learner's client sends: their words, then (for a quote) header and original. */
export function replyBody(c: Case, options: { withQuote: boolean } = { withQuote: true }): string {
  const own = c.client === 'phone' ? `${c.text}\n\n${sentFromPhone[c.lang]}` : c.text;
  if (!options.withQuote || c.quoted === undefined) return own;
  const sent = DateTime.fromISO(c.sent, { zone: c.timeZone }).setLocale(luxonLocale[c.lang]);
  const original = c.quoted.text;
  switch (c.client) {
    case 'gmail':
      return `${own}\n\n${gmail[c.lang](sent)}\n\n${greaterThanQuoted(original)}`;
    case 'apple':
    case 'phone':
      return `${own}\n\n${apple[c.lang](sent)}\n\n${greaterThanQuoted(original)}`;
    case 'thunderbird':
      return `${own}\n\n${thunderbird[c.lang](sent)}\n${greaterThanQuoted(original)}`;
    case 'outlook': {
      const l = outlook[c.lang];
      const block = [
        `${l.from} ${us.name} <${us.address}>`,
        `${l.sent} ${sent.toFormat(l.date)}`,
        `${l.to} ${c.learner} <${learnerAddress(c)}>`,
        `${l.subject} ${c.subject.replace(/^\S+:\s*/, '')}`,
      ].join('\n');
      // Outlook desktop writes a rule of underscores; older versions and Outlook for Mac the
      // "-----Original Message-----" line. Alternate by position so both appear in each language.
      const separator = c.index % 2 === 0 ? '_'.repeat(32) : `-----${l.original}-----`;
      return `${own}\n\n${separator}\n${block}\n\n${original}`;
    }
  }
}

function learnerAddress(c: Case): string {
  const local = c.learner
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z]+/g, '.');
  return `${local}@council.example`;
}

/** Quoted-printable (RFC 2045) for UTF-8 text, lines of at most 76 characters, CRLF breaks. */
function quotedPrintable(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const bytes = Buffer.from(line, 'utf8');
    let encoded = '';
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] as number;
      const last = i === bytes.length - 1;
      const plain = (b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last);
      encoded += plain
        ? String.fromCharCode(b)
        : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
    }
    // Soft line breaks: never split an =XX escape.
    let rest = encoded;
    while (rest.length > 76) {
      let cut = 75;
      const escape = rest.lastIndexOf('=', cut);
      if (escape > cut - 3) cut = escape;
      out.push(`${rest.slice(0, cut)}=`);
      rest = rest.slice(cut);
    }
    out.push(rest);
  }
  return out.join('\r\n');
}

const encodeWord = (text: string) =>
  /^[\x20-\x7e]*$/.test(text)
    ? text
    : `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;

/** The whole .eml for a case, as the learner's client would send it. */
export function caseEml(c: Case, options: { withQuote: boolean } = { withQuote: true }): Buffer {
  const date = DateTime.fromISO(c.sent, { zone: c.timeZone });
  const ourId = `<d306.w03-kickoff.${c.lang}${c.index}@gym.example>`;
  const headers = [
    `From: ${encodeWord(c.learner)} <${learnerAddress(c)}>`,
    `To: ${us.name} <${us.address}>`,
    `Subject: ${encodeWord(c.subject)}`,
    `Date: ${date.toRFC2822()}`,
    `Message-ID: <natural.${c.lang}.${c.index}.${c.client}@council.example>`,
    `In-Reply-To: ${ourId}`,
    `References: ${ourId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: quoted-printable',
  ];
  return Buffer.from(
    `${headers.join('\r\n')}\r\n\r\n${quotedPrintable(replyBody(c, options))}\r\n`,
  );
}

export function readCase(
  c: Case,
  options: { withQuote: boolean } = { withQuote: true },
): Promise<ReadMessage> {
  return readMessage(caseEml(c, options), {
    timeZone: c.timeZone,
    now: new Date(c.sent),
  });
}

// ---------------------------------------------------------------------------------------------
// Scoring

export interface Outcome {
  readonly case: Case;
  readonly right: boolean;
  /** What the reader made of it: `auto_reply`, or the intent as `pause weeks=2` / `rating 4`. */
  readonly got: string;
  readonly expected: string;
  /** The quoted original showed up in the visible text. */
  readonly quoteLeaked: boolean;
}

export function describeIntent(intent: Intent | undefined): string {
  if (intent === undefined) return '-';
  switch (intent.type) {
    case 'pause':
      return intent.weeks !== undefined
        ? `pause weeks=${intent.weeks}`
        : intent.until !== undefined
          ? `pause until=${intent.until}`
          : 'pause (no length)';
    case 'rating':
      return `rating ${intent.rating}`;
    default:
      return intent.type;
  }
}

const describeRead = (read: ReadMessage) =>
  read.kind === 'reply' ? describeIntent(read.intent) : read.kind;

/** The category a case counts under in the per-intent table. */
export const category = (c: Case): string =>
  c.kind === 'auto_reply' ? 'auto_reply' : (c.expected?.type ?? '?');

export async function scoreCase(c: Case): Promise<Outcome> {
  const read = await readCase(c);
  const expected = c.kind === 'auto_reply' ? 'auto_reply' : describeIntent(c.expected);
  const got = describeRead(read);
  // The second line of the original (its first line is a greeting that could be the learner's).
  const marker = c.quoted?.text.split('\n').find((l, i) => i > 0 && l.trim() !== '');
  return {
    case: c,
    right: got === expected,
    got,
    expected,
    quoteLeaked: marker !== undefined && read.text.includes(marker),
  };
}

export interface Tally {
  cases: number;
  right: number;
}

export const accuracy = (t: Tally) => (t.cases === 0 ? 0 : t.right / t.cases);

export function tally(
  outcomes: readonly Outcome[],
  key: (o: Outcome) => string,
): Map<string, Tally> {
  const out = new Map<string, Tally>();
  for (const o of outcomes) {
    const t = out.get(key(o)) ?? { cases: 0, right: 0 };
    t.cases += 1;
    if (o.right) t.right += 1;
    out.set(key(o), t);
  }
  return out;
}

export async function scoreCorpus(corpus: Map<Lang, Case[]>): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const lang of languages) {
    for (const c of corpus.get(lang) ?? []) outcomes.push(await scoreCase(c));
  }
  return outcomes;
}
