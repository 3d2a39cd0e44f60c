import type { Intent } from '../types.js';
import { pauseRequest, readUntil, readWeeks, today } from './dates.js';
import { anyOf, normalise } from './text.js';

/**
 * What a learner's reply asks for, read from its visible text (quoted history already removed).
 * Learners write in English, French, German, Spanish, Italian, Portuguese, Dutch, Swedish, Danish,
 * Norwegian and Finnish; every command below has its words in each of them. Accents are ignored
 * when matching ("termine" is "terminé", "fur" is "für"), so the patterns are written without.
 *
 * A command is read from the first non-empty line only, and only when the line starts with it:
 * "Done, and I learned..." is `done`, "I could not stop thinking about it" is a reflection. A
 * line that is only a greeting ("Hi Sam,", "Bonjour Sam,") is passed over first. After the command
 * word may come punctuation, emoji, "thanks"/"please"/"merci"/"danke"... or, after punctuation,
 * anything ("done - thanks", "Pause until 3 Jan, I'm on leave"); a plain word straight after it
 * makes the line a sentence ("Stop thinking", "Back to you later", "I can't wait to try this",
 * "Fatto sta che..."), except after the English done family ("Finished the assignment"), after
 * a done word followed by the task ("Terminé l'exercice") and after "stuck" ("stuck on step 2").
 *
 * Skip, pause, stop and resume may also come after a polite request ("I'd like to skip this
 * week", "Deze week graag overslaan", "Ich möchte mich abmelden"). "Too hard" may also come later
 * in the first sentence when that sentence says the task was too hard ("This one was too hard for
 * me.", "Das war diesmal zu schwer für mich."): a few words before it, none of them a negation or
 * a "would"/"thought" ("It wasn't too hard at all", "I was worried it would be too hard"), and
 * nothing after it but "for me"/"this time" and punctuation (not "too hard to say", not ", but I
 * managed"), and not a question.
 *
 * Pause: `weeks` for a duration and `until` (`YYYY-MM-DD`) for a date. A bare "pause" is one
 * week. A date without a year is its next occurrence on or after the day the reply was sent (in
 * `timeZone`). When the learner said how long but we cannot use it (words we do not read, a
 * date that is not after the sending day or more than a year ahead, 0 or over 52 weeks), the
 * result is `{ type: 'pause' }` with neither field: the caller decides the length and should tell
 * the learner, rather than us pausing for a length they did not ask for.
 */
export function readCommand(
  text: string,
  options: { sentAt: Date; timeZone?: string | undefined },
): Intent {
  if (!/[\p{L}\p{N}?]/u.test(text)) return { type: 'empty' };
  if (/^[\s?]+$/.test(text)) return { type: 'help' };
  const line = commandLine(text);
  return (
    readRating(line) ??
    readStop(line) ??
    readPause(line, options) ??
    readSimple(line) ??
    readTooHardSentence(line) ??
    (/[\p{L}\p{N}]/u.test(text) ? { type: 'reflection' } : { type: 'empty' })
  );
}

// ---------------------------------------------------------------------------------------------
// The line a command is read from

const greetingWords = [
  'hi',
  'hello',
  'hey',
  'hiya',
  'dear',
  'good (?:morning|afternoon|evening)',
  'morning',
  'afternoon',
  // fr, de, es, it, pt, nl, sv, da, no, fi
  'bonjour',
  'bonsoir',
  'salut',
  'coucou',
  'cher',
  'chere',
  'hallo',
  'guten (?:morgen|tag|abend)',
  'moin',
  'servus',
  'liebe',
  'lieber',
  'hola',
  'buenos dias',
  'buenas(?: tardes| noches)?',
  'querido',
  'querida',
  'estimado',
  'estimada',
  'ciao',
  'salve',
  'buongiorno',
  'buonasera',
  'gentile',
  'ola',
  'oi',
  'bom dia',
  'boa (?:tarde|noite)',
  'prezado',
  'prezada',
  'hoi',
  'goedemorgen',
  'goedemiddag',
  'beste',
  'lieve',
  'hej',
  'hejsan',
  'god (?:morgon|morgen|dag)',
  'kære',
  'kaere',
  'kjære',
  'kjaere',
  'hei',
  'heippa',
  'moi',
  'moikka',
  'terve',
  'hyvaa (?:huomenta|paivaa)',
];
const greeting = new RegExp(
  String.raw`^(?:${greetingWords.join('|')})(?![\p{L}\p{N}])[^.!?]{0,30}[,!.]?$`,
  'u',
);

