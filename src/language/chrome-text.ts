import { DateTime } from 'luxon';
import { longDate } from './dates.js';
import { languagesOf, type Language, type LanguagePreference } from './languages.js';

/**
 * Every word of our own that goes round a trainer's text (buttons, headings, footers, the
 * acknowledgement, the manager digest, the welcome and programme-end emails), one table per
 * language (#15). The layouts read the fixed strings at compile time as `[[ t.key ]]`; the code
 * reads the ones with numbers and names through the functions. Add a key to both tables: the type makes a missing one a compile error.
 *
 * The Welsh was written for this project and has not yet been checked by a Welsh speaker. The
 * replies a Welsh email asks for are Welsh words the reply reader knows (`replyWords` below).
 */
export interface ChromeText {
  /** The line above which a reply is read; always contains the English marker the reader cuts at. */
  marker: string;
  /** The link at the top of a bilingual email that jumps to the English part. */
  switchToEnglish: string;
  week: string;
  tip: string;
  example: string;
  assignment: string;
  due: string;
  actionsIntro: string;
  actionsHeading: string;
  actionsText: string;
  done: string;
  pause: string;
  pauseSubject: string;
  tooHard: string;
  replyDone: string;
  replyPause: string;
  replyTooHard: string;
  help: string;
  stop: string;
  unsubscribe: string;
  enrolledReason: string;
  thanks: string;
  ackReplyHint: string;
  ackReason: string;
  ackKicker: string;
  digestTitle: string;
  hello: string;
  managerSummary: string;
  digestReason: string;
  forNextFortnight: string;
  name: string;
  done_column: string;
  status: string;
  onTrack: string;
  everyoneElse: string;
  teamAtAGlance: string;
  nothingDueYet: string;
  invitation: string;
  updatedInvitation: string;
  cancelled: string;
  minutes: string;
  inviteEnded: string;
  practice: string;
  introTitle: string;
  introKicker: string;
  introWhatHeading: string;
  introWhatText: string;
  introGetHeading: string;
  introOneThingHeading: string;
  introOneThing: string;
  introOneThingWhy: string;
  welcomeHowHeading: string;
  welcomeWeekly: string;
  welcomeSlots: string;
  welcomeWeeksHeading: string;
  welcomeSoon: string;
  endOwnWords: string;
  endKeep: string;
  endNextHeading: string;
  endSlot: string;
  endPassOn: string;
  endLastHeading: string;
}

const en: ChromeText = {
  marker: 'Reply above this line',
  switchToEnglish: 'Read this email in English',
  week: 'Week',
  tip: 'Tip',
  example: 'Example',
  assignment: 'This week’s assignment:',
  due: 'Due',
  actionsIntro:
    'Tell us how it went in one tap. Each button opens an email to us: just press Send.',
  actionsHeading: 'TELL US HOW IT WENT',
  actionsText:
    'Reply to this email with "done", "pause for 1 week", "too hard" or a few words on how it went. Or use one of these links, which open a ready-made reply:',
  done: 'Done',
  pause: 'Pause a week',
  pauseSubject: 'Pause for a week',
  tooHard: 'Too hard',
  replyDone: 'Reply "done"',
  replyPause: 'Reply "pause for 1 week"',
  replyTooHard: 'Reply "too hard"',
  help: 'Reply "help" to see everything you can reply.',
  stop: 'Stop the programme',
  unsubscribe: 'Unsubscribe',
  enrolledReason: 'You are getting this because you are enrolled on',
  thanks: 'Thanks',
  ackReplyHint:
    'You can reply at any time with "done", "pause for 2 weeks", "pause until 3 January", "resume", "too hard", or a few words on how it is going.',
  ackReason: 'You are getting this because you replied to a Digital Gym email.',
  ackKicker: 'Your reply',
  digestTitle: 'Your team this fortnight',
  hello: 'Hello',
  managerSummary: 'Manager summary',
  digestReason: 'You are getting this because people you manage are on a Digital Gym programme.',
  forNextFortnight: 'For the next fortnight',
  name: 'Name',
  done_column: 'Done',
  status: 'Status',
  onTrack: 'On track',
  everyoneElse: 'Everyone else',
  teamAtAGlance: 'Your team at a glance',
  nothingDueYet: 'nothing due yet',
  invitation: 'Invitation',
  updatedInvitation: 'Updated invitation',
  cancelled: 'Cancelled',
  minutes: 'minutes',
  inviteEnded:
    'Your Digital Gym programme has ended, so this practice slot is freed in your calendar.',
  practice: 'Practice',
  introTitle: 'Your team is starting Digital Gym',
  introKicker: 'For managers',
  introWhatHeading: 'What they will do',
  introWhatText:
    'For twelve weeks, each of them gets one email a week with a tip, an example and a 30-minute assignment to try in their real work, and a calendar invitation for a practice slot. They tell us how it went by replying.',
  introGetHeading: 'What you will get',
  introOneThingHeading: 'The one thing you can do',
  introOneThing: 'Protect their 30 minutes of practice each week.',
  introOneThingWhy: 'People who get that time from their manager are the ones who finish.',
  welcomeHowHeading: 'How it works',
  welcomeWeekly:
    'Each week brings an email with a tip, an example and one small assignment to try in your real work.',
  welcomeSlots: 'Practice slots arrive as calendar invitations. Accept them to keep the time free.',
  welcomeWeeksHeading: 'Your twelve weeks',
  welcomeSoon: 'Your first weekly email arrives soon. Nothing to do until then.',
  endOwnWords: 'In your own words:',
  endKeep:
    'What you tried at work over these weeks is yours to keep. The habits matter more than the count: pick one and keep doing it.',
  endNextHeading: 'What next',
  endSlot: 'Keep a 30-minute practice slot in your calendar each week, now that nobody sends it.',
  endPassOn: 'Pass on one tip to a colleague: teaching it is the best way to keep it.',
  endLastHeading: 'One last reply',
};

