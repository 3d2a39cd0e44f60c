import type { InviteRequest } from './invite.js';

/**
 * The invite `buildInvite` writes, from a template instead of ical-generator (#17): the same
 * lines in the same order, the same escaping and the same folding, byte for byte
 * (test/calendar/invite-template.test.ts proves it against ical-generator for every invite of
 * every shipped programme and for hostile names). ical-generator builds an object graph per
 * invite and folds its lines through a TextEncoder per character; a wave sends one per learner.
 *
 * Static per method and organizer: the calendar's head, the status and the ORGANIZER line.
 * Per invite: UID, SEQUENCE, DTSTAMP, DTSTART, DTEND, SUMMARY, LOCATION, DESCRIPTION, ATTENDEE.
 */
export function writeInvite(request: InviteRequest): string {
  const method = request.method ?? 'REQUEST';
  const end = new Date(request.start.getTime() + request.durationMinutes * 60_000);
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Digital Gym//digital-gym//EN',
    `METHOD:${method}`,
    'BEGIN:VEVENT',
    `UID:${request.uid}`,
    `SEQUENCE:${request.sequence}`,
    `DTSTAMP:${utc(request.stamp)}`,
    `DTSTART:${utc(request.start)}`,
    `DTEND:${utc(end)}`,
    `SUMMARY:${escapeText(request.title)}`,
  ];
  if (request.location) lines.push(`LOCATION:${escapeText(request.location)}`);
  lines.push(`DESCRIPTION:${escapeText(request.description)}`);
  lines.push(
    `ORGANIZER;CN="${escapeQuoted(request.organizer.name)}":mailto:${request.organizer.email}`,
    `ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN="${escapeQuoted(request.attendee.name)}":MAILTO:${escapeText(request.attendee.email)}`,
    `STATUS:${method === 'CANCEL' ? 'CANCELLED' : 'CONFIRMED'}`,
    'END:VEVENT',
    'END:VCALENDAR',
  );
  return lines.map(fold).join('\r\n');
}

/** `20270111T100000Z`: an instant in UTC, as ical-generator writes a Date without a zone. */
function utc(instant: Date): string {
  return instant
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

// As ical-generator's `escape`: TEXT values escape `\ ; ,`, quoted parameters `\ "`; line ends
// become `\n` in both.
const escapeText = (value: string) =>
  value.replace(/[\\;,]/g, (c) => `\\${c}`).replace(/\r\n|\r|\n/g, '\\n');
const escapeQuoted = (value: string) =>
  value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\r\n|\r|\n/g, '\\n');

/**
 * As ical-generator's `foldLines`: a new line (CRLF and a space) before the character that
 * would take a line past 74 octets of UTF-8, the space not counted; a surrogate pair is one
 * character.
 */
function fold(line: string): string {
  // Most lines are short ASCII: nothing to count.
  if (line.length <= 74 && /^[\x20-\x7e]*$/.test(line)) return line;
  let out = '';
  let octets = 0;
  for (let i = 0; i < line.length; i++) {
    let ch = line.charAt(i);
    const code = line.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) ch += line.charAt(++i);
    const size = ch.length === 2 ? 4 : code < 0x80 ? 1 : code < 0x800 ? 2 : 3;
    octets += size;
    if (octets > 74) {
      out += '\r\n ';
      octets = size;
    }
    out += ch;
  }
  return out;
}