/** The first non-empty line that is not only a greeting, lower case, quotes and spaces tidied. */
export function commandLine(text: string): string {
  // Only the first two non-empty lines can matter: the rest are not normalised (#17).
  const lines: string[] = [];
  for (const raw of text.slice(0, 4096).split(/\r\n|\r|\n/)) {
    const line = normalise(raw);
    if (line !== '' && lines.push(line) === 2) break;
  }
  const first = lines[0] ?? '';
  const second = lines[1];
  return greeting.test(first) && second !== undefined ? second : first;
}

// A command word ends where a word would: "backend", "stopped", "done's" are other words.
const wordEnd = String.raw`(?![\p{L}\p{N}'-])`;
// Said before a command without changing it; "¡" opens a Spanish exclamation.
const politeLead = anyOf(
  'hei',
  'hej',
  'hallo',
  'hola',
  'ciao',
  'bonjour',
  'salut',
  'please',
  'pls',
  'ok',
  'okay',
  'yes',
  'hi',
  'hello',
  'bitte',
  'ja',
  'oui',
  'si',
  'sim',
  'kylla',
  'por favor',
  'per favore',
  "s'il vous plait",
  'svp',
  'alsjeblieft',
  'alstublieft',
  'graag',
  'merci',
  'danke',
  'gracias',
  'grazie',
  'obrigado',
  'obrigada',
  'bedankt',
  'tack',
  'tak',
  'takk',
  'kiitos',
);
const politePrefix = String.raw`^[¡¿«"'(\s]*(?:(?:${politeLead})(?:[,!.]|\s)\s*)*`;
const politeWord = new RegExp(
  String.raw`^(?:${anyOf(
    'thanks',
    'thank you',
    'thx',
    'ty',
    'cheers',
    'please',
    'pls',
    'now',
    'again',
    'for now',
    'today',
    'mate',
    'x+',
    'merci',
    "s'il vous plait",
    'svp',
    'danke',
    'bitte',
    'gracias',
    'por favor',
    'grazie',
    'per favore',
    'obrigado',
    'obrigada',
    'bedankt',
    'dank je',
    'dank u',
    'alsjeblieft',
    'alstublieft',
    'graag',
    'tack',
    'tak',
    'takk',
    'venligst',
    'kiitos',
  )})(?![\p{L}\p{N}])`,
  'u',
);

/**
 * A polite request before skip, pause, stop or resume, then words that may stand between it and
 * the verb ("ich möchte diese Woche überspringen", "deze week graag overslaan").
 */