const cy: ChromeText = {
  marker: 'Atebwch uwchben y llinell hon · Reply above this line',
  switchToEnglish: 'Darllenwch yr e-bost hwn yn Saesneg',
  week: 'Wythnos',
  tip: 'Awgrym',
  example: 'Enghraifft',
  assignment: 'Tasg yr wythnos hon:',
  due: 'Erbyn',
  actionsIntro:
    'Dywedwch wrthym sut aeth hi gydag un clic. Mae pob botwm yn agor e-bost atom ni: dim ond pwyso Anfon.',
  actionsHeading: 'DYWEDWCH WRTHYM SUT AETH HI',
  actionsText:
    'Atebwch yr e-bost hwn gyda "wedi gorffen", "saib am wythnos", "rhy anodd" neu ychydig eiriau am sut aeth hi. Neu defnyddiwch un o’r dolenni hyn, sy’n agor ateb parod:',
  done: 'Wedi gwneud',
  pause: 'Saib am wythnos',
  pauseSubject: 'Saib am wythnos',
  tooHard: 'Rhy anodd',
  replyDone: 'Ateb "wedi gorffen"',
  replyPause: 'Ateb "saib am wythnos"',
  replyTooHard: 'Ateb "rhy anodd"',
  help: 'Atebwch "cymorth" i weld popeth y gallwch ei ateb.',
  stop: 'Atal y rhaglen',
  unsubscribe: 'Dad-danysgrifio',
  enrolledReason: 'Rydych yn cael hwn am eich bod wedi cofrestru ar',
  thanks: 'Diolch',
  ackReplyHint:
    'Gallwch ateb unrhyw bryd gyda "wedi gorffen", "saib am bythefnos", "saib tan 3 Ionawr", "ailddechrau", "rhy anodd", neu ychydig eiriau am sut mae’n mynd.',
  ackReason: 'Rydych yn cael hwn am eich bod wedi ateb e-bost gan Digital Gym.',
  ackKicker: 'Eich ateb',
  digestTitle: 'Eich tîm y pythefnos hwn',
  hello: 'Helo',
  managerSummary: 'Crynodeb i reolwyr',
  digestReason: 'Rydych yn cael hwn am fod pobl rydych yn eu rheoli ar raglen Digital Gym.',
  forNextFortnight: 'Ar gyfer y pythefnos nesaf',
  name: 'Enw',
  done_column: 'Wedi gwneud',
  status: 'Statws',
  onTrack: 'Ar y trywydd iawn',
  everyoneElse: 'Pawb arall',
  teamAtAGlance: 'Eich tîm ar yr olwg gyntaf',
  nothingDueYet: 'dim byd yn ddyledus eto',
  invitation: 'Gwahoddiad',
  updatedInvitation: 'Gwahoddiad wedi’i ddiweddaru',
  cancelled: 'Wedi’i ganslo',
  minutes: 'munud',
  inviteEnded:
    'Mae eich rhaglen Digital Gym wedi dod i ben, felly mae’r slot ymarfer hwn wedi’i ryddhau yn eich calendr.',
  practice: 'Ymarfer',
  // The manager's introduction (#14, #15) [own]: "neilltuo" (set aside) as in the digest's
  // "neilltuo 30 munud".
  introTitle: 'Mae eich tîm yn dechrau Digital Gym',
  introKicker: 'I reolwyr',
  introWhatHeading: 'Beth fyddan nhw’n ei wneud',
  introWhatText:
    'Am ddeuddeg wythnos, bydd pob un ohonyn nhw’n cael un e-bost yr wythnos gydag awgrym, enghraifft a thasg 30 munud i roi cynnig arni yn eu gwaith go iawn, a gwahoddiad calendr ar gyfer slot ymarfer. Maen nhw’n dweud wrthym sut aeth hi drwy ateb.',
  introGetHeading: 'Beth fyddwch chi’n ei gael',
  introOneThingHeading: 'Yr un peth y gallwch chi ei wneud',
  introOneThing: 'Neilltuwch eu 30 munud o ymarfer bob wythnos.',
  introOneThingWhy: 'Y bobl sy’n cael yr amser hwnnw gan eu rheolwr yw’r rhai sy’n gorffen.',
  // The welcome and programme-end emails (#15) [own]: "tasg" (assignment) as in the step emails,
  // feminine, so "un dasg", "y dasg"; "neilltuo" (set aside) as in the introduction.
  welcomeHowHeading: 'Sut mae’n gweithio',
  welcomeWeekly:
    'Bob wythnos, fe gewch e-bost gydag awgrym, enghraifft ac un dasg fach i roi cynnig arni yn eich gwaith go iawn.',
  welcomeSlots:
    'Mae slotiau ymarfer yn cyrraedd fel gwahoddiadau calendr. Derbyniwch nhw i gadw’r amser yn rhydd.',
  welcomeWeeksHeading: 'Eich deuddeg wythnos',
  welcomeSoon:
    'Bydd eich e-bost wythnosol cyntaf yn cyrraedd cyn bo hir. Does dim angen gwneud dim byd tan hynny.',
  endOwnWords: 'Yn eich geiriau eich hun:',
  endKeep:
    'Mae’r hyn y rhoesoch gynnig arno yn y gwaith dros yr wythnosau hyn yn eiddo i chi. Mae’r arferion yn bwysicach na’r cyfrif: dewiswch un a daliwch ati.',
  endNextHeading: 'Beth nesaf',
  endSlot:
    'Cadwch slot ymarfer 30 munud yn eich calendr bob wythnos, nawr nad oes neb yn ei anfon atoch.',
  endPassOn:
    'Rhannwch un awgrym gyda chydweithiwr: ei ddysgu i rywun arall yw’r ffordd orau o’i gofio.',
  endLastHeading: 'Un ateb olaf',
};

