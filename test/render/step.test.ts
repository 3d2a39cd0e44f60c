import { beforeAll, describe, expect, it } from 'vitest';
import { GymError } from '../../src/errors.js';
import {
  compileProgramme,
  mjmlRunCount,
  renderInvite,
  renderManagerTips,
  renderProgrammeEnd,
  renderStep,
  renderWelcome,
  replyMarker,
  type CompiledProgramme,
  type RenderedEmail,
} from '../../src/render/index.js';
import { sequenceSchema, type Sequence } from '../../src/sequence/schema.js';
import {
  largestStepSequence,
  sampleChrome,
  sampleContext,
  sampleSequence,
} from '../fixtures/sample-sequence.js';

let programme: CompiledProgramme;
let email: RenderedEmail;

beforeAll(async () => {
  programme = await compileProgramme(sampleSequence(), { validation: 'strict' });
  email = renderStep(programme, 3, 'kickoff', sampleContext(3), sampleChrome);
});

/** The sample programme with week 1's kickoff email changed. */
function withKickoff(
  change: (email: NonNullable<Sequence['weeks'][number]['steps'][number]['email']>) => void,
): Sequence {
  const sequence = sampleSequence();
  const kickoff = sequence.weeks[0]!.steps[0]!.email!;
  change(kickoff);
  return sequenceSchema.parse(sequence);
}

