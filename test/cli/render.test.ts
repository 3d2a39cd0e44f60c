import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { runGym } from '../helpers/cli.js';

describe('gym render', () => {
  it('writes one .eml per step of the week: emails and an iMIP invite at the learner’s local time', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gym-render-'));
    // The server in Auckland, the learner in New York, week 2 just after the US clocks change.
    const result = await runGym(
      [
        'render',
        'digital-engagement-for-policy',
        '--week',
        '2',
        '--out',
        out,
        '--learner',
        'test/fixtures/learners/new-york.yaml',
      ],
      { TZ: 'Pacific/Auckland', GYM_REPLY_ADDRESS: 'progress@gym.example.gov' },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      'w02-kickoff.eml',
      'w02-nudge.eml',
      'w02-practice.eml',
    ]);

    const kickoff = readFileSync(join(out, 'w02-kickoff.eml'), 'utf8');
    expect(kickoff).toMatch(/^Subject: Week 2: /m);
    expect(kickoff).toContain(`To: "Jordan O'Neil" <jordan.oneil@example.gov>`);
    expect(kickoff).toContain('Reply-To: progress+preview@gym.example.gov');
    expect(kickoff).toContain('Auto-Submitted: auto-generated');
    expect(kickoff).toContain('Content-Type: text/plain; charset=utf-8');
    expect(kickoff).toContain('Content-Type: text/html; charset=utf-8');

    const invite = readFileSync(join(out, 'w02-practice.eml'), 'utf8');
    expect(invite).toContain('Content-Type: text/calendar; charset=utf-8; method=REQUEST');
    expect(invite).toContain('Content-Type: text/html; charset=utf-8');
    const ics = invite.slice(
      invite.indexOf('BEGIN:VCALENDAR'),
      invite.indexOf('END:VCALENDAR') + 'END:VCALENDAR'.length,
    );
    const calendar = new ICAL.Component(ICAL.parse(ics) as unknown[]);
    expect(calendar.getFirstPropertyValue('method')).toBe('REQUEST');
    const event = new ICAL.Event(calendar.getFirstSubcomponent('vevent')!);
    // Week 2 starts Monday 15 March 2027; the practice slot is Wednesday 17th at 10:00 in New
    // York, which is EDT (UTC-4) since the 14th, whatever the server's own zone.
    expect(event.startDate.toJSDate().toISOString()).toBe('2027-03-17T14:00:00.000Z');
    expect(event.attendees[0]!.getParameter('partstat')).toBe('NEEDS-ACTION');
  });

  it('says which week numbers exist, in one line', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gym-render-'));
    const result = await runGym(['render', 'digital-foundations', '--week', '13', '--out', out]);
    expect(result).toMatchObject({
      code: 1,
      stderr: 'gym: --week 13: expected a week from 1 to 12\n',
    });
  });

  it('names the programmes there are when asked for one that is not', async () => {
    const result = await runGym(['render', 'knitting', '--week', '1', '--out', tmpdir()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'gym: no programme "knitting" in sequences (there are: digital-engagement-for-policy, digital-foundations, social-media-for-comms)\n',
    );
  });
});