const requestFrame = String.raw`(?:(?:${anyOf(
  "i'd like to",
  'i would like to',
  'i want to',
  'i wish to',
  'i need to',
  "i'd rather",
  "i'll",
  'i will',
  "i'm going to",
  'can i',
  'could i',
  'may i',
  'can we',
  'could we',
  'can you',
  'could you',
  'let me',
  "let's",
  'je voudrais',
  'je veux',
  'je souhaite',
  "j'aimerais",
  'je vais',
  'puis-je',
  'pouvez-vous',
  'merci de',
  'ich mochte',
  'ich will',
  'ich wurde gerne',
  'ich wurde gern',
  'ich muss',
  'kann ich',
  'konnen sie',
  'quiero',
  'quisiera',
  'me gustaria',
  'voy a',
  'puedo',
  'podemos',
  'necesito',
  'vorrei',
  'voglio',
  'posso',
  'possiamo',
  'devo',
  'quero',
  'gostaria de',
  'vou',
  'preciso',
  'ik wil',
  'ik zou graag',
  'ik ga',
  'mag ik',
  'kan ik',
  'ik moet',
  'jag vill',
  'jag skulle vilja',
  'kan jag',
  'far jag',
  'jeg vil',
  'jeg vil gerne',
  'jeg vil gjerne',
  'kan jeg',
  'haluan',
  'haluaisin',
  'voinko',
)})\s)?`;
const thisWeek = anyOf(
  'this week',
  'next week',
  'this one',
  'that one',
  'cette semaine',
  'celle-ci',
  'cet exercice',
  'diese woche',
  'dieses mal',
  'diesmal',
  'diese aufgabe',
  'esta semana',
  'essa semana',
  'este',
  'questa settimana',
  'questo',
  'deze week',
  'deze',
  'den har veckan',
  'denna vecka',
  'den har',
  'denne uge',
  'denne uka',
  'denne uken',
  'denne',
  'tama viikko',
  'taman viikon',
  'tama',
);
const requestFiller = String.raw`(?:(?:${anyOf(
  thisWeek,
  'gerne',
  'gern',
  'graag',
  'bitte',
  'please',
  'svp',
  'mich',
  'me',
  'mij',
  'even',
  'liever',
  'lieber',
  'lo',
  'hem',
  'mig',
  'meg',
)})\s)*`;

/** What may follow a command word for the line still to be that command. */
function isCommandTail(rest: string): boolean {
  const tail = rest.trim();
  return tail === '' || !/^[\p{L}\p{N}]/u.test(tail) || politeWord.test(tail);
}

/**
 * A command matched by `pattern` at the start of a line, compiled once when this module loads
 * (compiling these long patterns for every reply was most of the time spent reading a command,
 * #17). A `requested` command may follow a polite request ("I'd like to skip this week").
 */
function commandAtStart(pattern: string, requested = false): RegExp {
  const frame = requested ? requestFrame + requestFiller : '';
  return new RegExp(`${politePrefix}${frame}(?:${pattern})${wordEnd}`, 'u');
}

/** The rest of `line` after a command (see `commandAtStart`) at its start, or undefined. */
function afterCommand(line: string, command: RegExp): string | undefined {
  const match = command.exec(line);
  return match === null ? undefined : line.slice(match[0].length);
}

function startsWithCommand(line: string, command: RegExp): boolean {
  const rest = afterCommand(line, command);
  return rest !== undefined && isCommandTail(rest);
}

// ---------------------------------------------------------------------------------------------
// Commands without arguments

/** "Too hard" in every language, as a phrase that may stand anywhere in the first sentence. */
const tooHardPhrase = anyOf(
  'too (?:hard|difficult|tough|complicated)',
  'trop (?:difficile|dur|dure|complique|compliquee|complexe)',
  'zu (?:schwer|schwierig|kompliziert|anspruchsvoll)',
  'demasiado (?:dificil|complicado|complicada|duro|dura)',
  'troppo (?:difficile|complicato|complicata|duro|dura)',
  'muito (?:dificil|complicado|complicada)',
  '(?:dificil|complicado|complicada) demais',
  'te (?:moeilijk|lastig|zwaar|ingewikkeld)',
  'for (?:svart|svar|krangligt|kranglig|tungt|avancerat)',
  'for (?:svært|svær|svaert|svaer|kompliceret|vanskelig|vanskeleg|komplisert)',
  'liian (?:vaikea|vaikeaa|vaikeata|hankala|hankalaa|tyolas)',
);
/** "Too much" is too hard only at the start of the line: "I learned too much" is not. */
const tooMuch = anyOf('too much', 'trop', 'zu viel', 'demasiado', 'troppo', 'te veel', 'liikaa');
/** Words that may follow "too hard" without making it a different sentence. */
const forMe = anyOf(
  'for me',
  'for now',
  'this time',
  'this week',
  'this one',
  'pour moi',
  'cette fois',
  'cette fois-ci',
  'fur mich',
  'diesmal',
  'dieses mal',
  'leider',
  'mir',
  'para mi',
  'esta vez',
  'per me',
  'questa volta',
  'para mim',
  'desta vez',
  'voor mij',
  'deze keer',
  'deze week',
  'for mig',
  'den har gangen',
  'for meg',
  'denne gang',
  'denne gangen',
  'minulle',
  'talla kertaa',
  'tala kertaa',
);

