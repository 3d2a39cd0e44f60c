import { beforeAll, describe, expect, it } from 'vitest';
import {
  compileLayouts,
  renderAcknowledgement,
  renderManagerDigest,
  replyMarker,
  type CompiledLayouts,
} from '../../src/render/index.js';
import { team } from './digest-fixtures.js';

let layouts: CompiledLayouts;
const links = {
  replyAddress: 'digest+m1@gym.example.gov.uk',
  unsubscribeUrl: 'https://gym.example.gov.uk/u/m1',
};

beforeAll(async () => {
  layouts = await compileLayouts({ validation: 'strict' });
});

/** The names with a block of their own (an <h2>), in order. */
function blocks(html: string): string[] {
  return [...html.matchAll(/<h2 [^>]*>([^<]*)<\/h2>/g)]
    .map((m) => m[1]!)
    .filter((h) => h !== 'Everyone else' && h !== 'Your team at a glance');
}

describe('the manager digest', () => {
  it('gives every learner of a small team a block: week, done of due, flags, reflection, tips', () => {
    const digest = renderManagerDigest(layouts, team(10), links);
    expect(digest.subject).toBe('Your team this fortnight: 10 people, 3 to check in with');
    expect(digest.preheader).toBe('Priya0, Sam1 and Alex2 could use a word from you.');
    expect(blocks(digest.html)).toEqual([
      'Priya0 Shah',
      'Sam1 Evans',
      'Alex2 Brown',
      'Jo3 Taylor',
      'Aisha6 Wilson',
      'Owen9 Patel',
      'Chris4 Jones',
      'Fatima8 Khan',
      'Morgan5 Smith',
      'Tom7 O&#39;Neil',
    ]);
    expect(digest.html).toContain(
      'Week 2 of 12: Short sentences, common words · 0 of 1 assignment done',
    );
    expect(digest.html).toContain('Said a task was too hard.</strong> Ask what got in the way.');
    expect(digest.html).toContain('Paused until 3 January.</strong>');
    expect(digest.html).toContain('Jo3 shared this in week 3:');
    expect(digest.html).toContain(
      '<li style="margin:0 0 4px;">Ask Tom7 to show you one paragraph they rewrote this week',
    );
    expect(digest.html).toContain('<html lang="en-GB"');
    expect(digest.html).toContain(replyMarker);
    expect(digest.html).toContain('href="https://gym.example.gov.uk/u/m1"');
    expect(digest.html).not.toContain('Stop the programme');
    expect(digest.text).toContain("TOM7 O'NEIL\nPlain English for policy teams · Week 8 of 12");
  });

  it('stays under 90 KB for 60 learners, keeping a block for everyone who needs a word', () => {
    const digest = renderManagerDigest(layouts, team(60), links);
    expect(Buffer.byteLength(digest.html)).toBeLessThan(90 * 1024);
    const named = blocks(digest.html);
    for (const learner of team(60).learners.filter((l) => l.flags.length > 0)) {
      expect(named).toContain(`${learner.firstName} ${learner.lastName}`.replace("'", '&#39;'));
    }
    for (const learner of team(60).learners) {
      expect(digest.text).toContain(learner.firstName);
    }
  });

  it('summarises a team too big for blocks: a compact table, then a count', () => {
    const big = renderManagerDigest(layouts, team(300), links);
    expect(Buffer.byteLength(big.html)).toBeLessThan(90 * 1024);
    expect(blocks(big.html).length).toBeGreaterThan(0);
    expect(big.html).toContain('Everyone else</h2>');
    expect(big.html).toMatch(
      /\d+ more people, all on track, are not listed, to keep this email short\./,
    );

    const tight = renderManagerDigest(layouts, team(60), links, { maxHtmlBytes: 40 * 1024 });
    expect(Buffer.byteLength(tight.html)).toBeLessThan(40 * 1024);
    expect(blocks(tight.html)[0]).toBe('Alex2 Brown');
  });

  it('escapes what learners wrote', () => {
    const digest = team(1);
    digest.learners[0]!.reflection = {
      week: 2,
      text: '<img src=x onerror=alert(1)> "fine" & done',
    };
    const rendered = renderManagerDigest(layouts, digest, links);
    expect(rendered.html).toContain('&lt;img src=x onerror=alert(1)&gt; &#34;fine&#34; &amp; done');
    expect(rendered.html).not.toContain('<img');
    expect(rendered.text).toContain('> <img src=x onerror=alert(1)> "fine" & done');
  });

  it('says so when everyone is on track', () => {
    const calm = team(4);
    for (const learner of calm.learners) {
      learner.flags = [];
      learner.reflection = undefined;
    }
    const rendered = renderManagerDigest(layouts, calm, links);
    expect(rendered.subject).toBe('Your team this fortnight: 4 people, all on track');
    expect(rendered.preheader).toBe('Everyone is on track. Here is what they are working on.');
  });
});