const tables: Record<Language, ChromeText> = { cy, en };

/** The chrome of one language. */
export function chromeText(language: Language): ChromeText {
  return tables[language];
}

/**
 * A chrome string for a preference: one language's, or each language's joined Welsh first
 * ("Ymarfer / Practice").
 */
export function chromeString(
  preference: LanguagePreference,
  pick: (text: ChromeText, language: Language) => string,
): string {
  return languagesOf(preference)
    .map((language) => pick(tables[language], language))
    .join(' / ');
}

/**
 * The whole table for a preference, each value joined Welsh first: what a layout reads as
 * `t` at compile time. `wrap` marks each language's part (a `<span lang>` in HTML).
 */
export function chromeTable(
  preference: LanguagePreference,
  wrap: (text: string, language: Language) => string = (text) => text,
): ChromeText {
  const table = {} as Record<keyof ChromeText, string>;
  const bilingual = languagesOf(preference).length > 1;
  for (const key of Object.keys(en) as (keyof ChromeText)[]) {
    table[key] = languagesOf(preference)
      .map((language) =>
        bilingual ? wrap(tables[language][key], language) : tables[language][key],
      )
      .join(' / ');
  }
  return table;
}

/** "Week 3 of 12 · 2 assignments done", in one language. Zero assignments is left out. */
export function progressText(
  language: Language,
  week: number,
  totalWeeks: number,
  assignmentsDone: number,
): string {
  if (language === 'cy') {
    const head = `Wythnos ${week} o ${totalWeeks}`;
    // "Tasgau wedi’u gwneud: 2" rather than a number before the noun, which Welsh mutates.
    return assignmentsDone <= 0 ? head : `${head} · Tasgau wedi’u gwneud: ${assignmentsDone}`;
  }
  const head = `Week ${week} of ${totalWeeks}`;
  if (assignmentsDone <= 0) return head;
  return `${head} · ${assignmentsDone} ${assignmentsDone === 1 ? 'assignment' : 'assignments'} done`;
}

