import { describe, expect, it } from 'vitest';
import {
  computeReport,
  median,
  programmeShape,
  statusLabel,
  type LearnerReport,
  type ReportData,
} from '../../src/report/compute.js';
import { csvField, renderCsv } from '../../src/report/render-csv.js';
import { escapeHtml, renderHtml } from '../../src/report/render-html.js';
import { renderTable } from '../../src/report/render-table.js';
import { now, sampleData, script } from './fixtures.js';

const byEmail = (learners: readonly LearnerReport[], prefix: string) => {
  const found = learners.find((l) => l.email.startsWith(prefix));
  if (!found) throw new Error(`no learner ${prefix}`);
  return found;
};

describe('computeReport', () => {
  const report = computeReport(sampleData());

  it('counts each learner’s week, assignments done of those sent, last reply and status', () => {
    const rows = Object.fromEntries(
      report.learners.map((l) => [
        l.name,
        [l.currentWeek, l.done, l.due, l.lastReplyAt?.toISOString() ?? null, l.status],
      ]),
    );
    expect(rows).toEqual({
      'Ann Archer': [4, 3, 4, '2027-01-28T09:00:00.000Z', 'active'],
      'Ben Baker': [4, 1, 4, '2027-01-26T09:00:00.000Z', 'active'],
      'Cara Cole': [4, 0, 4, null, 'active'],
      'Dan Dale': [2, 0, 2, '2027-01-12T09:00:00.000Z', 'paused'],
      'Eve Evans': [1, 0, 1, '2027-01-05T10:00:00.000Z', 'stopped'],
      'Fay Ford': [0, 0, 0, null, 'bounced'],
      [`${script} Gus`]: [1, 1, 1, '2027-01-27T09:00:00.000Z', 'active'],
    });
    expect(byEmail(report.learners, 'ann').manager).toBe('Helen Walsh');
    expect(byEmail(report.learners, 'eve').manager).toBeUndefined();
  });

  it('flags stuck, quiet, paused and behind learners, and nobody whose programme has ended', () => {
    const flags = Object.fromEntries(
      report.learners.map((l): [string, string[]] => [
        l.name.split(' ')[0] ?? '',
        Object.entries(l.flags)
          .filter(([, on]) => on)
          .map(([flag]) => flag),
      ]),
    );
    expect(flags).toEqual({
      Ann: [],
      Ben: ['stuck', 'behind'],
      Cara: ['quiet', 'behind'],
      Dan: ['paused'],
      Eve: [],
      Fay: [],
      '<script>alert(1)</script>': [],
    });
    expect(byEmail(report.learners, 'dan').pausedUntil?.toISOString()).toBe(
      '2027-02-15T00:00:00.000Z',
    );
  });

  it('gives each programme its completion funnel, reply rate and median days to done', () => {
    expect(report.programmes).toEqual([
      {
        programmeId: 'programme-a',
        title: 'Programme A',
        weeks: 12,
        learners: 5,
        funnel: [2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        sentTo: 5,
        repliers: 4,
        replyRate: 0.8,
        // Ann 1, 3 and 0.5 days, Ben 6: the median of 0.5, 1, 3, 6.
        medianDaysToDone: 2,
      },
      {
        programmeId: 'programme-b',
        title: 'Programme B',
        weeks: 3,
        learners: 2,
        funnel: [1, 0, 0],
        sentTo: 1,
        repliers: 1,
        replyRate: 1,
        medianDaysToDone: 2,
      },
    ]);
  });

  it('gives each manager their learners’ progress and their own engagement', () => {
    expect(report.managers).toEqual([
      {
        managerId: 10,
        name: 'Helen Walsh',
        email: 'helen@example.gov.uk',
        learners: 3,
        done: 4,
        due: 8,
        sentTo: 2,
        repliers: 2,
        replyRate: 1,
        digestsSent: 2,
        replies: 1,
        lastEngagementAt: new Date('2027-01-20T10:00:00Z'),
      },
      {
        managerId: 11,
        name: 'Mark Davies',
        email: 'mark@example.gov.uk',
        learners: 2,
        done: 0,
        due: 6,
        sentTo: 2,
        repliers: 1,
        replyRate: 0.5,
        digestsSent: 1,
        replies: 0,
        lastEngagementAt: undefined,
      },
    ]);
  });

  it('adds it all up', () => {
    expect(report.totals).toEqual({
      learners: 7,
      byStatus: { active: 4, paused: 1, finished: 0, stopped: 1, bounced: 1, unsubscribed: 0 },
      flags: { stuck: 1, quiet: 1, paused: 1, behind: 2 },
      done: 5,
      due: 16,
      sentTo: 6,
      repliers: 5,
      replyRate: 5 / 6,
      programmes: 2,
      managers: 2,
    });
  });

  it('draws the lines at 14 days for stuck and 10 days for quiet, inclusive', () => {
    const base = sampleData();
    const day = 24 * 60 * 60 * 1000;
    const at = (days: number) => new Date(now.getTime() - days * day);
    const only = (events: ReportData['events'], sent = base.sent): ReportData => ({
      ...base,
      learners: base.learners.filter((l) => l.enrolmentId === 2),
      sent,
      events,
    });
    const ben = (data: ReportData) => computeReport(data).learners[0]!.flags;
    expect(ben(only([{ enrolmentId: 2, kind: 'help', week: 1, occurredAt: at(14) }])).stuck).toBe(
      true,
    );
    expect(
      ben(only([{ enrolmentId: 2, kind: 'help', week: 1, occurredAt: at(14.01) }])).stuck,
    ).toBe(false);
    // A "done" after the trouble clears it, whichever week it is for.
    expect(
      ben(
        only([
          { enrolmentId: 2, kind: 'too_hard', week: 3, occurredAt: at(3) },
          { enrolmentId: 2, kind: 'done', week: 2, occurredAt: at(2) },
        ]),
      ).stuck,
    ).toBe(false);
    expect(
      ben(only([{ enrolmentId: 2, kind: 'reflection', week: 1, occurredAt: at(10) }])).quiet,
    ).toBe(true);
    expect(
      ben(only([{ enrolmentId: 2, kind: 'reflection', week: 1, occurredAt: at(9.9) }])).quiet,
    ).toBe(false);
    // Never replied, first email 9 days ago: not quiet yet.
    expect(
      ben(only([], [{ enrolmentId: 2, firstSentAt: at(9), lastWeek: 2, emailsSent: 2 }])).quiet,
    ).toBe(false);
    // Nothing sent yet: never quiet.
    expect(ben(only([], [])).quiet).toBe(false);
    // A pause that has run out leaves the learner active again; a stopped enrolment stays stopped.
    const resumed = computeReport({
      ...base,
      learners: base.learners.map((l) => ({ ...l, pausedUntil: new Date('2027-01-31T00:00:00Z') })),
    });
    expect(byEmail(resumed.learners, 'dan').status).toBe('active');
    expect(byEmail(resumed.learners, 'dan').flags).toMatchObject({ paused: false, behind: true });
    expect(byEmail(resumed.learners, 'eve').status).toBe('stopped');
  });

  it('says how much a finished learner did: a plan that ran out is no success by itself', () => {
    // Ann (3 done) and Cara (nothing done) both reach the end of their plan.
    const base = sampleData();
    const finished = computeReport({
      ...base,
      learners: base.learners.map((l) =>
        l.enrolmentId === 1 || l.enrolmentId === 3
          ? { ...l, enrolmentStatus: 'completed' as const }
          : l,
      ),
    });
    const ann = byEmail(finished.learners, 'ann');
    const cara = byEmail(finished.learners, 'cara');
    expect([ann.status, statusLabel(ann)]).toEqual(['finished', 'finished, 3 of 12 done']);
    expect([cara.status, statusLabel(cara)]).toEqual(['finished', 'finished, none of 12 done']);
    // Finished people are flagged for nothing: their programme is over.
    expect(cara.flags).toEqual({ stuck: false, quiet: false, paused: false, behind: false });
    const table = renderTable(finished);
    expect(table).toContain('2 finished (1 with nothing done)');
    expect(table).toContain('finished, none of 12 done');
    expect(table).not.toMatch(/\bcompleted\b/);
    expect(renderHtml(finished)).toContain('finished, none of 12 done');
    expect(renderCsv(finished)).toContain(',finished,');
  });

  it('reports an empty snapshot without dividing by zero', () => {
    const empty = computeReport({ ...sampleData(), learners: [], managers: [] });
    expect(empty.learners).toEqual([]);
    expect(empty.programmes).toEqual([]);
    expect(empty.totals.replyRate).toBeUndefined();
    expect(renderTable(empty)).toContain('nobody enrolled');
    expect(renderCsv(empty)).toBe(
      'name,email,manager,programme_id,programme,cohort,current_week,assignments_done,assignments_due,last_reply,status,paused_until,stuck,quiet,paused,behind\r\n',
    );
  });
});

describe('programmeShape', () => {
  it('finds each week’s assignment step, or its first email when it has none', () => {
    const definition = {
      weeks: [
        {
          week: 1,
          steps: [
            { id: 'intro', email: { subject: 'Hi', body: 'x' } },
            { id: 'practice', invite: { title: 'Practice', duration: '30m' } },
            { id: 'kickoff', email: { subject: 'Go', assignment: { title: 'Do it' } } },
          ],
        },
        {
          week: 2,
          steps: [
            { id: 'slot', invite: {} },
            { id: 'nudge', email: { body: 'x' } },
          ],
        },
        { week: 3, steps: [{ id: 'slot', invite: {} }] },
        'rubbish',
      ],
    };
    expect(programmeShape(definition)).toEqual({
      weeks: 3,
      assignmentSteps: [
        { week: 1, stepKey: 'w01-kickoff' },
        { week: 2, stepKey: 'w02-nudge' },
      ],
    });
    expect(programmeShape(null)).toEqual({ weeks: 0, assignmentSteps: [] });
  });

  it('takes the median of odd and even counts', () => {
    expect(median([])).toBeUndefined();
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('renderers', () => {
  const report = computeReport(sampleData());

  it('prints tables that fit in 100 columns', () => {
    const table = renderTable(report);
    for (const line of table.split('\n')) expect([...line].length).toBeLessThanOrEqual(100);
    expect(table).toContain('4 active, 1 paused, 1 stopped, 1 bounced');
    expect(table).toContain('assignments done 5 of 16 sent; reply rate 83% (5 of 6)');
    expect(table).toMatch(/Ben Baker\s+4\s+1\/4\s+2027-01-26\s+active\s+stuck, behind\n/);
    expect(table).toMatch(/Dan Dale\s+2\s+0\/2\s+2027-01-12\s+paused\s+paused until 15 Feb\n/);
    expect(table).toMatch(/Programme A\s+5\s+4\/5\s+80%\s+2\.0\n/);
    expect(table).toMatch(/Helen Walsh\s+3\s+4\/8\s+100%\s+2\s+1\s+2027-01-20\n/);
    expect(table).toContain(
      'Needs the trainer (last 14 days)\n  2027-01-28 Cara Cole <cara@example.test> finds it too hard, week 4\n' +
        '    "I am lost with this one <script>alert(1)</script>"\n',
    );
  });

  it('quotes CSV fields by RFC 4180 and defuses formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('O’Brien, Siobhán')).toBe('"O’Brien, Siobhán"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("http://evil")')).toBe('"\'=HYPERLINK(""http://evil"")"');
    expect(csvField('+44 20')).toBe("'+44 20");
    expect(csvField('-1')).toBe("'-1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField(3)).toBe('3');
    expect(csvField(false)).toBe('false');
    const csv = renderCsv(report);
    const lines = csv.split('\r\n');
    expect(lines).toHaveLength(report.learners.length + 2);
    expect(lines.at(-1)).toBe('');
    expect(lines).toContain(
      'Dan Dale,dan.dale@example.gov.uk,Mark Davies,programme-a,Programme A,jan-2027,2,0,2,2027-01-12,paused,2027-02-15,false,false,true,false',
    );
  });

  it('escapes every value in the HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    );
    const html = renderHtml(report);
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; Gus');
    expect(html).toContain('<h2 id="needs-trainer">Needs the trainer</h2>');
    expect(html).toContain('<blockquote>I am lost with this one &lt;script&gt;');
    expect(html).toContain('<html lang="en-GB">');
    expect(html.match(/<svg /g)).toHaveLength(3);
  });
});