const englishDone = String.raw`(?:(?:i'm|i am|i'm all|all|it's|its|task|assignment|exercise|homework|week \d{1,2}|yes)\s)?(?:done|finished|completed)|(?:i )?(?:did|have done|'ve done|done) it|i've done it|i have done it`;
const foreignDone = anyOf(
  // fr
  "(?:c'est |c'est tout |tout est |j'ai |j'ai tout |je l'ai )?(?:fait|faite|termine|terminee|fini|finie|acheve)",
  // de
  "(?:ich bin |bin |alles |ist |schon |habe es |hab es |hab's |ich habe es |ich hab's )?(?:erledigt|fertig|gemacht|geschafft)",
  // es
  '(?:ya |ya esta |esta |ya lo |lo |he |ya lo he |lo he )?(?:hecho|hecha|listo|lista|terminado|terminada|termine|completado|completada|acabado)',
  'ya esta',
  'ya lo hice',
  'lo hice',
  // it
  "(?:ho |l'ho |e |tutto )?(?:fatto|fatta|finito|finita|completato|terminato)",
  // pt
  '(?:ja |esta |tudo )?(?:feito|feita|concluido|concluida|pronto|pronta|terminado|terminei|acabei|finalizado)',
  '(?:ja )?fiz(?: isso)?',
  // nl
  '(?:ik ben |alles |het is |is )?(?:klaar|gedaan|afgerond|voltooid|gelukt)',
  // sv
  '(?:jag ar |allt |det ar )?(?:klart|fardig|fardigt|gjort|avklarat)',
  'jag ar klar',
  // da, no
  '(?:jeg er |det er |alt )?(?:færdig|faerdig|ferdig|gjort|klaret|fullfort)',
  // fi
  '(?:se on |nyt |kaikki )?(?:valmis|tehty|hoidettu|suoritettu)',
  'tein sen',
);
const taskWord = anyOf(
  'exercice',
  'tache',
  'devoir',
  'aufgabe',
  'ubung',
  'ejercicio',
  'tarea',
  'practica',
  'esercizio',
  'compito',
  'exercicio',
  'tarefa',
  'pratica',
  'opdracht',
  'oefening',
  'uppgift(?:en)?',
  'ovning(?:en)?',
  'opgave(?:n)?',
  'øvelse(?:n)?',
  'ovelse(?:n)?',
  'oppgave(?:n)?',
  'tehtava(?:n)?',
  'harjoitus',
);
/** "Terminé l'exercice", "fertig mit der Aufgabe": a foreign done word followed by the task. */
const doneWithTask = new RegExp(
  String.raw`^ (?:(?:mit|avec|con|com|met|med)\s)?(?:l'|(?:le|la|les|mon|ma|die|der|das|den|det|el|il|lo|o|a|de|het|mein|meine|mi|mia|meu|minha|mijn|min|mitt)\s)?(?:${taskWord})(?![\p{L}\p{N}])`,
  'u',
);

const stuck = anyOf(
  "(?:i'm |i am |i've got |i got |got |i'm a bit |i'm really |really |a bit )?stuck",
  '(?:je suis |suis )?(?:bloque|bloquee|coince|coincee)',
  '(?:ich )?(?:hange|stecke) fest',
  '(?:ich )?bin (?:festgefahren|blockiert)',
  '(?:estoy |me he |me quede )?(?:atascado|atascada|bloqueado|bloqueada)',
  'me atasque',
  '(?:sono |mi sono )?(?:bloccato|bloccata|incastrato|incastrata)',
  '(?:estou |fiquei )?(?:travado|travada|empacado|empacada)',
  'empaquei',
  '(?:ik )?zit (?:vast|klem)',
  '(?:jag har |har )?fastnat',
  '(?:jag )?kor fast',
  '(?:jeg )?(?:sidder|sitter|star) fast',
  '(?:olen )?jumissa',
);
const stuckWhere = new RegExp(
  String.raw`^ (?:${anyOf('on', 'with', 'at', 'again', 'sur', 'avec', 'a', 'bei', 'mit', 'an', 'en', 'con', 'su', 'em', 'no', 'na', 'bij', 'met', 'op', 'med', 'pa', 'i', 'ved')})(?![\p{L}\p{N}])`,
  'u',
);
const cannot = anyOf(
  "(?:i |sorry,? i )?(?:can't|cannot|can not|couldn't)(?: do (?:this|it|that)(?: one)?)?",
  "(?:je )?n'y arrive pas",
  "j'y arrive pas",
  "je ne m'en sors pas",
  '(?:ich )?komme (?:hier )?nicht weiter',
  '(?:ich )?schaffe (?:es|das) nicht',
  'no puedo(?: hacerlo)?',
  'no me sale',
  'non ci riesco',
  'nao consigo(?: fazer)?',
  'ik kom er niet uit',
  'het lukt (?:me |mij )?niet',
  'jag klarar (?:det )?inte',
  'jeg kan ikke',
  'jeg klarer det ikke',
  'en paase eteenpain',
  'en pysty',
);