/**
 * The words a learner replies with, in each language, as the reply reader reads them (the
 * phrase tables in src/replies/intent/phrases/): what the emails tell people to write and what
 * the one-tap buttons send. A Welsh email asks for Welsh words, never English ones (#15).
 * test/language/reply-words.test.ts reads every one back through the reader.
 *
 * Welsh, with the source the phrase table gives for each: "wedi gorffen" (done; the "wedi" +
 * verb-noun perfect, [golwg] "wedi cael eu cwblhau"), "saib" (pause; [own] in cy.ts, beside
 * [denb] "seibiant"), "am wythnos" / "am bythefnos" ([hmrc] "{0} wythnos", [denb] "hyd at
 * bythefnos"), "tan 3 Ionawr" ([golwg] "aros tan fis Medi", [hmrc] month names), "ailddechrau"
 * (resume; [hmrc] "Ailddechrau"), "rhy anodd" (too hard; [own]), "hepgor" (skip; [cv] "Hepgor"),
 * "stopio" (stop; [own]), "cymorth" (help; [cv] "help = Cymorth", [ier] "cymorth"),
 * "dad-danysgrifio" (unsubscribe; [blurts] "Dad-danysgrifio").
 */
export interface ReplyWords {
  done: string;
  pauseWeek: string;
  pauseFortnight: string;
  pauseUntil: string;
  resume: string;
  tooHard: string;
  skip: string;
  stop: string;
  help: string;
  unsubscribe: string;
  rating: string;
}

const replyWordTables: Record<Language, ReplyWords> = {
  en: {
    done: 'done',
    pauseWeek: 'pause for 1 week',
    pauseFortnight: 'pause for 2 weeks',
    pauseUntil: 'pause until 3 January',
    resume: 'resume',
    tooHard: 'too hard',
    skip: 'skip',
    stop: 'stop',
    help: 'help',
    unsubscribe: 'unsubscribe',
    rating: '4/5',
  },
  cy: {
    done: 'wedi gorffen',
    pauseWeek: 'saib am wythnos',
    pauseFortnight: 'saib am bythefnos',
    pauseUntil: 'saib tan 3 Ionawr',
    resume: 'ailddechrau',
    tooHard: 'rhy anodd',
    skip: 'hepgor',
    stop: 'stopio',
    help: 'cymorth',
    unsubscribe: 'dad-danysgrifio',
    rating: '4/5',
  },
};

/** The reply words of one language (see `ReplyWords`). */
export function replyWords(language: Language): ReplyWords {
  return replyWordTables[language];
}

/**
 * The welcome and programme-end emails' sentences that hold a name, a title or a count (#15),
 * per language; their fixed sentences are in `ChromeText`. The layouts call the ones with
 * `{{ }}` arguments at compile time (`title` may be `<strong>{{ programme.title }}</strong>`),
 * `endTally` at fill time with the learner's numbers. The replies they quote are `replyWords`, so
 * a Welsh learner is asked for Welsh words the reader knows.
 */
export interface JourneyWords {
  welcomeSubject: (title: string) => string;
  welcomePreheader: string;
  welcomeTitle: (firstName: string) => string;
  welcomeStarting: (title: string) => string;
  welcomeReplies: string;
  welcomeManager: (name: string) => string;
  /** `name` and `email` are absent when the programme names no trainer, or no address. */
  welcomeTrainer: (name: string | undefined, email: string | undefined) => string;
  endSubject: (title: string) => string;
  endPreheader: string;
  endTitle: (firstName: string) => string;
  endOf: (title: string) => string;
  /** What the learner did: assignments done of the programme's, and reflections sent. */
  endTally: (done: number, total: number, reflections: number) => string;
  /** `name` is absent when the learner's manager is not known. */
  endTellManager: (name: string | undefined) => string;
  endRating: string;
}

