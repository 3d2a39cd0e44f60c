import type { PhraseTable } from './types.js';

/**
 * Welsh (Cymraeg), as people write it in a quick reply: often informal ("dw i", "nes i",
 * "plîs"), with the soft, nasal and aspirate mutations a word takes after another ("am
 * bythefnos" from "pythefnos", "tan fis Ionawr" from "mis", "am ddwy wythnos" from "dwy"), and
 * often mixed with English (the English table reads the English half).
 *
 * Every entry names where the usage was checked (accents are removed before matching, so "sâl"
 * is written "sal", "nôl" "nol", "plîs" "plis"). Sources, all public:
 * - [blurts] mozilla/blurts-server, locales/cy/unsubscribe.ftl (MPL-2.0): "Dad-danysgrifio",
 *   "ail-danysgrifio", "Methodd".
 * - [cv] common-voice/common-voice, web/locales/cy/messages.ftl and
 *   web/locales/spontaneous-speech/cy/pages/common.ftl (MPL-2.0): "Hepgor" (skip), "Wedi
 *   Hepgor", "wedi'u Hepgor", "Parhau" (continue), "Cwestiwn", "help = Cymorth", "anfon e-byst
 *   ata i", "rhagor", "Nôl i'r Brig" (back to top).
 * - [hmrc] hmrc/employee-wfh-expenses-frontend, conf/messages.cy: the month names "Ionawr" ...
 *   "Rhagfyr", "{0} wythnos", "Ailddechrau" (start again), "Yn ôl", "Help gyda'r dudalen hon";
 *   hmrc/feedback-frontend conf/messages.cy: "Yn ôl", "Parhau".
 * - [ier] alphagov/ier-frontend, conf/messages.cy: "Parhau", "am help", "cymorth".
 * - [viridor] jamesforddesign/viridor, src/site/_data/translations.js: "Yn ol" (back),
 *   "Cyflawn" (complete), "Parhau".
 * - [ff] mozilla-l10n/firefox-l10n, cy/browser/...translation.ftl: "Tynnu" (remove), "Nid Nawr".
 * - [denb] denbighshire.gov.uk/cy, staff pages "Gwyliau a phresenoldeb", "Absenoldeb di-dâl":
 *   "gwyliau blynyddol", "absenoldeb mamolaeth, tadolaeth", "amser i ffwrdd", "seibiant
 *   gyrfa", "hyd at bythefnos".
 * - [sirgar] einpobl.sirgar.llyw.cymru, "Salwch a gwyliau blynyddol", "Rhannu absenoldeb
 *   rhiant": "absenoldeb salwch", "mynd yn sâl ar wyliau", "pythefnos i ffwrdd", "52 o
 *   wythnosau".
 * - [vale] valeofglamorgan.gov.uk/cy, School Term Dates: "Dydd Llun y Pasg", "Nadolig", "Hanner
 *   Tymor", "Dydd Gwener".
 * - [golwg] golwg.360.cymru news 565042 and 569129: "ar ôl gwyliau'r Pasg", "aros tan fis
 *   Medi", "wedi cael eu cwblhau", "gwyliau'r haf".
 * - [llandegfan] ysgolllandegfan.cymru/tymhorau: "Gwyliau'r Nadolig", "Gwyliau'r Haf".
 * - [bbc] bbc.com/cymrufyw 51945358, 54510515, 40791298: "wedi'r gwyliau Pasg", "Falle"
 *   (perhaps), "Nes i drio" (informal past), "dwi ddim yn poeni", "nôl yng Nghymru" (back).
 * - [torfaen] torfaen.gov.uk/cy news 17 Dec 2021: "Oedi i ddechrau'r tymor newydd" (delay).
 * - [llyw] llyw.cymru, tobacco control strategy: "rhoi'r gorau iddi" (give up, stop).
 * - [npt] npt.gov.uk/18512?lang=cy-gb: "tan hanner tymor mis Chwefror", "tair wythnos".
 * - [saesnes] saesnesyngnghymru.wordpress.com: "dw'i methu deall" (I can't understand).
 * Entries marked [own] are everyday Welsh written for this table without a public source found
 * in the time available; a Welsh speaker should review them (see the report for #12).
 */