const simpleCommands: readonly {
  type: 'done' | 'too_hard' | 'resume' | 'skip' | 'help';
  pattern: string;
  continues?: RegExp;
  requested?: boolean;
}[] = [
  {
    type: 'too_hard',
    pattern: String.raw`(?:(?:this is|this was|it's|it is|it was|that's|that is|way|much|far|a bit|a little|just)\s)*(?:${tooHardPhrase}|${tooMuch})(?: (?:${forMe}))*`,
  },
  {
    type: 'too_hard',
    pattern: stuck,
    // "stuck on step 2", "stuck with the brief", "bloqué à l'étape 2"
    continues: stuckWhere,
  },
  { type: 'too_hard', pattern: cannot },
  {
    type: 'done',
    pattern: englishDone,
    // "Finished the assignment", "done with week 3"; not "done nothing", "completed not yet".
    continues: /^ (?!not|nothing|yet)[\p{L}\p{N}]/u,
  },
  { type: 'done', pattern: foreignDone, continues: doneWithTask },
  {
    type: 'resume',
    requested: true,
    pattern: anyOf(
      'resume',
      "(?:i'm |i am |we're |im )?back",
      'un-?pause',
      'restart',
      'start again',
      'continue',
      'reprendre',
      'je reprends',
      'on reprend',
      '(?:je suis )?de retour',
      'continuer',
      'weiter',
      'weitermachen',
      'fortsetzen',
      '(?:ich bin |bin )?(?:wieder )?zuruck',
      '(?:ich bin |bin )?wieder da',
      'reanudar',
      'continuar',
      '(?:ya )?(?:he )?vuelto',
      '(?:ya )?(?:estoy )?de vuelta',
      'riprendere',
      'riprendiamo',
      '(?:sono )?(?:tornato|tornata)',
      'continuare',
      'retomar',
      '(?:estou )?de volta',
      'voltei',
      'hervatten',
      'doorgaan',
      '(?:ik ben )?(?:weer )?terug',
      'fortsatt',
      'fortsatta',
      '(?:jag ar )?tillbaka',
      'fortsæt',
      'fortsaet',
      'fortsætte',
      'fortsaette',
      '(?:jeg er )?tilbage',
      'fortsett',
      'fortsette',
      '(?:jeg er )?tilbake',
      'jatka',
      'jatketaan',
      'jatkaa',
      '(?:olen )?palannut',
    ),
  },
  {
    type: 'skip',
    requested: true,
    pattern: String.raw`(?:${anyOf(
      'skip',
      'sauter',
      'je saute',
      'passer',
      'je passe',
      'uberspringen',
      'ich uberspringe',
      'auslassen',
      'aussetzen',
      'saltar(?:me)?',
      'me salto',
      'saltare',
      'pular',
      'vou pular',
      'overslaan',
      'hoppa over',
      'jag hoppar over',
      'hoppar over',
      'spring over',
      'springe over',
      'jeg springer over',
      'hopp over',
      'hoppe over',
      'jeg hopper over',
      'ohita',
      'ohitan',
      'ohittaa',
    )})(?: (?:${thisWeek}|it|week \d{1,2}|this|that|mon tour))?|(?:${anyOf(
      'sla',
      'ik sla',
      'spring',
      'springe',
      'jeg springer',
    )})(?: (?:${thisWeek}))? over|(?:${anyOf(
      'salto',
      'paso',
      'pulo',
      'jatan',
    )}) (?:${thisWeek})(?: valiin)?|(?:${thisWeek}) valiin`,
  },
  {
    type: 'help',
    pattern: anyOf(
      'help(?: me| please)?',
      '(?:i |we )?(?:need|want|would like) (?:some |a bit of )?help',
      '(?:can|could) (?:you|someone) help(?: me)?',
      'aide',
      "a l'aide",
      "(?:j'ai )?besoin d'aide",
      'au secours',
      'aidez-moi',
      'aide-moi',
      'hilfe',
      '(?:ich )?brauche hilfe',
      'ayuda',
      'necesito ayuda',
      'ayudame',
      'socorro',
      'aiuto',
      'ho bisogno di aiuto',
      'aiutatemi',
      'aiutami',
      'ajuda',
      'preciso de ajuda',
      'me ajuda',
      'hulp',
      'ik heb hulp nodig',
      'hulp nodig',
      'hjalp',
      '(?:jag )?behover hjalp',
      'hjælp',
      'hjaelp',
      'jeg har brug for (?:hjælp|hjaelp)',
      'hjelp',
      '(?:jeg )?trenger hjelp',
      'apua',
      'tarvitsen apua',
    ),
    // "I need help with the brief", "j'ai besoin d'aide pour..."
    continues: new RegExp(
      String.raw`^ (?:${anyOf('with', 'on', 'understanding', 'avec', 'pour', 'mit', 'bei', 'con', 'para', 'com', 'met', 'bij', 'med', 'till', 'til', 'kanssa')})(?![\p{L}\p{N}])`,
      'u',
    ),
  },
];