const journeyWordTables: Record<Language, JourneyWords> = {
  en: {
    welcomeSubject: (title) => `Welcome to ${title}`,
    welcomePreheader:
      'Twelve weeks of small, practical steps, in your inbox. Here is how it works.',
    welcomeTitle: (name) => `Welcome, ${name}`,
    welcomeStarting: (title) =>
      `You are starting ${title}: twelve weeks of small, practical steps, delivered to your inbox.`,
    welcomeReplies: ((w) =>
      `Reply to any of our emails: "${w.done}" when you have done the assignment, "${w.pauseWeek}" when work is too busy, "${w.tooHard}" when you are stuck, "${w.help}" with any question.`)(
      replyWordTables.en,
    ),
    welcomeManager: (name) =>
      `Your manager, ${name}, gets a short summary every two weeks of where you are, so they can help you make time for it.`,
    welcomeTrainer: (name, email) =>
      `${name === undefined ? 'Your trainer' : `Your trainer is ${name}${email === undefined ? '' : ` (${email})`}, who`} reads your replies and will be in touch when you say "${replyWordTables.en.tooHard}" or ask for help.`,
    endSubject: (title) => `You have finished ${title}`,
    endPreheader: 'One last reply: how useful was it?',
    endTitle: (name) => `You have finished, ${name}`,
    endOf: (title) => `That is the end of ${title}.`,
    endTally: (done, total, reflections) => {
      const did =
        done > 0
          ? `You did ${done} of the ${total} assignments`
          : `You did not tell us you had done any of the ${total} assignments`;
      const sent =
        reflections > 0
          ? ` and sent ${reflections} ${reflections === 1 ? 'reflection' : 'reflections'}`
          : '';
      return `${did}${sent}.`;
    },
    endTellManager: (name) =>
      `Tell your manager${name === undefined ? '' : `, ${name},`} the one thing you will keep doing, and ask for the time to do it.`,
    endRating: `How useful was it? Reply with a score such as "${replyWordTables.en.rating}" and one thing you will keep doing. Your trainer reads every answer.`,
  },
  // [own], not yet reviewed by a Welsh speaker. "Croeso i’r rhaglen" and "gorffen" + the title
  // keep a programme's title unmutated; counts follow a colon ("Tasgau wedi’u gwneud: 3 o 12"),
  // as the progress line does, rather than stand before a noun Welsh would mutate.
  cy: {
    welcomeSubject: (title) => `Croeso i’r rhaglen ${title}`,
    welcomePreheader:
      'Deuddeg wythnos o gamau bach, ymarferol, yn eich mewnflwch. Dyma sut mae’n gweithio.',
    welcomeTitle: (name) => `Croeso, ${name}`,
    welcomeStarting: (title) =>
      `Rydych yn dechrau ${title}: deuddeg wythnos o gamau bach, ymarferol, wedi’u hanfon i’ch mewnflwch.`,
    welcomeReplies: ((w) =>
      `Atebwch unrhyw un o’n negeseuon e-bost: "${w.done}" pan fyddwch wedi gwneud y dasg, "${w.pauseWeek}" pan fydd y gwaith yn rhy brysur, "${w.tooHard}" pan fyddwch yn cael trafferth, "${w.help}" gydag unrhyw gwestiwn.`)(
      replyWordTables.cy,
    ),
    welcomeManager: (name) =>
      `Mae eich rheolwr, ${name}, yn cael crynodeb byr bob pythefnos o ble rydych chi arni, er mwyn iddyn nhw allu eich helpu i neilltuo amser ar ei gyfer.`,
    welcomeTrainer: (name, email) =>
      `${name === undefined ? 'Mae eich hyfforddwr yn darllen' : `Eich hyfforddwr yw ${name}${email === undefined ? '' : ` (${email})`}, sy’n darllen`} eich atebion a bydd yn cysylltu â chi pan fyddwch yn dweud "${replyWordTables.cy.tooHard}" neu’n gofyn am gymorth.`,
    endSubject: (title) => `Rydych wedi gorffen ${title}`,
    endPreheader: 'Un ateb olaf: pa mor ddefnyddiol oedd y rhaglen?',
    endTitle: (name) => `Rydych wedi gorffen, ${name}`,
    endOf: (title) => `Dyna ddiwedd ${title}.`,
    endTally: (done, total, reflections) => {
      const did =
        done > 0
          ? `Tasgau wedi’u gwneud: ${done} o ${total}.`
          : `Ddywedoch chi ddim wrthym eich bod wedi gwneud unrhyw un o’r tasgau (${total} i gyd).`;
      return reflections > 0 ? `${did} Myfyrdodau a anfonwyd gennych: ${reflections}.` : did;
    },
    endTellManager: (name) =>
      `Dywedwch wrth eich rheolwr${name === undefined ? '' : `, ${name},`} beth yw’r un peth y byddwch yn dal ati i’w wneud, a gofynnwch am yr amser i’w wneud.`,
    endRating: `Pa mor ddefnyddiol oedd y rhaglen? Atebwch gyda sgôr fel "${replyWordTables.cy.rating}" ac un peth y byddwch yn dal ati i’w wneud. Mae eich hyfforddwr yn darllen pob ateb.`,
  },
};

/** The welcome and programme-end sentences of one language (see `JourneyWords`). */
export function journeyWords(language: Language): JourneyWords {
  return journeyWordTables[language];
}

