import { describeQuestion, exampleReply } from '../../render/intake.js';
import { Command } from 'commander';
import { DateTime } from 'luxon';
import { checkSlug, type LearnerProfile } from '../../enrol/profile.js';
import { GymError } from '../../errors.js';
import { matchProgramme } from '../../matcher/match.js';
import {
  calendarFor,
  digestSchedule,
  durationMinutes,
  introductionTime,
  isIsoDate,
  isValidZone,
  nextMonday,
  nextWorkingDate,
  planEnrolment,
  planProgrammeEnd,
  planWelcome,
  sendingSchedule,
} from '../../planner/index.js';
import { mondayOf } from '../../planner/local-time.js';
import type { SampleLearner } from '../../preview/sample-learner.js';
import { templateContext } from '../../render/context.js';
import { fill, parseTemplate, textLiquid } from '../../render/templates.js';
import { loadSequenceFiles } from '../../sequence/load-files.js';
import type { LoadResult } from '../../sequence/loader.js';
import { offeredLanguages, sequenceIn, type Sequence, type Step } from '../../sequence/schema.js';
import {
  bilingualSubject,
  effectivePreference,
  languagesOf,
  parsePreference,
  preferenceHint,
  type Language,
  type LanguagePreference,
} from '../../language/languages.js';
import { readSample } from './preview.js';

/** How the programme was picked: named on the command line, or by the matcher (with its reason). */
type Choice = { readonly by: 'option' } | { readonly by: 'matcher'; readonly reason: string };

interface EventBase {
  /** The programme week; a digest's is the first week it covers (13 for the wrap-up of 12). */
  readonly week: number;
  /** What the message is in (#15): the learner's (or the manager's) language, as offered. */
  readonly language: LanguagePreference;
  readonly sendAt: Date;
  /** The zone the recipient reads it in: the learner's, or the manager's for a digest. */
  readonly zone: string;
}

interface EmailEvent extends EventBase {
  readonly kind: 'email';
  readonly step: string;
  readonly subject: string;
  readonly condition: string | undefined;
}

interface InviteEvent extends EventBase {
  readonly kind: 'invite';
  readonly step: string;
  readonly title: string;
  /** The start of the practice slot the invite blocks; the invite itself goes out earlier. */
  readonly slot: Date;
  readonly durationMinutes: number;
  readonly condition: string | undefined;
}

interface DigestEvent extends EventBase {
  readonly kind: 'digest';
  readonly title: string;
  readonly weeks: readonly [number, number];
  readonly periodStartsOn: string;
  readonly periodEndsOn: string;
}

/** The mail around the programme's steps (#14): the welcome, the end, the manager's introduction. */
interface JourneyEvent extends EventBase {
  readonly kind: 'welcome' | 'programme-end' | 'introduction';
  readonly title: string;
  /** When it goes, in words. */
  readonly note: string;
}

type TimelineEvent = EmailEvent | InviteEvent | DigestEvent | JourneyEvent;

interface Timeline {
  readonly sample: SampleLearner;
  readonly sequence: Sequence;
  readonly choice: Choice;
  /** The start date as given. */
  readonly startsOn: string;
  /** The Monday of week 1: the start, or the Monday of the first working day after it. */
  readonly firstMonday: string;
  readonly managerZone: string;
  readonly language: LanguagePreference;
  readonly managerLanguage: LanguagePreference;
  /** In the order they go out, week by week. */
  readonly events: readonly TimelineEvent[];
}

interface TimelineInput {
  readonly sequence: Sequence;
  readonly choice: Choice;
  readonly sample: SampleLearner;
  readonly startsOn: string;
  readonly managerZone: string;
  /** What the learner and the manager asked for. */
  readonly language: LanguagePreference;
  readonly managerLanguage: LanguagePreference;
}

/**
 * Everything one learner and their manager would receive from a programme, computed by the same
 * planner the engine enrols with (working days, order of steps, invites sent ahead of their
 * slot), with no holidays: a simulation knows no organisation. Pure.
 */
