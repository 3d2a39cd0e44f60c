/**
 * What mail clients write where the quoted history starts, per language, as data. The rules in
 * visible-text.ts are built from these tables; adding a language is adding a row here.
 *
 * Sources, so that a string can be checked against what a client really emits:
 * - [TB] Thunderbird's compose strings `mailnews.reply_header_*` (authorwrote, ondateauthorwrote,
 *   originalmessage) in every locale, via transvision.mozfr.org, as collected in the
 *   `EmailParser::ReplyPatterns` module of a public Ruby reply parser.
 * - [EFP] crisp-oss/email-forward-parser (MIT): forward separators and Outlook/Apple/Yahoo
 *   header labels per locale (we use the library itself for forwards, see visible-text.ts).
 * - [WD] willdurand/EmailReplyParser (MIT) quote-header regexes and test headers (Polish, Chinese,
 *   Japanese, Korean, Norwegian Gmail).
 * - [TALON] mailgun/talon (Apache-2.0) `quotations.py`: openers On/Le/W dniu/Op/Am/På/Den and
 *   verbs, the "Original Message" family, From/Date labels.
 * - [ZAP] zapier/email-reply-parser `test/emails/chinese*.txt`: Chinese Gmail and Outlook.
 * - [LKML] Evolution in Welsh, as sent to linux-kernel: "Ar Iau, 2006-11-02 am 19:30 +0400,
 *   ysgrifennodd Manu Abraham:".
 * - [GM] Gmail's own header in each language, as seen in public mailing-list archives, e.g.
 *   Turkish "Laurent Pinchart, 27 Ara 2025 Cmt, 16:05 tarihinde şunu yazdı:", Russian
 *   "ср, 5 мар. 2025 г. в 10:00, Имя <x@y>:" (also in crisp's email-reply-parser regexes).
 * - [BRIEF] issue #12: Gmail in Welsh "Ar ddydd Llun, 3 Ion 2026 am 09:00, Enw <x@y>
 *   ysgrifennodd:" and Outlook in Welsh (Oddi wrth / Anfonwyd / At / Pwnc, "Neges Wreiddiol").
 */

export interface QuoteHeaderLanguage {
  /** Words an "On <date>, <name> wrote:" line starts with (matched case-insensitively). */
  readonly openers: readonly string[];
  /** Verbs (or phrases) that end the line, before its colon: "wrote", "a écrit", "写道". */
  readonly verbsAtEnd: readonly string[];
  /** Verbs written before the author, "... schrieb Name <x@y>:", "... ysgrifennodd Name:". */
  readonly verbsBeforeAuthor: readonly string[];
  /** Outlook's first header label ("From:"), without the colon. */
  readonly fromLabels: readonly string[];
  /** Outlook's other header labels (Sent, To, Subject, Cc, Date), without the colon. */
  readonly otherLabels: readonly string[];
  /** What stands between dashes above the history: "Original Message", "Forwarded message". */
  readonly separators: readonly string[];
  /** Apple Mail's line above a forwarded message, without the colon. */
  readonly forwardIntros: readonly string[];
  /** How a phone's or an app's stamp under the reply starts: "Sent from my", "Von meinem". */
  readonly deviceSignatures: readonly string[];
  /**
   * Openers that already say "wrote", so that the line needs only its colon at the end:
   * Apple Mail in Polish "Wiadomość napisana przez Name <x@y> w dniu 3 sty 2026, o godz. 09:00:",
   * Thunderbird in Welsh "Ysgrifennodd Enw:" [TB].
   */
  readonly wroteOpeners?: readonly string[];
}