/**
 * What an acknowledgement answers (src/replies/types.ts `AcknowledgementKind`), repeated here so
 * that the language module needs nothing from the reader.
 */
export type AcknowledgementWordsKind =
  | 'done'
  | 'too_hard'
  | 'help'
  | 'rating'
  | 'reflection'
  | 'pause'
  | 'resume'
  | 'skip'
  | 'stop'
  | 'ended'
  | 'rejoin'
  | 'question'
  | 'not-changed'
  | 'already-answered'
  | 'intake';

/** The numbers and dates an acknowledgement is about: `week`, `until` (an ISO date), ... */
export type AcknowledgementFacts = Readonly<Record<string, string | number>>;

/** An acknowledgement's own sentences: the line in bold and the optional one under it. */
export interface AcknowledgementWords {
  message: string;
  detail?: string | undefined;
}

/** What a one-tap question proposes, and its two buttons. */
export interface ProposalWords {
  proposal: string;
  yesLabel: string;
  noLabel: string;
  /** The subject of the email each button opens. */
  yesSubject: string;
  noSubject: string;
}

const factNumber = (facts: AcknowledgementFacts, key: string): number => Number(facts[key] ?? 0);
const factText = (facts: AcknowledgementFacts, key: string): string => String(facts[key] ?? '');

/** "Monday 25 January" / "Dydd Llun 25 Ionawr" from an ISO date, which is already the learner's. */
function dateOf(iso: string, language: Language): string {
  const at = DateTime.fromISO(iso, { zone: 'UTC' });
  return at.isValid ? longDate(at.toJSDate(), 'UTC', language) : iso;
}

/**
 * Every acknowledgement's wording, per language: the one place it is written (#15). `facts` are
 * the payload's (src/replies/decide.ts). The Welsh is plain and warm, as the emails are; words
 * a learner may write back are `replyWords`, so the reader understands them. Welsh beyond the
 * reply words is [own] (written for this project, not yet reviewed by a Welsh speaker): "Wedi’i
 * gofnodi" (logged), "myfyrdod" (reflection), "hyfforddwr" (trainer), "Ie" / "Na" (yes / no).
 */
const acknowledgementTables: Record<
  Language,
  {
    words: (kind: AcknowledgementWordsKind, facts: AcknowledgementFacts) => AcknowledgementWords;
    proposal: (facts: AcknowledgementFacts) => ProposalWords;
  }
