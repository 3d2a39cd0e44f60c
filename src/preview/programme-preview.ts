import type { IntakeQuestion } from '../sequence/schema.js';
import { buildInvite, whenLabel } from '../calendar/invite.js';
import {
  calendarFor,
  digestSchedule,
  introductionTime,
  nextWorkingDate,
  planEnrolment,
  planProgrammeEnd,
  planWelcome,
} from '../planner/index.js';
import { mondayOf } from '../planner/local-time.js';
import { durationMinutes, stepStart } from '../planner/step-time.js';
import { planKey } from '../planner/step-key.js';
import { templateContext } from '../render/context.js';
import {
  renderInvite,
  renderManagerTips,
  renderProgrammeEnd,
  renderStep,
  renderWelcome,
  type CompiledProgramme,
  type RenderedEmail,
} from '../render/index.js';
import type { Sequence, Step } from '../sequence/schema.js';
import type { SampleLearner } from './sample-learner.js';

interface PreviewItemBase {
  readonly week: number;
  readonly stepId: string;
  /** The learner's local date and time, e.g. "Wed 13 Jan 2027, 14:00 (Europe/London)". */
  readonly when: string;
  /** Why the step might not be sent, in words: "only if kickoff is not done by then". */
  readonly condition: string | undefined;
  /** The file name `gym render` gives it, e.g. `w03-kickoff.eml`. */
  readonly fileName: string;
}

export interface PreviewEmail extends PreviewItemBase {
  readonly kind: 'email';
  readonly email: RenderedEmail;
}

export interface PreviewInvite extends PreviewItemBase {
  readonly kind: 'invite';
  readonly title: string;
  readonly description: string;
  readonly location: string | undefined;
  readonly durationMinutes: number;
  readonly start: Date;
  /** The iCalendar text a learner's calendar receives. */
  readonly ics: string;
}

export type PreviewItem = PreviewEmail | PreviewInvite;

export interface PreviewWeek {
  readonly number: number;
  readonly theme: string;
  readonly managerTip: string;
  readonly items: readonly PreviewItem[];
}

/** Everything a learner (and their manager) gets from one programme, for one sample learner. */
export interface ProgrammePreview {
  readonly id: string;
  readonly title: string;
  readonly hash: string;
  readonly sample: SampleLearner;
  readonly startsOn: string;
  readonly welcome: RenderedEmail;
  /** The intake questions the welcome asks, with the profile field each sets (#14 §2). */
  readonly intake: readonly IntakeQuestion[];
  readonly weeks: readonly PreviewWeek[];
  readonly end: RenderedEmail;
  /**
   * When the mail around the steps goes (#14), as `gym enrol` plans it for an enrolment well
   * ahead of the start: the welcome, the programme end, and the manager's introduction (on the
   * manager's clock).
   */
  readonly times: { readonly welcome: string; readonly end: string; readonly introduction: string };
}

export interface PreviewInput {
  readonly sequence: Sequence;
  readonly hash: string;
  readonly compiled: CompiledProgramme;
  readonly sample: SampleLearner;
  readonly startsOn: string;
  /** The reply mailbox; previews use a `+preview` token in place of a signed one. */
  readonly replyAddress: string;
  readonly stamp: Date;
}

const fileName = (week: number, stepId: string) => `${planKey(week, stepId)}.eml`;

function conditionLabel(step: Step): string | undefined {
  if (step.when?.not_done !== undefined)
    return `only if “${step.when.not_done}” is not done by then`;
  if (step.when?.done !== undefined) return `only if “${step.when.done}” is done by then`;
  return undefined;
}

/**
 * Renders every email and invite of a programme for one sample learner, at the times the
 * programme gives (before holidays and pauses, which belong to a real enrolment). Pure: the
 * programme is compiled already, and every output is what `gym render` writes.
 */
export function previewProgramme(input: PreviewInput): ProgrammePreview {
  const { sequence, compiled, sample } = input;
  const zone = sample.learner.time_zone;
  const [user, domain] = input.replyAddress.split('@') as [string, string];
  const chrome = { replyAddress: `${user}+preview@${domain}`, assignmentsDone: 0 };
  let assignmentsDone = 0;

  const weeks = sequence.weeks.map((week): PreviewWeek => {
    const context = templateContext(sequence, week.week, sample.learner, sample.manager);
    const items = week.steps.map((step): PreviewItem => {
      const start = stepStart(
        input.startsOn,
        week.week,
        step.day,
        step.at ?? sequence.schedule.send_at,
        zone,
      );
      const base = {
        week: week.week,
        stepId: step.id,
        when: whenLabel(start.toJSDate(), zone),
        condition: conditionLabel(step),
        fileName: fileName(week.week, step.id),
      };
      if (step.email) {
        // Shows the header as it would read for a learner who did every assignment so far.
        const email = renderStep(compiled, week.week, step.id, context, {
          ...chrome,
          assignmentsDone,
        });
        return { kind: 'email', ...base, email };
      }
      const invite = renderInvite(compiled, week.week, step.id, context);
      const minutes = durationMinutes(step.invite!.duration);
      const ics = buildInvite({
        uid: `preview-${sequence.id}-w${week.week}-${step.id}@${domain}`,
        sequence: 0,
        start: start.toJSDate(),
        durationMinutes: minutes,
        title: invite.title,
        description: invite.description,
        location: invite.location,
        organizer: { name: 'Digital Gym', email: input.replyAddress },
        attendee: {
          name: `${sample.learner.first_name} ${sample.learner.last_name}`,
          email: sample.learner.email,
        },
        stamp: input.stamp,
      });
      return {
        kind: 'invite',
        ...base,
        title: invite.title,
        description: invite.description,
        location: invite.location,
        durationMinutes: minutes,
        start: start.toJSDate(),
        ics,
      };
    });
    if (week.steps.some((s) => s.email?.assignment)) assignmentsDone += 1;
    const [managerTip = ''] = renderManagerTips(compiled, context, 1);
    return { number: week.week, theme: week.theme, managerTip, items };
  });

  const first = templateContext(sequence, 1, sample.learner, sample.manager);
  const last = templateContext(sequence, sequence.weeks.length, sample.learner, sample.manager);
  return {
    id: sequence.id,
    title: sequence.title,
    hash: input.hash,
    sample,
    startsOn: input.startsOn,
    welcome: renderWelcome(compiled, first, chrome),
    intake: sequence.intake ?? [],
    weeks,
    end: renderProgrammeEnd(compiled, last, { ...chrome, assignmentsDone }),
    times: journeyTimes(sequence, sample, input.startsOn),
  };
}

/** The welcome's, the end's and the manager introduction's times, by the engine's own planner. */
function journeyTimes(
  sequence: Sequence,
  sample: SampleLearner,
  startsOn: string,
): ProgrammePreview['times'] {
  const zone = sample.learner.time_zone;
  const holidays = new Set<string>();
  const plan = planEnrolment({ sequence, startsOn, zone, holidays });
  const around = { sequence, zone, holidays, plan };
  const managerZone = sample.manager?.time_zone ?? zone;
  const anchor = mondayOf(
    nextWorkingDate(startsOn, calendarFor(sequence.schedule, zone, holidays)),
  );
  const [first] = digestSchedule({ anchor, zone: managerZone, weeks: sequence.weeks.length });
  return {
    welcome: whenLabel(planWelcome(around).sendAt, zone),
    end: whenLabel(planProgrammeEnd(around).sendAt, zone),
    introduction:
      first === undefined ? '' : whenLabel(introductionTime(first, managerZone), managerZone),
  };
}