function buildTimeline(input: TimelineInput): Timeline {
  const { sequence, sample, startsOn, managerZone } = input;
  const zone = sample.learner.time_zone;
  const holidays = new Set<string>();
  const steps = planEnrolment({ sequence, startsOn, zone, holidays });
  const plan = sendingSchedule(steps);
  // The same week 1 as planEnrolment's, which the manager's fortnights must line up with.
  const firstMonday = mondayOf(
    nextWorkingDate(startsOn, calendarFor(sequence.schedule, zone, holidays)),
  );

  // The learner's language as far as the programme offers it, as `gym enrol` decides it.
  const { preference: language } = effectivePreference(
    input.language,
    offeredLanguages(sequence),
    sequence.id,
  );
  const inLanguages = (text: (inLanguage: Sequence, l: Language) => string, subject: boolean) => {
    const texts = languagesOf(language).map((l) => ({
      language: l,
      text: text({ ...sequence, ...sequenceIn(sequence, l) }, l),
    }));
    return subject ? bilingualSubject(texts) : texts.map((t) => t.text).join(' / ');
  };
  const learnerEvents = plan.map((row): TimelineEvent => {
    const step = stepOf(sequence, row.week, row.stepId);
    const where = `programme "${sequence.id}" week ${row.week} step "${row.stepId}"`;
    const base = { week: row.week, step: row.stepId, sendAt: row.sendAt, zone, language };
    const fill =
      (pick: (step: Step) => string | undefined, field: string) => (inLanguage: Sequence) => {
        const context = templateContext(inLanguage, row.week, sample.learner, sample.manager);
        const text = pick(stepOf(inLanguage, row.week, row.stepId)) ?? '';
        return filled(text, context, `${where} ${field}`);
      };
    if (step.invite !== undefined)
      return {
        ...base,
        kind: 'invite',
        title: inLanguages(
          fill((s) => s.invite?.title, 'title'),
          false,
        ),
        slot: row.startsAt ?? row.dueAt,
        durationMinutes: durationMinutes(step.invite.duration),
        condition: conditionOf(step),
      };
    return {
      ...base,
      kind: 'email',
      subject: inLanguages(
        fill((s) => s.email?.subject, 'subject'),
        true,
      ),
      condition: conditionOf(step),
    };
  });

  const length = sequence.weeks.length;
  const digestEvents = digestSchedule({
    anchor: firstMonday,
    zone: managerZone,
    weeks: length,
  }).map((slot): DigestEvent => ({
    kind: 'digest',
    week: slot.weeks[0],
    language: input.managerLanguage,
    sendAt: slot.sendAt,
    zone: managerZone,
    // In the manager's language, as the digest's own subject is (#15).
    title: languagesOf(input.managerLanguage)
      .map((l) => digestTitle(l, slot.weeks, length))
      .join(' / '),
    weeks: slot.weeks,
    periodStartsOn: slot.periodStartsOn,
    periodEndsOn: slot.periodEndsOn,
  }));

  // The welcome as `gym enrol` plans it for an enrolment well ahead of the start (on the working
  // day before week 1; sooner only when enrolled later), the end after the last step, and the
  // manager's introduction before their first digest.
  const around = { sequence, zone, holidays, plan: steps };
  const welcome = planWelcome(around);
  const end = planProgrammeEnd(around);
  const journeyEvents: JourneyEvent[] = [
    {
      kind: 'welcome',
      week: 1,
      language,
      sendAt: welcome.sendAt,
      zone,
      title: 'Welcome email',
      note: "the working day before week 1 (or the learner's next morning, if enrolled later)",
    },
    {
      kind: 'programme-end',
      week: end.week,
      language,
      sendAt: end.sendAt,
      zone,
      title: 'Programme-end email',
      note: 'the first working morning after the last step, with the closing rating question',
    },
  ];
  const firstDigest = digestEvents[0];
  if (firstDigest !== undefined) {
    journeyEvents.push({
      kind: 'introduction',
      week: 1,
      language: input.managerLanguage,
      sendAt: introductionTime(firstDigest, managerZone),
      zone: managerZone,
      title: 'Manager introduction',
      note: '08:00 on the working day before the first digest',
    });
  }

  // Stable: at the same moment the programme's own order (kickoff, then the invite it carries).
  const events = [...learnerEvents, ...digestEvents, ...journeyEvents].sort(
    (a, b) => a.week - b.week || a.sendAt.getTime() - b.sendAt.getTime(),
  );
  return { ...input, firstMonday, events };
}

/** "Manager digest: weeks 1–2" / "Crynodeb i reolwyr: wythnosau 1–2" ([own], as the digest's kicker). */
function digestTitle(language: Language, weeks: readonly [number, number], length: number): string {
  const last = Math.min(weeks[1], length);
  if (language === 'cy')
    return weeks[0] > length
      ? `Crynodeb i reolwyr: y crynhoi ar ôl wythnos ${length}`
      : `Crynodeb i reolwyr: wythnosau ${weeks[0]}–${last}`;
  return weeks[0] > length
    ? `Manager digest: wrap-up after week ${length}`
    : `Manager digest: weeks ${weeks[0]}–${last}`;
}