> = {
  en: {
    words: (kind, facts) => {
      const week = factNumber(facts, 'week');
      const w = replyWordTables.en;
      switch (kind) {
        case 'done':
          return {
            message: `Logged: week ${week} done. That's ${factNumber(facts, 'done')} of ${factNumber(facts, 'total')}.`,
          };
        case 'too_hard':
          return {
            message: `Logged: week ${week} feels too hard. Your trainer will get in touch to help.`,
            detail:
              'Try the smallest part of the assignment in the meantime: ten minutes is plenty.',
          };
        case 'help':
          return {
            message:
              `You can reply: ${w.done}, ${w.tooHard}, ${w.pauseFortnight}, ${w.pauseUntil}, ${w.resume}, ` +
              `${w.skip} (the rest of this week), ${w.stop}, or a rating such as ${w.rating}. Anything else is kept ` +
              'as a reflection.',
            detail: 'Your trainer has been told you asked for help, and will get in touch.',
          };
        case 'rating':
          return {
            message: `Logged: you rated the programme ${factNumber(facts, 'rating')} out of 5. Thank you.`,
          };
        case 'reflection':
          return {
            message: `Logged: your reflection for week ${week}. Thank you for writing it.`,
          };
        case 'pause':
          return {
            message: `Paused until ${dateOf(factText(facts, 'until'), 'en')}.`,
            detail: `Your programme picks up where you left off, and your calendar invites have moved. Reply "${w.resume}" to come back sooner.`,
          };
        case 'resume':
          return { message: 'Welcome back: your programme carries on from where you left off.' };
        case 'rejoin':
          return {
            message: 'Your programme was stopped, so a reply cannot restart it.',
            detail:
              'To rejoin, ask your trainer: they can restart it for you. We have let them know you asked.',
          };
        case 'skip':
          return {
            message: `Skipped week ${week}.`,
            detail: 'The rest of this week is off your plan; next week arrives as usual.',
          };
        case 'stop':
          return {
            message: 'Stopped: you will get no more emails from this programme.',
            detail: 'Its practice slots have been removed from your calendar.',
          };
        case 'ended': {
          const over = factText(facts, 'status') === 'completed' ? 'finished' : 'ended';
          return {
            message: `Your programme has already ${over}, so there is nothing to ${factText(facts, 'action')}.`,
          };
        }
        case 'question':
          return {
            message: `Did you mean: ${acknowledgementTables.en.proposal(facts).proposal}?`,
            detail:
              'Nothing has changed yet. Tap a button below (it sends a short email), and we will do as you say.',
          };
        case 'not-changed':
          return { message: 'Thank you: nothing has changed, and we kept your message as a note.' };
        case 'already-answered':
          return {
            message: 'You have already answered that question, so nothing more has changed.',
          };
        case 'intake':
          return { message: `Thank you: we recorded your answers: ${factText(facts, 'answers')}.` };
      }
    },
    proposal: (facts) => {
      const no = { noLabel: 'No, it was a note', noSubject: 'No, it was a note' };
      const yes = (proposal: string, yesLabel: string): ProposalWords => ({
        proposal,
        yesLabel,
        yesSubject: `Yes: ${proposal}`,
        ...no,
      });
      switch (factText(facts, 'action')) {
        case 'pause': {
          if (facts.until !== undefined)
            return yes(`pause until ${dateOf(factText(facts, 'until'), 'en')}`, 'Yes, pause');
          const weeks = factNumber(facts, 'weeks') || 1;
          return yes(`pause for ${weeks} ${weeks === 1 ? 'week' : 'weeks'}`, 'Yes, pause');
        }
        case 'resume':
          return yes('resume your programme now', 'Yes, resume');
        case 'skip':
          return yes(`skip the rest of week ${factNumber(facts, 'week')}`, 'Yes, skip it');
        case 'stop':
          return facts.unsubscribe
            ? yes('unsubscribe from all Digital Gym emails', 'Yes, unsubscribe me')
            : yes('stop this programme', 'Yes, stop it');
        default:
          return yes(factText(facts, 'action'), 'Yes');
      }
    },
  },
  cy: {
    words: (kind, facts) => {
      const week = factNumber(facts, 'week');
      const w = replyWordTables.cy;
      switch (kind) {
        case 'done':
          return {
            message: `Wedi’i gofnodi: wythnos ${week} wedi’i gwneud. Dyna ${factNumber(facts, 'done')} o ${factNumber(facts, 'total')}.`,
          };
        case 'too_hard':
          return {
            message: `Wedi’i gofnodi: mae wythnos ${week} yn teimlo’n rhy anodd. Bydd eich hyfforddwr yn cysylltu i helpu.`,
            detail:
              'Yn y cyfamser, rhowch gynnig ar y rhan leiaf o’r dasg: mae deg munud yn ddigon.',
          };
        case 'help':
          return {
            message:
              `Gallwch ateb: ${w.done}, ${w.tooHard}, ${w.pauseFortnight}, ${w.pauseUntil}, ${w.resume}, ` +
              `${w.skip} (gweddill yr wythnos hon), ${w.stop}, neu sgôr fel ${w.rating}. Rydym yn cadw ` +
              'unrhyw beth arall fel myfyrdod.',
            detail:
              'Rydym wedi dweud wrth eich hyfforddwr eich bod wedi gofyn am gymorth, a bydd yn cysylltu â chi.',
          };
        case 'rating':
          return {
            message: `Wedi’i gofnodi: rhoesoch ${factNumber(facts, 'rating')} allan o 5 i’r rhaglen. Diolch.`,
          };
        case 'reflection':
          return {
            message: `Wedi’i gofnodi: eich myfyrdod ar gyfer wythnos ${week}. Diolch am ei ysgrifennu.`,
          };
        case 'pause':
          return {
            message: `Saib tan ${dateOf(factText(facts, 'until'), 'cy')}.`,
            detail: `Bydd eich rhaglen yn ailgychwyn lle gwnaethoch adael, ac mae eich gwahoddiadau calendr wedi symud. Atebwch "${w.resume}" i ddod yn ôl yn gynt.`,
          };
        case 'resume':
          return {
            message: 'Croeso’n ôl: mae eich rhaglen yn parhau o’r man lle gwnaethoch adael.',
          };
        case 'rejoin':
          return {
            message: 'Cafodd eich rhaglen ei hatal, felly ni all ateb ei hailddechrau.',
            detail:
              'I ailymuno, gofynnwch i’ch hyfforddwr: gallant ei hailddechrau i chi. Rydym wedi rhoi gwybod iddynt eich bod wedi gofyn.',
          };
        case 'skip':
          return {
            message: `Wedi hepgor wythnos ${week}.`,
            detail:
              'Mae gweddill yr wythnos hon wedi’i dynnu o’ch cynllun; bydd yr wythnos nesaf yn cyrraedd fel arfer.',
          };
        case 'stop':
          return {
            message: 'Wedi’i hatal: fyddwch chi ddim yn cael rhagor o e-byst gan y rhaglen hon.',
            detail: 'Mae ei slotiau ymarfer wedi’u tynnu o’ch calendr.',
          };
        case 'ended': {
          const over =
            factText(facts, 'status') === 'completed' ? 'wedi gorffen' : 'wedi dod i ben';
          // "i'w" + the verb-noun: "dim byd i'w oedi" (nothing to pause).
          const verb: Record<string, string> = {
            pause: 'oedi',
            resume: 'ailddechrau',
            skip: 'hepgor',
          };
          const action = factText(facts, 'action');
          return {
            message: `Mae eich rhaglen eisoes ${over}, felly does dim byd i’w ${verb[action] ?? action}.`,
          };
        }
        case 'question':
          return {
            message: `Ydych chi’n golygu: ${acknowledgementTables.cy.proposal(facts).proposal}?`,
            detail:
              'Does dim byd wedi newid eto. Pwyswch fotwm isod (mae’n anfon e-bost byr), a byddwn yn gwneud fel rydych chi’n ei ddweud.',
          };
        case 'not-changed':
          return {
            message: 'Diolch: does dim byd wedi newid, ac rydym wedi cadw eich neges fel nodyn.',
          };
        case 'already-answered':
          return {
            message:
              'Rydych chi eisoes wedi ateb y cwestiwn hwnnw, felly does dim byd arall wedi newid.',
          };
        case 'intake':
          return {
            message: `Diolch: rydym wedi cofnodi eich atebion: ${factText(facts, 'answers')}.`,
          };
      }
    },
    proposal: (facts) => {
      const no = { noLabel: 'Na, nodyn oedd e', noSubject: 'Na, nodyn oedd e' };
      const yes = (proposal: string, yesLabel: string): ProposalWords => ({
        proposal,
        yesLabel,
        yesSubject: `Ie: ${proposal}`,
        ...no,
      });
      switch (factText(facts, 'action')) {
        case 'pause': {
          if (facts.until !== undefined)
            return yes(`saib tan ${dateOf(factText(facts, 'until'), 'cy')}`, 'Ie, saib');
          const weeks = factNumber(facts, 'weeks') || 1;
          // A figure before "wythnos" does not mutate it ([hmrc] "{0} wythnos").
          return yes(weeks === 1 ? 'saib am wythnos' : `saib am ${weeks} wythnos`, 'Ie, saib');
        }
        case 'resume':
          return yes('ailddechrau eich rhaglen nawr', 'Ie, ailddechrau');
        case 'skip':
          return yes(`hepgor gweddill wythnos ${factNumber(facts, 'week')}`, 'Ie, hepgor');
        case 'stop':
          return facts.unsubscribe
            ? yes('dad-danysgrifio o holl e-byst Digital Gym', 'Ie, dad-danysgrifio')
            : yes('atal y rhaglen hon', 'Ie, atal hi');
        default:
          return yes(factText(facts, 'action'), 'Ie');
      }
    },
  },
};