export const cy: PhraseTable = {
  lang: 'cy',
  markers: [
    'gorffen',
    'gorffenedig',
    'hepgor',
    'oedi',
    'saib',
    'cymorth',
    'yn',
    'yr',
    'mae',
    'wedi',
    'diolch',
    'shwmae',
    'wythnos',
    'hon',
    'hwn',
    'ddim',
    'dim',
    'gyda',
    'efo',
    'fy',
    'eich',
    'plis',
    'iawn',
    'hefyd',
    'nawr',
    'rwan',
    'ydw',
    'ydy',
    'tan',
    'hynny',
    'dw',
    'dwi',
    'rydw',
    'rwy',
    'ar',
    'gan',
    'fi',
    'chi',
    'ond',
    'oes',
    'bydd',
    'helo',
    'os',
    'gwelwch',
    'dda',
    'gallwch',
    'allwch',
    'gwneud',
    'dydd',
    'fis',
    'mis',
    'nol',
    'sal',
  ],
  greetings: [
    'helo',
    'shwmae',
    'shwmai',
    'sut mae',
    'bore da',
    'prynhawn da',
    'noswaith dda',
    'annwyl',
    'haia',
    'hia',
  ],
  families: {
    done: [
      // [golwg] "wedi cael eu cwblhau"; [cv] "wedi'u Hepgor" shows the "wedi'u/wedi'i" perfect
      "(?:dw i|dwi|rydw i|rwy|rwyf|wi|ni|rydyn ni)?(?:'n| yn)? ?wedi (?:gorffen|cwblhau|gwneud|neud|llwyddo|orffen|cyflawni)",
      "wedi(?:'i|'u| ei| eu) (?:wneud|neud|orffen|gorffen|gwblhau|chwblhau|cwblhau|chyflawni)",
      // [viridor] "Cyflawn" (complete) [own] "gorffenedig"
      'gorffenedig',
      'wedi cael ei (?:wneud|gwblhau)',
      // [bbc] "Nes i drio": the informal past "nes i" / "gwnes i"
      '(?:gwnes|nes|wnes) i (?:fe|e|o|hi|fo|y dasg|yr ymarfer)',
      'cwblhawyd',
      '(?:tasg|ymarfer)(?: wedi)? (?:ei )?(?:gwneud|wneud|cwblhau|gwblhau)',
    ],
    too_hard: [
      // [own] "ar goll" (lost), "dim syniad" (no idea), "rhy anodd" (too hard)
      'ar goll(?: yn llwyr| braidd)?',
      'dim (?:syniad|clem)',
      // [saesnes] "dw'i methu deall"; [bbc] "dwi ddim" negation
      '(?:ddim|dim) yn (?:deall|gwybod)',
      'methu (?:deall|gwneud|gweithio|dod i ben|cael)',
      'rhy (?:anodd|gymhleth|galed|dechnegol)',
      'tu hwnt i (?:fi|mi)',
      'wedi drysu',
      'yn sownd',
    ],
    help: [
      // [own] "sut ydw i ...?" (how do I), "ble mae ...?" (where is)
      'sut (?:ydw i|dw i|alla i|galla i|ga i|rydw i|ydych chi|mae gwneud)',
      '(?:ble|lle) (?:mae|ydw i|alla i|dw i|ga i|rydw i|ydy|dod o hyd)',
      // [cv] "Cwestiwn"
      '(?:un )?cwestiwn',
      // [ier] "am help", [cv] "Cymorth"
      '(?:allwch|gallwch|fedrwch|elli|alli|all rhywun)(?: chi| di)? (?:fy )?helpu',
      'angen (?:help|cymorth|cefnogaeth)',
      'methu dod o hyd',
      // [cv] "Cymorth" on its own, as a reply ("Cymorth os gwelwch yn dda")
      '^cymorth\\b',
      // [own] a question opening with "sut" (how), "ble"/"lle" (where), "pa" (which)
      '^(?:sut|ble|lle|pa|pam)\\b[^?]{0,150}\\?',
    ],
    pause: [
      // [torfaen] "Oedi" (delay); imperative "oedwch" [own]
      'oedi',
      'oedwch',
      // [denb] "seibiant gyrfa"; [own] "saib" (pause), "egwyl" (break)
      'saib',
      'seibiant',
      'egwyl',
      // [own] "gohirio" (postpone), imperative "gohiriwch"
      'gohirio',
      'gohiriwch',
      'rhewi',
      // [own] "rhoi ar stop am" (put on hold for)
      'rhoi (?:ar|o) (?:stop|saib|oedi)',
      'cymryd (?:hoe|egwyl|seibiant|saib)',
    ],
    absence: [
      // [sirgar] "mynd yn sâl", "absenoldeb salwch"
      '(?:yn )?sal',
      'absenoldeb (?:salwch|mamolaeth|tadolaeth|rhiant)',
      'ar absenoldeb',
      // [sirgar] "ar wyliau"; [denb] "gwyliau blynyddol", "amser i ffwrdd"
      'ar wyliau',
      'gwyliau blynyddol',
      'i ffwrdd',
      'yn yr ysbyty',
      'ar gwrs',
    ],
    resume: [
      // [bbc] "nôl yng Nghymru"; [viridor] "Yn ol"; [own] "dw i nôl" (I'm back)
      "(?:dw i|dwi|rydw i|rwy|rwyf|wi)(?:'n| yn)? (?:ol|nol)",
      "nol (?:nawr|rwan|yn y gwaith|o(?:'r)? (?:gwyliau|absenoldeb))",
      // [hmrc] "Ailddechrau"
      'ail-?ddechrau',
      'ail ddechrau',
      'ail-?gychwyn',
      // [cv] [ier] "Parhau"
      'parhau',
      'barod i (?:ailddechrau|ail-ddechrau|barhau|fynd|ddechrau)',
      'mynd yn (?:fy |ein )?(?:mlaen|blaen)',
    ],
    skip: [
      // [cv] "Hepgor", "Wedi Hepgor"
      'hepgor',
      'hepgorwch',
      // [own] "sgipio", "neidio dros" (jump over)
      'sgipio',
      'neidio (?:dros|heibio)',
      "colli'r wythnos hon",
    ],
    stop: [
      // [llyw] "rhoi'r gorau iddi" (give up)
      "(?:rhoi|roi)'r gorau(?: iddi| i'r rhaglen| i'r cwrs)?",
      // [own] "ddim eisiau cymryd rhan" (don't want to take part), "tynnu'n ôl" (withdraw)
      '(?:ddim|dim) (?:eisiau|isio|moyn|am) (?:cymryd rhan|parhau|bod yn rhan)',
      "tynnu'n ol",
      'tynnu (?:fy hun|fi fy hun) (?:yn ol|allan)',
      'gadael y (?:rhaglen|cwrs)',
      'stopio(?: y rhaglen| y cwrs)?(?= *$|[.!,])',
      // [own] the imperative, "stopiwch yr e-byst" (stop the emails): found held out, read as a
      // reflection before; a stop must never be missed
      'stopiwch(?: hyn| nhw| y rhaglen| y cwrs| yr e-?byst| y negeseuon)?(?= *$|[ .!,])',
    ],
    unsubscribe: [
      // [blurts] "Dad-danysgrifio"
      'dad-?danysgrifio',
      'datdanysgrifio',
      // [ff] "Tynnu" (remove); [own] "tynnwch fi oddi ar y rhestr" (take me off the list)
      "(?:tynnwch|tynnu|dilewch) fi (?:oddi ar|o)(?:'r| y)? ?(?:rhestr(?: bostio)?)?",
      'tynnwch fy (?:enw|nghyfeiriad)',
      'oddi ar y rhestr',
      // [hmrc feedback] "Peidiwch â chynnwys" (do not include) -> "peidiwch ag anfon"
      'peidiwch (?:ag|a) (?:anfon|e-bostio)',
      // [cv] "rhagor", "anfon e-byst ata i"
      'dim rhagor o (?:negeseuon|e-byst|ebyst|e-bost)',
      'stopiwch anfon',
    ],
  },
  negations: ['ddim', 'dim', 'nid', 'na', 'nac', 'heb', 'peidiwch', 'peidio', 'byth'],
  // [bbc] "Falle"; [own] "efallai", "dw i'n meddwl", "tybed"
  hedges: [
    'efallai',
    'falle',
    "dw i'n meddwl",
    "dwi'n meddwl",
    "rwy'n meddwl",
    "rwy'n credu",
    'tybed',
    'ystyried',
    'dylwn i',
    'gallwn i',
    'o bosib',
  ],
  // [own] "seren" / "sêr" (stars), "allan o" (out of)
  rating: { stars: 'seren|ser', outOf: 'allan o|o|/', give: 'rhoi|rhof|sgor' },
  dates: {
    // with their mutated forms: "am ddwy wythnos", "am dair wythnos", "am bedair wythnos"
    numbers: {
      un: 1,
      dau: 2,
      ddau: 2,
      dwy: 2,
      ddwy: 2,
      tri: 3,
      dri: 3,
      tair: 3,
      dair: 3,
      pedwar: 4,
      bedwar: 4,
      pedair: 4,
      bedair: 4,
      pump: 5,
      bump: 5,
      chwech: 6,
      'cwpl o': 2,
      'cwpwl o': 2,
    },
    // [hmrc] "{0} wythnos"; [sirgar] "52 o wythnosau"
    week: 'wythnos(?:au)?',
    // [sirgar] "pythefnos i ffwrdd"; [denb] "hyd at bythefnos" (soft mutation)
    fortnight: 'pythefnos|bythefnos|mhythefnos',
    day: 'diwrnod(?:au)?|ddiwrnod|niwrnod',
    // [golwg] "tan fis Medi" (soft mutation of "mis")
    month: 'mis|fis|misoedd|mhis',
    // [golwg] "aros tan fis Medi"; [npt] "tan hanner tymor"
    until: 'tan|hyd at|hyd nes|nes',
    during: 'am|dros',
    then: 'tan hynny|tan (?:y bydda i|bydda i|dw i|fy mod i) (?:yn ol|nol)',
    // [golwg] "ar ôl gwyliau'r Pasg"; [bbc] "wedi'r gwyliau"
    after: "ar ol|wedi'r|wedi",
    // [hmrc] the month names; soft-mutated forms after "tan", "i", "o" [own]
    months: [
      'ionawr|ion',
      'chwefror|chwef',
      'mawrth|fawrth|maw',
      'ebrill|ebr',
      'mai|fai',
      'mehefin|fehefin|meh',
      'gorffennaf|orffennaf|gorff',
      'awst',
      'medi|fedi',
      'hydref',
      'tachwedd|dachwedd|nhachwedd|tach',
      'rhagfyr|ragfyr|rhag',
    ],
    // [vale] "Dydd Llun", "Dydd Gwener"; soft mutation "ddydd" after "tan" [own]
    weekdays: [
      '(?:dydd|ddydd) llun',
      '(?:dydd|ddydd) mawrth',
      '(?:dydd|ddydd) mercher',
      '(?:dydd|ddydd) iau',
      '(?:dydd|ddydd) gwener',
      '(?:dydd|ddydd) sadwrn',
      '(?:dydd|ddydd) sul',
    ],
    named: {
      // [golwg] [vale] [llandegfan] "gwyliau'r Pasg", "Dydd Llun y Pasg"
      easter: "(?:gwyliau'r |gwyliau )?pasg",
      // [vale] [llandegfan] "Nadolig", "Gwyliau'r Nadolig"
      christmas: "(?:gwyliau'r |gwyliau )?nadolig",
      // [own] "y flwyddyn newydd" (soft mutation of "blwyddyn")
      new_year: '(?:y )?flwyddyn newydd|blwyddyn newydd',
      // [golwg] [llandegfan] "gwyliau'r haf"
      summer: "(?:gwyliau'r |yr )?haf",
      next_week: '(?:yr )?wythnos nesa(?:f)?',
      next_month: '(?:mis|fis) nesa(?:f)?',
      end_of_month: 'diwedd y mis',
    },
  },
};
