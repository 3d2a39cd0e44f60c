import ical, {
  ICalAttendeeRole,
  ICalAttendeeStatus,
  ICalCalendarMethod,
  ICalEventStatus,
} from 'ical-generator';
import { chromeString } from '../language/chrome-text.js';
import { inPreference, slotLabel } from '../language/dates.js';
import { htmlLang, type LanguagePreference } from '../language/languages.js';

export interface InviteRequest {
  /** Stable per (enrolment, step): a later update or cancel of the same slot reuses it. */
  readonly uid: string;
  /** Raised on every change of the event, so calendars apply the newest. */
  readonly sequence: number;
  readonly start: Date;
  readonly durationMinutes: number;
  readonly title: string;
  readonly description: string;
  readonly location?: string | undefined;
  /** The mailbox we read: RSVPs come back to it by mail. */
  readonly organizer: { readonly name: string; readonly email: string };
  readonly attendee: { readonly name: string; readonly email: string };
  /** DTSTAMP: when this version of the invite was made. */
  readonly stamp: Date;
  readonly method?: 'REQUEST' | 'CANCEL';
}

/**
 * An iMIP invite (RFC 5546/6047) for one practice slot. Times are written in UTC: they are
 * exact instants whatever zone the server or the learner's calendar is in (ical-generator with
 * a calendar-level zone would write the *server's* local time under the learner's TZID).
 * The same METHOD must be set on the MIME part (`text/calendar; method=REQUEST`).
 */
export function buildInvite(request: InviteRequest): string {
  const method = request.method ?? 'REQUEST';
  const calendar = ical({
    prodId: { company: 'Digital Gym', product: 'digital-gym', language: 'EN' },
    method: method === 'CANCEL' ? ICalCalendarMethod.CANCEL : ICalCalendarMethod.REQUEST,
  });
  calendar.createEvent({
    id: request.uid,
    sequence: request.sequence,
    stamp: request.stamp,
    start: request.start,
    end: new Date(request.start.getTime() + request.durationMinutes * 60_000),
    summary: request.title,
    description: request.description,
    location: request.location ?? null,
    // A cancellation says so twice, as RFC 5546 asks: METHOD:CANCEL and STATUS:CANCELLED.
    status: method === 'CANCEL' ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
    organizer: { name: request.organizer.name, email: request.organizer.email },
    attendees: [
      {
        name: request.attendee.name,
        email: request.attendee.email,
        rsvp: true,
        role: ICalAttendeeRole.REQ,
        status: ICalAttendeeStatus.NEEDSACTION,
      },
    ],
  });
  return calendar.toString();
}

const escapeHtml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/**
 * The plain-text and HTML bodies that go beside the calendar part of an invite: clients that do
 * not read the calendar part (or show it as an attachment) still tell the learner what and when.
 */
export function inviteBodies(invite: {
  readonly title: string;
  /** "Wed 13 Jan 2027, 14:00 (Europe/London)" */
  readonly when: string;
  readonly durationMinutes: number;
  readonly location?: string | undefined;
  readonly description: string;
  /** The learner's language (#15); English when absent. */
  readonly language?: LanguagePreference | undefined;
}): { text: string; html: string } {
  const language = invite.language ?? 'en';
  const where = invite.location ? `, ${invite.location}` : '';
  const minutes = chromeString(language, (t) => t.minutes);
  const when = `${invite.when}, ${invite.durationMinutes} ${minutes}${where}`;
  return {
    text: `${invite.title}\n${when}\n\n${invite.description}\n`,
    html:
      `<!doctype html><html lang="${htmlLang(language)}"><body style="font-family:sans-serif">` +
      `<h1 style="font-size:20px">${escapeHtml(invite.title)}</h1><p><strong>${escapeHtml(when)}</strong></p>` +
      invite.description
        .split(/\n{2,}/)
        .map((paragraph) => `<p>${escapeHtml(paragraph).replace(/\n/g, '<br>')}</p>`)
        .join('') +
      `</body></html>`,
  };
}

/**
 * A moment as the learner reads it: "Wed 13 January 2027, 14:00 (Europe/London)", in their
 * language ("Mer 13 Ionawr 2027, 14:00 / Wed 13 January 2027, 14:00" for both).
 */
export function whenLabel(
  instant: Date,
  zone: string,
  language: LanguagePreference = 'en',
): string {
  // A wave's invites share a few slots, and luxon's zone arithmetic for each was a few percent
  // of a worker's time: each label is worked out once. Bounded: a worker runs for months.
  const key = `${instant.getTime()} ${zone} ${language}`;
  let label = whenLabels.get(key);
  if (label === undefined) {
    if (whenLabels.size >= 10_000) whenLabels.clear();
    label = `${inPreference(language, (l) => slotLabel(instant, zone, l))} (${zone})`;
    whenLabels.set(key, label);
  }
  return label;
}
const whenLabels = new Map<string, string>();