const simpleCommandsAtStart = simpleCommands.map((command) => ({
  ...command,
  atStart: commandAtStart(command.pattern, command.requested),
}));

function readSimple(line: string): Intent | undefined {
  for (const command of simpleCommandsAtStart) {
    const rest = afterCommand(line, command.atStart);
    if (rest === undefined) continue;
    if (isCommandTail(rest) || command.continues?.test(rest) === true)
      return { type: command.type };
  }
  return undefined;
}

const stopCommand = String.raw`(?:stop|unsubscribe|opt out|opt-out|remove me|take me off|cancel)(?: (?:the |this |my )?(?:programme|program|course|emails|e-mails|messages|subscription|it|all|sending(?: me)?(?: emails| these)?|from (?:the |this |your )?(?:list|mailing list|programme|program|course|emails)))?|(?:${anyOf(
  'arreter',
  "j'arrete",
  "je m'arrete",
  'me desabonner',
  'desabonner',
  'desabonnez-moi',
  'me desinscrire',
  'desinscrire',
  'desinscrivez-moi',
  'desinscription',
  'desabonnement',
  'stopp',
  'aufhoren',
  '(?:mich )?abmelden',
  'abbestellen',
  'kundigen',
  '(?:mich )?austragen',
  'parar',
  'detener',
  'darse de baja',
  'darme de baja',
  'dar de baja',
  'baja',
  'cancelar(?: (?:la |a )?(?:suscripcion|inscricao|assinatura))?',
  'desuscribir(?:me)?',
  'basta',
  "annulla (?:l')?iscrizione",
  "annullare (?:l')?iscrizione",
  'cancellami',
  'disiscrivimi',
  'disiscrivermi',
  'pare',
  'descadastrar(?:-me)?',
  'sair',
  'stoppen',
  'afmelden',
  'uitschrijven',
  'meld (?:me|mij) af',
  'schrijf (?:me|mij) uit',
  'sluta',
  'avsluta',
  'avregistrera(?: mig)?',
  'stoppa',
  'sag upp',
  'afmeld(?: mig)?',
  'afmelde(?: mig)?',
  'frameld(?: mig)?',
  'avslutt',
  'meld meg av',
  'avmeld(?: meg)?',
  'lopeta',
  'lopettaa',
  'peru tilaus',
  'peruuta tilaus',
  'poista minut(?: listalta)?',
)})(?: (?:${anyOf('le programme', 'les e-mails', 'les mails', 'tout', 'das programm', 'den kurs', 'el programa', 'el curso', 'il corso', 'il programma', 'o programa', 'o curso', 'het programma', 'de cursus', 'kursen', 'kurset', 'programmet', 'kurssi')}))?`;

