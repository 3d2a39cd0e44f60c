import ical, { ICalAttendeeRole, ICalAttendeeStatus, ICalCalendarMethod } from 'ical-generator';

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
