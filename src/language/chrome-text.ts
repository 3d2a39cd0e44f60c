import { languagesOf, type Language, type LanguagePreference } from './languages.js';

/**
 * Every word of our own that goes round a trainer's text (buttons, headings, footers, the
 * acknowledgement, the manager digest), one table per language (#15). The layouts read the
 * fixed strings at compile time as `[[ t.key ]]`; the code reads the ones with numbers and names
 * through the functions. Add a key to both tables: the type makes a missing one a compile error.
 *
 * The Welsh was written for this project and has not yet been checked by a Welsh speaker; the
 * replies we ask for ("done", "help", ...) stay the English words the reply reader knows today.
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
    'Atebwch yr e-bost hwn gyda "done", "pause for 1 week", "too hard" neu ychydig eiriau am sut aeth hi. Neu defnyddiwch un o’r dolenni hyn, sy’n agor ateb parod:',
  done: 'Wedi gwneud',
  pause: 'Saib am wythnos',
  pauseSubject: 'Saib am wythnos',
  tooHard: 'Rhy anodd',
  replyDone: 'Ateb "done"',
  replyPause: 'Ateb "pause for 1 week"',
  replyTooHard: 'Ateb "too hard"',
  help: 'Atebwch "help" i weld popeth y gallwch ei ateb.',
  stop: 'Atal y rhaglen',
  unsubscribe: 'Dad-danysgrifio',
  enrolledReason: 'Rydych yn cael hwn am eich bod wedi cofrestru ar',
  thanks: 'Diolch',
  ackReplyHint:
    'Gallwch ateb unrhyw bryd gyda "done", "pause for 2 weeks", "pause until 3 January", "resume", "too hard", neu ychydig eiriau am sut mae’n mynd.',
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