const stopAtStart = commandAtStart(stopCommand, true);

function readStop(line: string): Intent | undefined {
  return startsWithCommand(line, stopAtStart) || startsWithCommand(line, unsubscribeAtStart)
    ? { type: 'stop' }
    : undefined;
}

// ---------------------------------------------------------------------------------------------
// "Too hard" later in the first sentence: "This one was too hard for me.", "Das war diesmal zu
// schwer für mich."

/** Words before "too hard" that make it not a statement that the task was too hard. */
const notStated = new RegExp(
  String.raw`(?:^|[^\p{L}'])(?:${anyOf(
    "\\p{L}*n't",
    'not',
    'no',
    'never',
    'hardly',
    'barely',
    'nothing',
    'without',
    'would',
    'could',
    'might',
    'may',
    'should',
    'thought',
    'expected',
    'worried',
    'afraid',
    'feared',
    'if',
    'unless',
    'whether',
    'but',
    'however',
    'nicht',
    'nie',
    'kein\\p{L}*',
    'gar',
    'ohne',
    'ware',
    'dachte',
    'wenn',
    'falls',
    'ob',
    'aber',
    'doch',
    'pas',
    'jamais',
    "n'",
    'ne',
    'sans',
    'pensais',
    'croyais',
    'mais',
    'nunca',
    'ni',
    'sin',
    'pensaba',
    'creia',
    'pero',
    'non',
    'mai',
    'senza',
    'pensavo',
    'nao',
    'nem',
    'sem',
    'pensei',
    'achei',
    'niet',
    'geen',
    'nooit',
    'zonder',
    'dacht',
    'zou',
    'maar',
    'inte',
    'ej',
    'aldrig',
    'utan',
    'trodde',
    'ikke',
    'ikkje',
    'aldri',
    'uden',
    'uten',
    'troede',
    'tenkte',
    'ei',
    'eivat',
    'ilman',
    'luulin',
    'jos',
    'mutta',
  )})(?![\p{L}])`,
  'u',
);
/** Words after "too hard" that turn it round: "It was too hard, but I managed." */
const turnedRound =
  /(?:^|[^\p{L}])(?:but|though|although|however|aber|doch|mais|pero|ma|mas|maar|men|mutta)(?![\p{L}])/u;
const tooHardAnywhere = new RegExp(
  String.raw`(?<![\p{L}\p{N}'])(?:${tooHardPhrase})(?: (?:${forMe}))*${wordEnd}`,
  'u',
);