export const quoteHeaderLanguages: Readonly<Record<string, QuoteHeaderLanguage>> = {
  en: {
    openers: ['On'],
    // "sent" [TALON]: "On <date>, <name> sent:"
    verbsAtEnd: ['wrote', 'sent', 'writes'],
    verbsBeforeAuthor: ['wrote'],
    fromLabels: ['From'],
    otherLabels: ['Sent', 'Date', 'To', 'Cc', 'Subject'],
    separators: ['Original Message', 'Reply Message', 'Forwarded message', 'Forwarded Message'],
    forwardIntros: ['Begin forwarded message'],
    deviceSignatures: [
      'Sent from',
      'Sent via',
      'Sent with',
      'Sent using',
      'Get Outlook for',
      'Sent from Mail for',
    ],
  },
  fr: {
    openers: ['Le'],
    verbsAtEnd: ['a écrit', 'écrit'],
    verbsBeforeAuthor: [],
    fromLabels: ['De'],
    otherLabels: ['Envoyé', 'Envoyé le', 'Date', 'À', 'A', 'Cc', 'Objet'],
    separators: [
      "Message d'origine",
      'Message d’origine',
      'Message original',
      'Message transféré',
      'Message transmis',
    ],
    forwardIntros: ['Début du message réexpédié', 'Début du message transféré'],
    deviceSignatures: [
      'Envoyé de mon',
      'Envoyé depuis',
      'Envoyé à partir de',
      'Obtenir Outlook pour',
      'Télécharger Outlook pour',
    ],
  },
  de: {
    openers: ['Am'],
    verbsAtEnd: ['schrieb', 'geschrieben'],
    verbsBeforeAuthor: ['schrieb'],
    fromLabels: ['Von'],
    otherLabels: ['Gesendet', 'Datum', 'An', 'Cc', 'Betreff'],
    separators: [
      'Ursprüngliche Nachricht',
      'Original-Nachricht',
      'Originalnachricht',
      'Antwort Nachricht',
      'Ursprüngliche Mitteilung',
      'Weitergeleitete Nachricht',
    ],
    forwardIntros: ['Anfang der weitergeleiteten Nachricht'],
    deviceSignatures: ['Von meinem', 'Gesendet von', 'Gesendet mit'],
  },
  es: {
    openers: ['El', 'El día'],
    verbsAtEnd: ['escribió', 'escribio', 'ha escrit', 'ha escrito'],
    verbsBeforeAuthor: [],
    fromLabels: ['De'],
    otherLabels: ['Enviado', 'Enviado el', 'Fecha', 'Para', 'CC', 'Asunto'],
    separators: ['Mensaje original', 'Mensaje reenviado'],
    forwardIntros: ['Inicio del mensaje reenviado'],
    deviceSignatures: ['Enviado desde', 'Obtener Outlook para'],
  },
  it: {
    openers: ['Il', 'Il giorno', 'In data'],
    verbsAtEnd: ['ha scritto', 'scritto'],
    verbsBeforeAuthor: [],
    fromLabels: ['Da'],
    otherLabels: ['Inviato', 'Data', 'A', 'Cc', 'Oggetto'],
    separators: ['Messaggio originale', 'Messaggio inoltrato'],
    forwardIntros: ['Inizio messaggio inoltrato'],
    deviceSignatures: ['Inviato da', 'Scarica Outlook per'],
  },
  pt: {
    openers: ['Em', 'No dia', 'Às'],
    verbsAtEnd: ['escreveu'],
    verbsBeforeAuthor: [],
    fromLabels: ['De'],
    otherLabels: ['Enviado', 'Enviada em', 'Enviada', 'Data', 'Para', 'Cc', 'Assunto'],
    separators: ['Mensagem original', 'Mensagem encaminhada', 'Mensagem reencaminhada'],
    forwardIntros: ['Início da mensagem reencaminhada', 'Início da mensagem encaminhada'],
    deviceSignatures: ['Enviado do meu', 'Enviado de meu', 'Enviado do'],
  },
  nl: {
    openers: ['Op'],
    // Apple Mail: "Op 1 mrt 2027 om 09:00 heeft Naam <x@y> het volgende geschreven:" [TALON]
    verbsAtEnd: ['schreef', 'het volgende geschreven', 'geschreven', 'verzond'],
    verbsBeforeAuthor: ['schreef'],
    fromLabels: ['Van'],
    otherLabels: ['Verzonden', 'Datum', 'Aan', 'Cc', 'Onderwerp'],
    separators: ['Oorspronkelijk bericht', 'Origineel bericht', 'Doorgestuurd bericht'],
    forwardIntros: ['Begin doorgestuurd bericht'],
    deviceSignatures: ['Verzonden vanaf', 'Verstuurd vanaf', 'Outlook voor'],
  },
  sv: {
    openers: ['Den'],
    verbsAtEnd: ['skrev'],
    verbsBeforeAuthor: ['skrev'],
    fromLabels: ['Från'],
    otherLabels: ['Skickat', 'Datum', 'Till', 'Kopia', 'Ämne'],
    separators: ['Ursprungligt meddelande', 'Originalmeddelande', 'Vidarebefordrat meddelande'],
    forwardIntros: ['Vidarebefordrat brev', 'Vidarebefordrat mejl'],
    deviceSignatures: ['Skickat från', 'Hämta Outlook för'],
  },
  da: {
    openers: ['Den'],
    verbsAtEnd: ['skrev'],
    verbsBeforeAuthor: ['skrev'],
    fromLabels: ['Fra'],
    otherLabels: ['Sendt', 'Dato', 'Til', 'Cc', 'Emne'],
    separators: ['Oprindelig meddelelse', 'Oprindelig besked', 'Videresendt meddelelse'],
    forwardIntros: ['Start på videresendt besked'],
    deviceSignatures: ['Sendt fra', 'Hent Outlook til'],
  },
  no: {
    openers: ['Den', 'På'],
    verbsAtEnd: ['skrev', 'skreiv'],
    verbsBeforeAuthor: ['skrev'],
    fromLabels: ['Fra'],
    otherLabels: ['Sendt', 'Dato', 'Til', 'Kopi', 'Emne'],
    separators: ['Opprinnelig melding', 'Opphavleg melding', 'Videresendt melding'],
    forwardIntros: ['Videresendt melding'],
    deviceSignatures: ['Sendt fra', 'Få Outlook til'],
  },
  fi: {
    openers: [],
    verbsAtEnd: ['kirjoitti'],
    verbsBeforeAuthor: ['kirjoitti'],
    fromLabels: ['Lähettäjä'],
    otherLabels: ['Lähetetty', 'Päivämäärä', 'Vastaanottaja', 'Kopio', 'Aihe'],
    separators: ['Alkuperäinen viesti', 'Välitetty viesti', 'Edelleenlähetetty viesti'],
    forwardIntros: ['Välitetty viesti alkaa'],
    deviceSignatures: ['Lähetetty', 'Hanki Outlook'],
  },
  // Welsh: Gmail "Ar ddydd Llun, ... Enw <x@y> ysgrifennodd:" [BRIEF]; Evolution and Thunderbird
  // "Ar <date> <time>, ysgrifennodd Enw:" [LKML][TB]; Thunderbird "Ysgrifennodd Enw:" [TB].
  cy: {
    openers: ['Ar', 'Ar ddydd'],
    verbsAtEnd: ['ysgrifennodd'],
    verbsBeforeAuthor: ['ysgrifennodd'],
    fromLabels: ['Oddi wrth'],
    otherLabels: ['Anfonwyd', 'Dyddiad', 'At', 'Cc', 'Pwnc'],
    separators: ['Neges Wreiddiol', "Neges wedi'i hanfon ymlaen", 'Neges wedi’i hanfon ymlaen'],
    forwardIntros: [],
    deviceSignatures: ['Anfonwyd o fy', 'Anfonwyd o’m', "Anfonwyd o'm", 'Cael Outlook ar gyfer'],
    wroteOpeners: ['Ysgrifennodd'],
  },
  // Russian: Gmail "ср, 5 мар. 2025 г. в 10:00, Имя <x@y>:" (no verb) [GM]; Thunderbird
  // "Имя пишет:" [TB]; Apple Mail "... написал(а):"; Outlook 2019 "... пользователь ... написал:".
  ru: {
    openers: [],
    verbsAtEnd: ['написал(а)', 'написала', 'написал', 'пишет'],
    verbsBeforeAuthor: [],
    fromLabels: ['От'],
    otherLabels: ['Отправлено', 'Дата', 'Кому', 'Копия', 'Тема'],
    separators: [
      'Исходное сообщение',
      'Пересылаемое сообщение',
      'Перенаправленное сообщение',
      'Оригинальное сообщение',
    ],
    forwardIntros: ['Начало переадресованного сообщения'],
    deviceSignatures: ['Отправлено с', 'Отправлено из'],
  },
  // Ukrainian: Gmail "пн, 3 січ. 2026 р. о 09:00 Ім'я <x@y> пише:", Apple "написав(ла)".
  uk: {
    openers: [],
    verbsAtEnd: ['написав(ла)', 'написала', 'написав', 'пише'],
    verbsBeforeAuthor: [],
    fromLabels: ['Від'],
    otherLabels: ['Надіслано', 'Дата', 'Кому', 'Копія', 'Тема'],
    separators: [
      'Початкове повідомлення',
      'Оригінальне повідомлення',
      'Переслане повідомлення',
      'Перенаправлене повідомлення',
    ],
    forwardIntros: ['Початок листа, що пересилається'],
    deviceSignatures: ['Надіслано з'],
  },
  // Polish: Gmail "pon., 3 sty 2026 o 09:00 Imię <x@y> napisał(a):", Gmail (older) "W dniu ...
  // użytkownik ... napisał:", Thunderbird "W dniu ... o ..., ... pisze:" [WD][TB][TALON].
  pl: {
    openers: ['W dniu', 'Dnia'],
    verbsAtEnd: ['napisał(a)', 'napisała', 'napisał', 'napisal', 'pisze'],
    verbsBeforeAuthor: [],
    fromLabels: ['Od'],
    otherLabels: ['Wysłano', 'Wysłane', 'Data', 'Do', 'DW', 'Temat'],
    separators: [
      'Treść oryginalnej wiadomości',
      'Oryginalna wiadomość',
      'Wiadomość oryginalna',
      'Przekazana wiadomość',
      'Treść przekazanej wiadomości',
      'Wiadomość przesłana dalej',
    ],
    forwardIntros: ['Początek przekazywanej wiadomości'],
    deviceSignatures: ['Wysłane z', 'Wysłano z'],
    wroteOpeners: ['Wiadomość napisana przez'],
  },
  // Czech: Gmail "po 3. 1. 2026 v 9:00 odesílatel Jméno <x@y> napsal:", Thunderbird
  // "Dne 3. 1. 2026 v 9:00 Jméno napsal(a):" [TB][EFP].
  cs: {
    openers: ['Dne'],
    verbsAtEnd: ['napsal(a)', 'napsala', 'napsal'],
    verbsBeforeAuthor: [],
    fromLabels: ['Od'],
    otherLabels: ['Odesláno', 'Datum', 'Komu', 'Kopie', 'Předmět'],
    separators: ['Původní zpráva', 'Původní e-mailová zpráva', 'Přeposlaná zpráva'],
    forwardIntros: ['Začátek přeposílané zprávy'],
    deviceSignatures: ['Odesláno z'],
  },
  // Turkish: Gmail "Ad <x@y>, 3 Oca 2026 Cmt, 09:00 tarihinde şunu yazdı:" [GM][EFP],
  // Thunderbird "Ad yazdı:" [TB], Apple "... tarihinde ... saatinde, Ad şunları yazdı:".
  tr: {
    openers: [],
    verbsAtEnd: ['tarihinde şunu yazdı', 'şunları yazdı', 'şunu yazdı', 'yazdı'],
    verbsBeforeAuthor: [],
    fromLabels: ['Kimden'],
    otherLabels: ['Gönderildi', 'Gönderilme', 'Tarih', 'Kime', 'Bilgi', 'Konu'],
    separators: ['Özgün İleti', 'Orijinal Mesaj', 'İletilen İleti', 'İletilmiş Mesaj'],
    forwardIntros: ['İleti başlangıcı'],
    deviceSignatures: ["iPhone'umdan gönderildi", 'iPhone’umdan gönderildi'],
  },
  // Japanese: Gmail "2026年1月3日(土) 9:00 Name <x@y>:" (no verb), Apple Mail
  // "2016/11/08 14:26、Name <x@y> のメッセージ:" [WD] or "のメール:", Outlook 差出人/送信日時.
  ja: {
    openers: [],
    verbsAtEnd: ['のメッセージ', 'のメール', 'wrote'],
    verbsBeforeAuthor: [],
    fromLabels: ['差出人', '送信者'],
    otherLabels: ['送信日時', '日付', '宛先', 'CC', '件名'],
    separators: ['元のメッセージ', '転送メッセージ', 'メッセージを転送'],
    forwardIntros: ['転送されたメッセージ'],
    deviceSignatures: ['iPhoneから送信', 'iPadから送信'],
  },
  // Chinese: Gmail "Name <x@y> 于2026年1月3日周六 09:00写道：" [ZAP], Apple Mail
  // "在 2016年11月8日，下午2:23，Name <x@y> 写道：" [WD], Outlook 发件人/发送时间 [ZAP].
  zh: {
    openers: ['在'],
    verbsAtEnd: ['写道', '寫道'],
    verbsBeforeAuthor: [],
    fromLabels: ['发件人', '寄件者', '寄件人'],
    otherLabels: [
      '发送时间',
      '日期',
      '收件人',
      '抄送',
      '主题',
      '寄件日期',
      '收件者',
      '副本',
      '主旨',
    ],
    separators: ['原始邮件', '原始消息', '原始郵件', '转发的邮件', '轉寄郵件'],
    forwardIntros: [],
    deviceSignatures: ['发自我的', '從我的', '从我的'],
  },
  // Korean and Hungarian only as far as the public corpora show them [WD].
  ko: {
    openers: [],
    verbsAtEnd: ['작성'],
    verbsBeforeAuthor: [],
    fromLabels: ['보낸 사람'],
    otherLabels: ['보낸 날짜', '받는 사람', '제목'],
    separators: ['원본 메시지'],
    forwardIntros: [],
    deviceSignatures: [],
  },
  hu: {
    openers: [],
    verbsAtEnd: ['írta'],
    verbsBeforeAuthor: [],
    fromLabels: ['Feladó'],
    otherLabels: ['Elküldve', 'Címzett', 'Tárgy'],
    separators: ['Eredeti üzenet', 'Továbbított üzenet'],
    forwardIntros: ['Továbbított levél kezdete'],
    deviceSignatures: [],
  },
};

const all = Object.values(quoteHeaderLanguages);

/** Every language's entries of one field, without repeats, longest first (so alternations prefer them). */
export function entriesOf(field: keyof QuoteHeaderLanguage): string[] {
  const values = new Set(all.flatMap((language) => language[field] ?? []));
  return [...values].sort((a, b) => b.length - a.length);
}

/** A table entry as a regex source: special characters escaped, any space run as `\s+`. */
export function asPattern(entry: string): string {
  return escapeRegExp(entry).replace(/\s+/g, '\\s+');
}

/** `text` as a regular expression that matches it as written. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