function stepOf(sequence: Sequence, week: number, stepId: string): Step {
  const step = sequence.weeks.find((w) => w.week === week)?.steps.find((s) => s.id === stepId);
  // The plan is made from this very programme, so the step is always there.
  if (step === undefined) throw new Error(`week ${week} has no step "${stepId}"`);
  return step;
}

/** A subject or title as the learner reads it: filled for them, on one line. */
function filled(source: string, context: object, where: string): string {
  const text = fill(textLiquid, parseTemplate(textLiquid, source, where), context, where);
  return text.replace(/\s+/g, ' ').trim();
}

function conditionOf(step: Step): string | undefined {
  if (step.when?.not_done !== undefined) return `only if ${step.when.not_done} is not done`;
  if (step.when?.done !== undefined) return `only if ${step.when.done} is done`;
  return undefined;
}

/** "Mon 2027-01-04 09:00 Europe/London": the day of the week, because the programme is by day. */
function localLabel(instant: Date, zone: string): string {
  return `${clockIn(instant, zone).toFormat('ccc yyyy-MM-dd HH:mm')} ${zone}`;
}

function clockIn(instant: Date, zone: string): DateTime {
  // A fixed locale: "Mon", not the machine's "lun.".
  return DateTime.fromJSDate(instant, { zone }).setLocale('en-GB');
}

function asJson(timeline: Timeline) {
  const { sample, sequence, choice } = timeline;
  return {
    learner: {
      name: `${sample.learner.first_name} ${sample.learner.last_name}`,
      email: sample.learner.email,
      zone: sample.learner.time_zone,
    },
    manager: { ...sample.manager, zone: timeline.managerZone },
    programme: {
      id: sequence.id,
      title: sequence.title,
      chosenBy: choice.by,
      reason: choice.by === 'matcher' ? choice.reason : undefined,
    },
    intake: sequence.intake ?? [],
    start: timeline.startsOn,
    firstMonday: timeline.firstMonday,
    events: timeline.events.map((event) => {
      const when = {
        week: event.week,
        kind: event.kind,
        language: event.language,
        sendAt: event.sendAt.toISOString(),
        sendAtLocal: localLabel(event.sendAt, event.zone),
      };
      switch (event.kind) {
        case 'email':
          return { ...when, step: event.step, subject: event.subject, condition: event.condition };
        case 'invite':
          return {
            ...when,
            step: event.step,
            title: event.title,
            slot: event.slot.toISOString(),
            slotLocal: localLabel(event.slot, event.zone),
            durationMinutes: event.durationMinutes,
            condition: event.condition,
          };
        case 'digest':
          return {
            ...when,
            title: event.title,
            weeks: event.weeks,
            periodStartsOn: event.periodStartsOn,
            periodEndsOn: event.periodEndsOn,
          };
        case 'welcome':
        case 'programme-end':
        case 'introduction':
          return { ...when, title: event.title, note: event.note };
      }
    }),
  };
}

/**
 * The welcome's intake questions (#14 §2): what each asks, the field it sets, the values. A
 * sample learner file can give those fields to see where the answers would send someone.
 */
function intakeLines(sequence: Sequence): string[] {
  const questions = sequence.intake ?? [];
  if (questions.length === 0) return [];
  return [
    'The welcome asks (answers before week 1 update the profile and re-run the matcher):',
    ...questions.map((q, i) => `  ${i + 1}. ${describeQuestion(q)}`),
    `  example reply: ${exampleReply(questions)}`,
  ];
}

/** What the learner asked for and gets, when that is not plain English. */
function languageLines(timeline: Timeline): string[] {
  const gets =
    timeline.events.find((e) => e.kind === 'email' || e.kind === 'invite')?.language ?? 'en';
  if (timeline.language === 'en' && gets === 'en' && timeline.managerLanguage === 'en') return [];
  const offered = offeredLanguages(timeline.sequence).join(', ');
  return [
    `Languages: the learner asked for ${timeline.language} and gets ${gets} (the programme offers ${offered}); the manager gets ${timeline.managerLanguage}`,
  ];
}