function readTooHardSentence(line: string): Intent | undefined {
  const sentence = /^[^.!?;…]*([.!?;…]?)/u.exec(line);
  if (sentence === null || sentence[1] === '?') return undefined;
  const words = sentence[0];
  const match = tooHardAnywhere.exec(words);
  if (match === null) return undefined;
  const before = words.slice(0, match.index).trim();
  const after = words.slice(match.index + match[0].length);
  const beforeWords = before === '' ? 0 : before.split(' ').length;
  if (beforeWords > 6 || notStated.test(before) || turnedRound.test(after)) return undefined;
  return isCommandTail(after) ? { type: 'too_hard' } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Ratings: "4/5", "rating: 4", "4 out of 5", "5/5 great course", a lone "4"

const ratingPattern =
  /^(?:(?:rating|rate|score|my rating|i'd give it|i give it)\s?[:=-]?\s?)?(\d{1,2})(?:\s?(?:\/|out of|of)\s?(\d{1,2}))?(?:\s?stars?)?(?![\p{L}\p{N}/:-]|[.,]\d)/u;

function readRating(line: string): Intent | undefined {
  const match = ratingPattern.exec(line);
  if (match === null) return undefined;
  const [whole, value, scale] = match;
  const hasPrefix = !/^\d/.test(whole);
  // A lone number is a rating only with no words after it: "3 things I learned" and "1. The
  // headline..." are reflections.
  if (scale === undefined && !hasPrefix && /[\p{L}\p{N}]/u.test(line.slice(whole.length))) {
    return undefined;
  }
  if (scale !== undefined && scale !== '5') return undefined;
  const rating = Number(value);
  return rating >= 1 && rating <= 5 ? { type: 'rating', rating } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Pause

const pauseCommand = anyOf(
  'pause',
  'put me on hold',
  'take a break',
  '(?:me )?mettre en pause',
  'mettez-moi en pause',
  'en pause',
  'faire une pause',
  'pausieren',
  'pause machen',
  'pausar',
  'pausa',
  'poner en pausa',
  '(?:mettere|metti|mettetemi) in pausa',
  'colocar em pausa',
  'pauzeren',
  'pauzeer',
  'pauze',
  'paus',
  'pausa',
  'sæt pa pause',
  'saet pa pause',
  'sett pa pause',
  'tauko',
  'tauolle',
);

const pauseAtStart = commandAtStart(pauseCommand, true);

/**
 * A pause command; `options` give the day the reply was sent, worked out only for a date to read
 * ("until 3 Jan"): it costs a time-zone look-up that most replies never need (#17).
 */
function readPause(
  line: string,
  options: { sentAt: Date; timeZone?: string | undefined },
): Intent | undefined {
  const rest = afterCommand(line, pauseAtStart);
  if (rest === undefined) return undefined;
  const request = pauseRequest(rest);
  if (request === undefined) return isCommandTail(rest) ? { type: 'pause', weeks: 1 } : undefined;
  const weeks = readWeeks(request);
  if (weeks !== undefined)
    return weeks >= 1 && weeks <= 52 ? { type: 'pause', weeks } : { type: 'pause' };
  const until = readUntil(request, today(options));
  return until === undefined ? { type: 'pause' } : { type: 'pause', until };
}

// ---------------------------------------------------------------------------------------------
// Stop versus unsubscribe

/** Words that ask for no more mail at all, not only the end of this programme. */
const unsubscribeCommand = anyOf(
  'unsubscribe(?: me)?',
  'opt out',
  'opt-out',
  'remove me',
  'take me off',
  'stop (?:all )?(?:e-?mails|messages|mail|sending(?: me)?)',
  'stop (?:emailing|e-mailing|contacting|mailing) me',
  'cancel (?:my )?subscription',
  'no more (?:e-?mails|messages|mail)',
  'me desabonner',
  'desabonner',
  'desabonnez-moi',
  'me desinscrire',
  'desinscrire',
  'desinscrivez-moi',
  'desinscription',
  'desabonnement',
  '(?:mich )?abmelden',
  'abbestellen',
  '(?:mich )?austragen',
  'darse de baja',
  'darme de baja',
  'dar de baja',
  'baja',
  'desuscribir(?:me)?',
  'cancelar (?:la )?suscripcion',
  "annulla (?:l')?iscrizione",
  "annullare (?:l')?iscrizione",
  'cancellami',
  'disiscrivimi',
  'disiscrivermi',
  'descadastrar(?:-me)?',
  'afmelden',
  'uitschrijven',
  'meld (?:me|mij) af',
  'schrijf (?:me|mij) uit',
  'avregistrera(?: mig)?',
  'afmeld(?: mig)?',
  'frameld(?: mig)?',
  'avmeld(?: meg)?',
  'meld meg av',
  'peru tilaus',
  'peruuta tilaus',
  'poista minut(?: listalta)?',
);

const unsubscribeAtStart = commandAtStart(unsubscribeCommand, true);

/** Does a command line ask for no more mail at all ("unsubscribe me", "désabonnez-moi")? */
export function commandMeansUnsubscribe(line: string): boolean {
  return afterCommand(line, unsubscribeAtStart) !== undefined;
}