describe('the acknowledgement', () => {
  it('confirms what we logged, in the same thread', () => {
    const ack = renderAcknowledgement(
      layouts,
      {
        replyToSubject: 'RE: Re: Week 3: short sentences',
        firstName: 'Priya',
        message: 'Logged: done for week 3.',
        progress: { week: 3, totalWeeks: 12, assignmentsDone: 3 },
      },
      { replyAddress: 'progress+t0k3n@gym.example.gov.uk' },
    );
    expect(ack.subject).toBe('Re: Week 3: short sentences');
    expect(ack.preheader).toBe('Logged: done for week 3.');
    expect(ack.html).toContain('Week 3 of 12 · 3 assignments done');
    expect(ack.text).toMatchInlineSnapshot(`
      "--- Reply above this line ---

      Digital Gym · Your reply
      Week 3 of 12 · 3 assignments done

      Thanks, Priya.

      Logged: done for week 3.

      You can reply at any time with "done", "pause for 2 weeks", "pause until 3 January", "resume", "too hard", or a few words on how it is going.

      --
      You are getting this because you replied to a Digital Gym email.
      Reply "help" to see everything you can reply.
      Stop the programme: mailto:progress+t0k3n@gym.example.gov.uk?subject=Stop%20the%20programme&body=stop
      Unsubscribe: mailto:progress+t0k3n@gym.example.gov.uk?subject=Unsubscribe&body=unsubscribe
      "
    `);
  });

  it('asks about a probable command with two one-tap buttons, each a mailto to its signed address', () => {
    const ack = renderAcknowledgement(
      layouts,
      {
        replyToSubject: 'Re: Week 3: short sentences',
        firstName: 'Priya',
        message: 'Did you mean: pause for 2 weeks?',
        detail: 'Nothing has changed yet.',
        question: {
          proposal: 'pause for 2 weeks',
          yes: { label: 'Yes, pause', address: 'progress+y1abc@gym.example.gov.uk' },
          no: { label: 'No, it was a note', address: 'progress+n1abc@gym.example.gov.uk' },
        },
      },
      { replyAddress: 'progress+t0k3n@gym.example.gov.uk' },
    );
    const yes =
      'mailto:progress+y1abc@gym.example.gov.uk?subject=Yes%3A%20pause%20for%202%20weeks&body=yes';
    const no =
      'mailto:progress+n1abc@gym.example.gov.uk?subject=No%2C%20it%20was%20a%20note&body=no';
    expect(ack.text).toContain(`Did you mean: pause for 2 weeks?\n\nNothing has changed yet.\n`);
    expect(ack.text).toContain(`Yes, pause: ${yes}\nNo, it was a note: ${no}\n`);
    expect(ack.html).toContain(`href="${yes.replace(/&/g, '&amp;')}"`);
    expect(ack.html).toMatch(/>Yes, pause<\/a>/);
    expect(ack.html).toMatch(/>No, it was a note<\/a>/);
  });
});
