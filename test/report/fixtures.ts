import {
  stepKeyOf,
  type AssignmentSent,
  type EventData,
  type LearnerData,
  type ReportData,
  type SentSummary,
} from '../../src/report/compute.js';

/**
 * A hand-built snapshot whose every figure is worked out in the comments, so the tests can
 * state exact numbers. `now` is Monday 1 February 2027, 12:00 UTC.
 *
 * Programme A (12 weeks, assignment on each week's kickoff):
 *   1 Ann Archer    active; assignments w1-w4 sent; done w1 (+1 day), w2 (+3 days, twice),
 *                   w3 (+0.5 day); a reflection on 28 Jan                      -> 3/4, no flag
 *   2 Ben Baker     active; w1-w4 sent; done w1 (+6 days) then "too hard" on 26 Jan
 *                                                                  -> 1/4, stuck, behind
 *   3 Cara Cole     active; w1-w4 sent from 4 Jan; never replied   -> 0/4, quiet, behind
 *   4 Dan Dale      paused until 15 Feb; w1-w2 sent; "help" on 12 Jan (outside 14 days)
 *                                                                  -> 0/2, paused (not behind)
 *   5 Eve Evans     stopped; w1 sent; "stop" on 5 Jan             -> 0/1, no flag (ended)
 * Programme B (3 weeks):
 *   6 Fay Ford      address bounced; nothing sent                 -> 0/0
 *   7 <script>…     active; w1 sent 25 Jan; "too hard" 26 Jan, done w1 27 Jan (+2 days)
 *                                                                  -> 1/1, not stuck
 * Managers: 10 Helen (Ann, Ben, Fay), 11 Mark (Cara, Dan); Eve and Gus have none.
 */

export const now = new Date('2027-02-01T12:00:00Z');
const at = (iso: string) => new Date(iso);
const mondays = ['2027-01-04', '2027-01-11', '2027-01-18', '2027-01-25'];

function learner(
  enrolmentId: number,
  firstName: string,
  lastName: string,
  more: Partial<LearnerData> = {},
): LearnerData {
  return {
    enrolmentId,
    learnerId: 100 + enrolmentId,
    firstName,
    lastName,
    email: `${firstName.toLowerCase().replace(/[^a-z]/g, '')}.${lastName.toLowerCase()}@example.gov.uk`,
    learnerStatus: 'active',
    managerId: null,
    versionId: 1,
    cohort: 'jan-2027',
    startsOn: '2027-01-04',
    enrolmentStatus: 'active',
    pausedUntil: null,
    ...more,
  };
}

/** Week 1..n assignment emails, sent on successive Mondays at 09:00. */
function assignments(enrolmentId: number, weeks: number): AssignmentSent[] {
  return mondays.slice(0, weeks).map((monday, i) => ({
    enrolmentId,
    stepKey: stepKeyOf(i + 1, 'kickoff'),
    week: i + 1,
    sentAt: at(`${monday}T09:00:00Z`),
  }));
}

function sent(enrolmentId: number, lastWeek: number, from = mondays[0]!): SentSummary {
  return { enrolmentId, firstSentAt: at(`${from}T09:00:00Z`), lastWeek, emailsSent: lastWeek * 2 };
}

const event = (
  enrolmentId: number,
  kind: EventData['kind'],
  week: number | null,
  iso: string,
): EventData => ({ enrolmentId, kind, week, occurredAt: at(iso) });

export const script = '<script>alert(1)</script>';

export function sampleData(): ReportData {
  return {
    now,
    cohort: 'jan-2027',
    needsTrainer: [
      {
        learnerId: 3,
        name: 'Cara Cole',
        email: 'cara@example.test',
        kind: 'too_hard',
        week: 4,
        words: `I am lost with this one ${script}`,
        occurredAt: at('2027-01-28T10:00:00Z'),
      },
    ],
    programmes: [
      {
        versionId: 1,
        programmeId: 'programme-a',
        title: 'Programme A',
        weeks: 12,
        assignmentSteps: Array.from({ length: 12 }, (_, i) => ({
          week: i + 1,
          stepKey: stepKeyOf(i + 1, 'kickoff'),
        })),
      },
      {
        versionId: 2,
        programmeId: 'programme-b',
        title: 'Programme B',
        weeks: 3,
        assignmentSteps: [1, 2, 3].map((week) => ({ week, stepKey: stepKeyOf(week, 'kickoff') })),
      },
    ],
    learners: [
      learner(1, 'Ann', 'Archer', { managerId: 10 }),
      learner(2, 'Ben', 'Baker', { managerId: 10 }),
      learner(3, 'Cara', 'Cole', { managerId: 11 }),
      // The engine keeps a paused enrolment active and sets paused_until.
      learner(4, 'Dan', 'Dale', { managerId: 11, pausedUntil: at('2027-02-15T00:00:00Z') }),
      learner(5, 'Eve', 'Evans', { enrolmentStatus: 'stopped' }),
      learner(6, 'Fay', 'Ford', {
        managerId: 10,
        versionId: 2,
        learnerStatus: 'bounced',
        enrolmentStatus: 'stopped',
      }),
      learner(7, script, 'Gus', { versionId: 2 }),
    ],
    sent: [sent(1, 4), sent(2, 4), sent(3, 4), sent(4, 2), sent(5, 1), sent(7, 1, mondays[3])],
    assignmentsSent: [
      ...assignments(1, 4),
      // Not an assignment step: ignored.
      { enrolmentId: 1, stepKey: 'w01-nudge', week: 1, sentAt: at('2027-01-07T09:00:00Z') },
      ...assignments(2, 4),
      ...assignments(3, 4),
      ...assignments(4, 2),
      ...assignments(5, 1),
      { enrolmentId: 7, stepKey: 'w01-kickoff', week: 1, sentAt: at('2027-01-25T09:00:00Z') },
    ],
    events: [
      event(1, 'done', 1, '2027-01-05T09:00:00Z'),
      event(1, 'done', 2, '2027-01-14T09:00:00Z'),
      event(1, 'done', 2, '2027-01-16T09:00:00Z'),
      event(1, 'done', 3, '2027-01-18T21:00:00Z'),
      event(1, 'reflection', 3, '2027-01-28T09:00:00Z'),
      event(2, 'done', 1, '2027-01-10T09:00:00Z'),
      event(2, 'too_hard', 4, '2027-01-26T09:00:00Z'),
      event(4, 'help', 2, '2027-01-12T08:00:00Z'),
      event(4, 'pause', 2, '2027-01-12T09:00:00Z'),
      event(5, 'stop', 1, '2027-01-05T10:00:00Z'),
      event(7, 'too_hard', 1, '2027-01-26T09:00:00Z'),
      event(7, 'done', 1, '2027-01-27T09:00:00Z'),
    ],
    managers: [
      {
        managerId: 10,
        name: 'Helen Walsh',
        email: 'helen@example.gov.uk',
        digestsSent: 2,
        replies: 1,
        lastEngagementAt: at('2027-01-20T10:00:00Z'),
      },
      {
        managerId: 11,
        name: 'Mark Davies',
        email: 'mark@example.gov.uk',
        digestsSent: 1,
        replies: 0,
        lastEngagementAt: null,
      },
    ],
  };
}