/** The timeline as a person reads it: a heading per week, one aligned row per message. */
function asText(timeline: Timeline): string {
  const { sample, sequence, choice } = timeline;
  const zone = sample.learner.time_zone;
  const manager = sample.manager ? `${sample.manager.name}, ` : '';
  const lines = [
    `${sample.learner.first_name} ${sample.learner.last_name} <${sample.learner.email}>, ${zone}`,
    `Programme: ${sequence.id} (${sequence.title})`,
    ...(choice.by === 'matcher' ? [`  chosen by the matcher: ${choice.reason}`] : []),
    `Starts: ${timeline.startsOn}; week 1 is the week of Monday ${timeline.firstMonday}`,
    `Manager digests: ${manager}${timeline.managerZone}`,
    ...languageLines(timeline),
    ...intakeLines(timeline.sequence),
    'A simulation: nothing is sent and nothing is stored. Holidays are not applied.',
  ];

  const rows = timeline.events.map((event) => {
    const local = clockIn(event.sendAt, event.zone);
    const utc = clockIn(event.sendAt, 'UTC');
    const what = event.kind === 'email' ? event.subject : event.title;
    const notes: string[] = [];
    if (event.kind === 'invite') {
      const start = clockIn(event.slot, event.zone);
      const end = start.plus({ minutes: event.durationMinutes });
      notes.push(
        `blocks ${start.toFormat('ccc yyyy-MM-dd HH:mm')}–${end.toFormat('HH:mm ZZ')} ` +
          `(${clockIn(event.slot, 'UTC').toFormat('yyyy-MM-dd HH:mm')} UTC), ${event.durationMinutes} min`,
      );
    }
    if ((event.kind === 'email' || event.kind === 'invite') && event.condition !== undefined)
      notes.push(event.condition);
    if (event.kind === 'welcome' || event.kind === 'programme-end' || event.kind === 'introduction')
      notes.push(
        event.note + (event.zone === zone ? '' : `, on the manager's clock (${event.zone})`),
      );
    if (event.kind === 'digest')
      notes.push(
        `covers ${event.periodStartsOn} to ${event.periodEndsOn}` +
          (event.zone === zone ? '' : `, on the manager's clock (${event.zone})`),
      );
    return {
      week: event.week,
      cells: [
        // The offset, not a name such as EST: names depend on the locale, offsets do not.
        local.toFormat('ccc yyyy-MM-dd HH:mm ZZ'),
        `${utc.toFormat('yyyy-MM-dd HH:mm')} UTC`,
        event.kind,
        event.language,
        event.kind === 'email' || event.kind === 'invite' ? event.step : '',
        what,
      ],
      notes,
    };
  });

  // Every column as wide as its widest cell, across all weeks, so the weeks line up too.
  const widths = [0, 1, 2, 3, 4].map((column) =>
    Math.max(...rows.map((row) => row.cells[column]!.length)),
  );
  const indent = widths.reduce((sum, width) => sum + width + 2, 2);
  const length = sequence.weeks.length;
  let week = 0;
  for (const row of rows) {
    if (row.week !== week) {
      week = row.week;
      const theme = sequence.weeks.find((w) => w.week === week)?.theme;
      lines.push('', week > length ? `After week ${length}` : `Week ${week}: ${theme ?? ''}`);
    }
    const cells = row.cells.map((cell, column) =>
      column < widths.length ? cell.padEnd(widths[column]!) : cell,
    );
    lines.push(`  ${cells.join('  ')}`.trimEnd());
    for (const note of row.notes) lines.push(`${' '.repeat(indent)}${note}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * What the matcher reads of a sample learner: every field a cohort row gives. A field the sample
 * leaves out fails a rule on it, as it would for a cohort row that left it empty.
 */
function profileOf(sample: SampleLearner, startsOn: string): LearnerProfile {
  const role = sample.learner.role ?? '';
  const slug = checkSlug(role);
  return {
    email: sample.learner.email.toLowerCase(),
    first_name: sample.learner.first_name,
    last_name: sample.learner.last_name,
    time_zone: sample.learner.time_zone,
    role: slug.ok ? slug.value : role,
    organisation: sample.learner.organisation ?? '',
    manager_email: sample.manager?.email.toLowerCase() ?? '',
    manager_name: sample.manager?.name ?? '',
    start_date: startsOn,
    ...(sample.learner.cohort === undefined ? {} : { cohort: sample.learner.cohort }),
    ...(sample.learner.confidence === undefined ? {} : { confidence: sample.learner.confidence }),
    barriers: [...(sample.learner.barriers ?? [])],
    goals: [...(sample.learner.goals ?? [])],
    share_with_manager: sample.learner.share_with_manager ?? false,
    fields: { ...sample.learner.fields },
  };
}

/** The programmes' ids (or paths, for a file too broken to have one), for messages. */
function knownIds(results: readonly LoadResult[]): string {
  return results.map((r) => (r.ok ? r.sequence.id : (r.id ?? r.path))).join(', ');
}

function chooseProgramme(
  results: readonly LoadResult[],
  wanted: string | undefined,
  sample: SampleLearner,
  startsOn: string,
  dir: string,
): { sequence: Sequence; choice: Choice } {
  if (wanted !== undefined) {
    const found = results.find(
      (r) => r.path === wanted || (r.ok ? r.sequence.id : r.id) === wanted,
    );
    if (found === undefined)
      throw new GymError(
        'USAGE',
        `no programme "${wanted}" in ${dir} (there are: ${knownIds(results)})`,
        { wanted },
      );
    if (!found.ok)
      throw new GymError(
        'SEQUENCE_INVALID',
        `${found.path} has ${found.problems.length} problems; run gym validate ${found.path}`,
      );
    return { sequence: found.sequence, choice: { by: 'option' } };
  }

  const loaded = results.flatMap((r) => (r.ok ? [r.sequence] : []));
  const broken = results.filter((r) => !r.ok).map((r) => r.path);
  // A what-if should still answer with a broken file about, but must say the answer may change.
  if (broken.length > 0)
    process.stderr.write(
      `warning: left out of the choice, with problems (run gym validate): ${broken.join(', ')}\n`,
    );
  const match = matchProgramme(profileOf(sample, startsOn), loaded);
  const sequence = loaded.find((s) => s.id === match.programmeId);
  if (sequence === undefined)
    throw new GymError(
      'USAGE',
      `no programme in ${dir} fits this learner: ${match.reason}; name one with --sequence (there are: ${knownIds(results)})`,
    );
  return { sequence, choice: { by: 'matcher', reason: match.reason } };
}

/** The Monday after today on the learner's clock: a whole week 1 ahead, none of it past. */
function comingMonday(now: Date, zone: string): string {
  const tomorrow = DateTime.fromJSDate(now, { zone }).plus({ days: 1 }).toJSDate();
  return nextMonday(tomorrow, zone);
}

interface SimulateOptions {
  sequence?: string;
  learner: string;
  start?: string;
  managerZone?: string;
  dir: string;
  language: string;
  managerLanguage?: string;
  json?: boolean;
}

function languageOption(name: string, text: string): LanguagePreference {
  const preference = parsePreference(text);
  if (preference === undefined)
    throw new GymError('USAGE', `${name} ${text}: expected ${preferenceHint}`);
  return preference;
}

export function simulateCommand(): Command {
  return new Command('simulate')
    .description(
      'print the twelve weeks one learner would get (every email, invite, nudge and manager\n' +
        'digest, in their zone and in UTC) without a database, and without sending anything',
    )
    .requiredOption(
      '--learner <file>',
      'the learner (YAML: learner, manager, starts_on), as for gym preview --learner',
    )
    .option('--sequence <id>', 'the programme; default: the one the matcher picks for the learner')
    .option(
      '--start <date>',
      'the first day, YYYY-MM-DD; default: the file’s starts_on, else the Monday after today',
    )
    .option(
      '--manager-zone <zone>',
      'the manager’s IANA zone; default: the sample’s manager.time_zone, else the learner’s',
    )
    .option('--dir <path>', 'the sequence files or folder', 'sequences')
    .option('--language <cy|en|cy+en>', 'the learner’s language preference', 'en')
    .option('--manager-language <cy|en|cy+en>', 'the manager’s; default: the learner’s')
    .option('--json', 'print one JSON object')
    .action((options: SimulateOptions) => {
      const language = languageOption('--language', options.language);
      const managerLanguage = options.managerLanguage
        ? languageOption('--manager-language', options.managerLanguage)
        : language;
      const sample = readSample(options.learner);
      const zone = sample.learner.time_zone;
      const startsOn = options.start ?? sample.starts_on ?? comingMonday(new Date(), zone);
      if (!isIsoDate(startsOn))
        throw new GymError(
          'USAGE',
          `--start ${startsOn}: expected a date YYYY-MM-DD, such as 2027-01-04`,
        );
      // The manager's own zone when the sample gives one; the learner's is only the fallback.
      const managerZone = options.managerZone ?? sample.manager?.time_zone ?? zone;
      if (!isValidZone(managerZone))
        throw new GymError(
          'USAGE',
          `--manager-zone ${managerZone}: expected an IANA zone, such as Europe/London`,
        );

      const results = loadSequenceFiles([options.dir]);
      const { sequence, choice } = chooseProgramme(
        results,
        options.sequence,
        sample,
        startsOn,
        options.dir,
      );
      const timeline = buildTimeline({
        sequence,
        choice,
        sample,
        startsOn,
        managerZone,
        language,
        managerLanguage,
      });
      process.stdout.write(
        options.json ? `${JSON.stringify(asJson(timeline))}\n` : asText(timeline),
      );
    });
}