/**
 * An acknowledgement's sentences in one language, from what it answers and its facts.
 *
 * @example acknowledgementWords('cy', 'done', { week: 3, done: 3, total: 12 }).message
 * // "Wedi’i gofnodi: wythnos 3 wedi’i gwneud. Dyna 3 o 12."
 */
export function acknowledgementWords(
  language: Language,
  kind: AcknowledgementWordsKind,
  facts: AcknowledgementFacts = {},
): AcknowledgementWords {
  const words = acknowledgementTables[language].words(kind, facts);
  // Intake answers that came with another command (a pause, a question) are confirmed after it.
  if (kind === 'intake' || facts.answers === undefined) return words;
  const also = alsoRecorded[language](factText(facts, 'answers'));
  return { ...words, detail: words.detail === undefined ? also : `${words.detail} ${also}` };
}

const alsoRecorded: Record<Language, (answers: string) => string> = {
  en: (answers) => `We also recorded your answers: ${answers}.`,
  cy: (answers) => `Rydym hefyd wedi cofnodi eich atebion: ${answers}.`,
};

/** A one-tap question's proposal and buttons in one language ("pause for 2 weeks", "Yes, pause"). */
export function proposalWords(language: Language, facts: AcknowledgementFacts): ProposalWords {
  return acknowledgementTables[language].proposal(facts);
}