/** Every href in the HTML, entity-decoded as a mail client would. */
function hrefs(html: string): string[] {
  return [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
}

/** A mailto link's parts, decoded. */
function mailto(href: string) {
  const url = new URL(href);
  return {
    to: decodeURIComponent(url.pathname),
    subject: url.searchParams.get('subject'),
    body: url.searchParams.get('body'),
  };
}

describe('a learner step email', () => {
  it('has the week header, the content and the preheader', () => {
    expect(email.subject).toBe('Week 3: short sentences, common words');
    expect(email.preheader).toBe('This week: Rewrite one real email (week 3), due Friday');
    expect(email.html).toContain('<html lang="en-GB"');
    expect(email.html).toContain('<title>Week 3: short sentences, common words</title>');
    // The preheader is the first (hidden) text of the body.
    expect(email.html).toMatch(
      /<body[^>]*>\s*<div style="display:none;[^"]*">This week: Rewrite one real email \(week 3\), due Friday/,
    );
    expect(email.html).toContain('Week 3 of 12 · 2 assignments done');
    expect(email.html).toContain('Week 3: Short sentences, common words</h1>');
    expect(email.html).toContain(
      'Hello Priya. This week: <strong>short sentences, common words</strong>.',
    );
    expect(email.html).toContain('A team in Department for Examples rewrote a letter:');
    expect(email.html).toContain('This week’s assignment: Rewrite one real email (week 3)');
    expect(email.html).toContain('Due Friday');
  });

  it('puts the reply marker before everything else, in the HTML and the text', () => {
    const visible = email.html.replace(/<div style="display:none;[\s\S]*?<\/div>/, '');
    expect(visible.indexOf(replyMarker)).toBeGreaterThan(0);
    expect(visible.indexOf(replyMarker)).toBeLessThan(visible.indexOf('Digital Gym'));
    expect(email.text.split('\n')[0]).toBe(`--- ${replyMarker} ---`);
  });

  it('has one-tap buttons that open a prefilled reply to the personal address', () => {
    const links = hrefs(email.html)
      .filter((h) => h.startsWith('mailto:'))
      .map(mailto);
    expect(links).toEqual([
      { to: 'progress+t0k3n.abc@gym.example.gov.uk', subject: 'Done: week 3', body: 'done' },
      {
        to: 'progress+t0k3n.abc@gym.example.gov.uk',
        subject: 'Pause for a week',
        body: 'pause for 1 week',
      },
      {
        to: 'progress+t0k3n.abc@gym.example.gov.uk',
        subject: 'Too hard: week 3',
        body: 'too hard',
      },
      { to: 'progress+t0k3n.abc@gym.example.gov.uk', subject: 'Stop the programme', body: 'stop' },
    ]);
    // Percent-encoded, spaces as %20 (RFC 6068), and & escaped inside the attribute.
    expect(email.html).toContain(
      'href="mailto:progress+t0k3n.abc@gym.example.gov.uk?subject=Pause%20for%20a%20week&amp;body=pause%20for%201%20week"',
    );
    expect(email.html).toMatch(/>\s*Done\s*<\/a>/);
    expect(email.html).toMatch(/>\s*Pause a week\s*<\/a>/);
    expect(email.html).toMatch(/>\s*Too hard\s*<\/a>/);
  });

  it('has a visible unsubscribe link: the https page when there is one, else a mailto', () => {
    expect(email.html).toContain('<a href="https://gym.example.gov.uk/unsubscribe/t0k3n.abc"');
    expect(email.text).toContain('Unsubscribe: https://gym.example.gov.uk/unsubscribe/t0k3n.abc');

    const withoutPage = renderStep(programme, 3, 'kickoff', sampleContext(3), {
      ...sampleChrome,
      unsubscribeUrl: undefined,
    });
    const unsubscribe = hrefs(withoutPage.html).find((h) => h.includes('Unsubscribe'));
    expect(mailto(unsubscribe!)).toEqual({
      to: 'progress+t0k3n.abc@gym.example.gov.uk',
      subject: 'Unsubscribe',
      // Not "stop": that would end one programme, not all mail.
      body: 'unsubscribe',
    });
    expect(withoutPage.html).toMatch(/>Unsubscribe<\/a>/);
  });

  it('has no image without alt text, and rejects a trainer image without it', async () => {
    expect(email.html).not.toMatch(/<img(?![^>]*\balt="[^"]+")/);
    const withImage = await compileProgramme(
      withKickoff(
        (e) =>
          (e.tip = 'Look: ![A short letter, before and after](https://example.gov.uk/letter.png)'),
      ),
    );
    const html = renderStep(withImage, 1, 'kickoff', sampleContext(1), sampleChrome).html;
    expect(html).toContain(
      '<img src="https://example.gov.uk/letter.png" alt="A short letter, before and after"',
    );
    await expect(
      compileProgramme(
        withKickoff((e) => (e.tip = 'Look: ![](https://example.gov.uk/letter.png)')),
      ),
    ).rejects.toThrowErrorMatchingInlineSnapshot(`
      [GymError: programme "plain-english" has 1 template problem:
        programme "plain-english" week 1 step "kickoff" tip: the image https://example.gov.uk/letter.png has no alt text; write ![what it shows](https://example.gov.uk/letter.png)]
    `);
  });

  it('has a plain-text alternative written from the Markdown', () => {
    expect(email.text).toMatchInlineSnapshot(`
      "--- Reply above this line ---

      Digital Gym · Plain English for policy teams
      Week 3 of 12 · 2 assignments done

      WEEK 3: Short sentences, common words

      TIP

      Hello Priya. This week: short sentences, common words.

      Before you write, name the one reader who most needs this and what they must do next.

      EXAMPLE

      A team in Department for Examples rewrote a letter:

      - Before: "It should be noted that payment may be delayed."
      - After: "Your payment will be 2 weeks late."

      See the GOV.UK style guide (https://www.gov.uk/guidance/style-guide).

      THIS WEEK’S ASSIGNMENT: Rewrite one real email (week 3) (due Friday)

      Pick an email you sent last week. Rewrite its first paragraph so the reader knows in one sentence what to do.

      TELL US HOW IT WENT

      Reply to this email with "done", "pause for 1 week", "too hard" or a few words on how it went. Or use one of these links, which open a ready-made reply:

      Done: mailto:progress+t0k3n.abc@gym.example.gov.uk?subject=Done%3A%20week%203&body=done
      Pause a week: mailto:progress+t0k3n.abc@gym.example.gov.uk?subject=Pause%20for%20a%20week&body=pause%20for%201%20week
      Too hard: mailto:progress+t0k3n.abc@gym.example.gov.uk?subject=Too%20hard%3A%20week%203&body=too%20hard

      --
      You are getting this because you are enrolled on Plain English for policy teams.
      Reply "help" to see everything you can reply.
      Stop the programme: mailto:progress+t0k3n.abc@gym.example.gov.uk?subject=Stop%20the%20programme&body=stop
      Unsubscribe: https://gym.example.gov.uk/unsubscribe/t0k3n.abc
      "
    `);
  });

  it('renders a body-only step with the nudge layout', () => {
    const nudge = renderStep(programme, 3, 'nudge', sampleContext(3), sampleChrome);
    expect(nudge.subject).toBe('Still time for this week’s rewrite');
    expect(nudge.preheader).toBe('One paragraph is enough, Priya.');
    expect(nudge.html).toContain(
      'One paragraph is enough, Priya. Reply &quot;done&quot; when you have rewritten it.',
    );
    expect(nudge.html).not.toContain('<h2');
    expect(hrefs(nudge.html).filter((h) => h.startsWith('mailto:'))).toHaveLength(4);
  });

  it('stays well under the Gmail clipping size for the largest step we can build', async () => {
    const large = await compileProgramme(largestStepSequence());
    const rendered = renderStep(large, 1, 'kickoff', sampleContext(1), sampleChrome);
    expect(rendered.html).toContain('A long assignment');
    expect(Buffer.byteLength(rendered.html)).toBeGreaterThan(30 * 1024);
    expect(Buffer.byteLength(rendered.html)).toBeLessThan(90 * 1024);
  });
});

describe('learner-supplied values', () => {
  const hostile = ['<script>alert(1)</script>', `Sam "O'Neil" & Co`];

  it('are HTML-escaped in the HTML and left as they are in the text', async () => {
    const compiled = await compileProgramme(
      withKickoff((e) => (e.subject = 'Your week, {{ learner.first_name }}')),
    );
    const [script, quotes] = hostile.map((first_name) =>
      renderStep(compiled, 1, 'kickoff', sampleContext(1, { first_name }), sampleChrome),
    );
    expect(script!.html).not.toContain('<script>');
    expect(script!.html).toContain('Hello &lt;script&gt;alert(1)&lt;/script&gt;. This week');
    expect(script!.html).toContain(
      '<title>Your week, &lt;script&gt;alert(1)&lt;/script&gt;</title>',
    );
    expect(script!.text).toContain('Hello <script>alert(1)</script>. This week');
    expect(script!.subject).toBe('Your week, <script>alert(1)</script>');

    expect(quotes!.html).toContain('Hello Sam &#34;O&#39;Neil&#34; &amp; Co. This week');
    expect(quotes!.html).not.toContain(`Sam "O'Neil" & Co`);
    expect(quotes!.text).toContain(`Hello Sam "O'Neil" & Co. This week`);
  });

  it('cannot add a line to the subject', async () => {
    const compiled = await compileProgramme(
      withKickoff((e) => (e.subject = 'Your week, {{ learner.first_name }}')),
    );
    const rendered = renderStep(
      compiled,
      1,
      'kickoff',
      sampleContext(1, { first_name: 'Sam\r\nBcc: everyone@example.gov.uk\n' }),
      sampleChrome,
    );
    expect(rendered.subject).toBe('Your week, Sam Bcc: everyone@example.gov.uk');
    expect(rendered.subject).not.toMatch(/[\r\n]/);
  });

  it('cannot switch escaping off: the raw filter is rejected at compile time', async () => {
    await expect(
      compileProgramme(withKickoff((e) => (e.tip = 'Hi {{ learner.first_name | raw }}'))),
    ).rejects.toThrowErrorMatchingInlineSnapshot(`
      [GymError: programme "plain-english" has 1 template problem:
        programme "plain-english" week 1 step "kickoff" tip: {{ learner.first_name | raw }} uses the raw filter; values are always escaped, remove "| raw"]
    `);
  });
});

describe('strict variables', () => {
  it('reject an unknown variable at compile time, with every problem in one report', async () => {
    const sequence = withKickoff((e) => {
      e.tip = 'Hello {{ learner.nickname }}';
      e.subject = 'Week {{ wek.number }}';
    });
    sequence.weeks[1]!.manager_tip = 'Ask about {{ chrome.unsubscribe }}';
    const error = await compileProgramme(sequence).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GymError);
    expect((error as GymError).code).toBe('TEMPLATE_INVALID');
    expect((error as GymError).isUserError).toBe(true);
    expect((error as GymError).message).toMatchInlineSnapshot(`
      "programme "plain-english" has 3 template problems:
        programme "plain-english" week 1 step "kickoff" subject: unknown variable wek.number (known: learner.first_name, learner.last_name, learner.email, learner.role, learner.organisation, manager.name, manager.first_name, manager.email, week.number, week.theme, week.total, programme.id, programme.title)
        programme "plain-english" week 1 step "kickoff" tip: unknown variable learner.nickname (known: learner.first_name, learner.last_name, learner.email, learner.role, learner.organisation, manager.name, manager.first_name, manager.email, week.number, week.theme, week.total, programme.id, programme.title)
        programme "plain-english" week 2 manager_tip: unknown variable chrome.unsubscribe (known: learner.first_name, learner.last_name, learner.email, learner.role, learner.organisation, manager.name, manager.first_name, manager.email, week.number, week.theme, week.total, programme.id, programme.title)"
    `);
  });

  it('throw a clear error at render time when the recipient lacks a value', () => {
    const context = sampleContext(3);
    const { first_name: _dropped, ...learner } = context.learner;
    const incomplete = { ...context, learner } as unknown as typeof context;
    const error = (() => {
      try {
        return renderStep(programme, 3, 'kickoff', incomplete, sampleChrome);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(GymError);
    expect((error as GymError).code).toBe('RENDER_FAILED');
    expect((error as GymError).message).toMatchInlineSnapshot(
      `"could not fill programme "plain-english" week 3 step "kickoff" HTML: undefined variable: learner.first_name; the recipient's values are incomplete"`,
    );
  });

  it('report an unknown step', () => {
    expect(() => renderStep(programme, 3, 'kickof', sampleContext(3), sampleChrome)).toThrow(
      'programme "plain-english" has no step "kickof" in week 3',
    );
    expect(() => renderStep(programme, 3, 'practice', sampleContext(3), sampleChrome)).toThrow(
      'week 3 step "practice" is an invite; use renderInvite',
    );
  });
});

describe('per-recipient fill', () => {
  it('never runs MJML: 1,000 recipients after one compile', () => {
    const runs = mjmlRunCount();
    expect(runs).toBeGreaterThanOrEqual(26); // the programme's 24 step emails, welcome and end
    const outputs = Array.from({ length: 1000 }, (_, i) =>
      renderStep(
        programme,
        3,
        'kickoff',
        sampleContext(3, { first_name: `Learner${i}` }),
        sampleChrome,
      ),
    );
    expect(mjmlRunCount()).toBe(runs);
    expect(new Set(outputs.map((o) => o.html)).size).toBe(1000);
    expect(outputs.findIndex((o, i) => !o.html.includes(`Hello Learner${i}. This week`))).toBe(-1);
  });

  it('is synchronous', () => {
    const result: unknown = renderStep(programme, 3, 'kickoff', sampleContext(3), sampleChrome);
    expect(result).not.toBeInstanceOf(Promise);
    expect(typeof (result as { then?: unknown }).then).toBe('undefined');
  });
});

describe('other programme emails', () => {
  it('welcome: the programme, how it works, the twelve themes', () => {
    const welcome = renderWelcome(programme, sampleContext(1), sampleChrome);
    expect(welcome.subject).toBe('Welcome to Plain English for policy teams');
    expect(welcome.html).toContain('Welcome, Priya</h1>');
    expect(welcome.html).toContain(
      'Twelve weeks of <strong>small rewrites</strong> of your own work',
    );
    expect(welcome.html).toContain(
      'Your manager, Alex Morgan, gets a short summary every two weeks',
    );
    expect(welcome.text).toContain('"too hard" when you are stuck, "help" with any question');
    expect(welcome.text).toContain('Practice slots arrive as calendar invitations');
    expect(welcome.text).toContain('Your trainer reads your replies');
    expect(welcome.text).toContain('12. Keeping the habit');
    expect(welcome.html).not.toContain('Week 1 of 12');
  });

  it('welcome: names the trainer when the programme does', async () => {
    const named = await compileProgramme({
      ...sampleSequence(),
      trainer: { name: 'Robin Shaw', email: 'robin.shaw@example.gov.uk' },
    });
    const welcome = renderWelcome(named, sampleContext(1), sampleChrome);
    expect(welcome.text).toContain(
      'Your trainer is Robin Shaw (robin.shaw@example.gov.uk), who reads your replies',
    );
    expect(welcome.html).toContain('Your trainer is Robin Shaw (robin.shaw@example.gov.uk)');
  });

  it('programme end: the count of assignments done', () => {
    const end = renderProgrammeEnd(programme, sampleContext(12), {
      ...sampleChrome,
      assignmentsDone: 9,
    });
    expect(end.subject).toBe('You have finished Plain English for policy teams');
    expect(end.html).toContain('You did 9 of the 12 assignments.');
    expect(end.html).toContain('Week 12 of 12 · 9 assignments done');
    expect(end.html).not.toContain('Stop the programme');
    expect(end.text).toContain('WHAT NEXT');
  });

  it('programme end: the learner’s own words, and nothing done said plainly', () => {
    const end = renderProgrammeEnd(
      programme,
      sampleContext(12),
      { ...sampleChrome, assignmentsDone: 0 },
      {
        reflections: [
          { week: 4, text: 'First one.' },
          { week: 8, text: 'Shorter sentences got <b>replies</b>.' },
          { week: 12, text: 'I rewrite\nevery email now.' },
          { week: 12, text: 'Four is quoted; the first is not.' },
        ],
      },
    );
    expect(end.text).toContain(
      'You did not tell us you had done any of the 12 assignments and sent 4 reflections.',
    );
    expect(end.text).not.toContain('First one.');
    expect(end.text).toContain('> I rewrite\n> every email now.\n(week 12)');
    // The learner's words are theirs, escaped in the HTML like every learner value.
    expect(end.html).toContain('Shorter sentences got &lt;b&gt;replies&lt;/b&gt;.');
  });

  it('invite: title and a plain-text description', () => {
    expect(renderInvite(programme, 3, 'practice', sampleContext(3))).toEqual({
      title: 'Practice: short sentences, common words',
      description:
        "30 minutes for this week's assignment, Priya.\n\n1. Open the email you chose.\n2. Rewrite the first paragraph.",
      location: 'At your desk',
    });
  });

  it('manager tips for the coming fortnight, filled for the learner', () => {
    expect(renderManagerTips(programme, sampleContext(3))).toEqual([
      'Ask Priya to show you one thing they rewrote this week (short sentences, common words).',
      'Ask Priya to show you one thing they rewrote this week (headings that do the work).',
    ]);
    expect(renderManagerTips(programme, sampleContext(12))).toHaveLength(1);
  });
});
