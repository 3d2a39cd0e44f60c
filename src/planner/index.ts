/**
 * The planner: one enrolment's timeline on the learner's clock (zone, working days, holidays,
 * sending window), the send-time decisions (late grace, window, `when`), and pause and resume.
 * Pure: plain data and a `now` in, plain data out.
 */
export { planEnrolment, type EnrolmentPlanInput, type PlannedDelivery } from './plan.js';
export {
  calendarFor,
  insideWindow,
  isWorkingDate,
  nextWorkingDate,
  type LearnerCalendar,
  type SendingWindow,
} from './calendar.js';
export {
  pausePlan,
  resumePlan,
  type PauseInput,
  type ResumeInput,
  type ShiftedPlan,
} from './pause.js';
export {
  dueDecision,
  evaluateCondition,
  type ConditionDecision,
  type DueDecision,
  type DueInput,
} from './send-time.js';
export {
  holidaysFromIcs,
  holidaysFromList,
  type HolidayProblem,
  type Holidays,
  type IcsOptions,
} from './holidays.js';
export { isIsoDate, isValidZone } from './local-time.js';
export { durationMinutes, nextMonday, stepStart } from './step-time.js';
export { sendingSchedule, type ScheduledDelivery } from './invite-lead.js';
export {
  currentDigest,
  digestSchedule,
  introductionTime,
  type DigestScheduleInput,
  type DigestSlot,
} from './digest-schedule.js';
export {
  planProgrammeEnd,
  planWelcome,
  type JourneyDelivery,
  type JourneyInput,
} from './journey.js';
