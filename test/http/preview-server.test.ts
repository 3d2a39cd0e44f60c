import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startPreviewServer, type PreviewServer } from '../../src/http/preview-server.js';
import { defaultSample } from '../../src/preview/sample-learner.js';
import { artefactPath, launchChromium } from '../helpers/browser.js';
import { describeWithServers } from '../helpers/servers.js';

/**
 * The trainer's preview page in a real browser: the twelve weeks of a shipped programme for the
 * sample learner, and a page that reloads itself when the trainer saves the file.
 */
describeWithServers(['chromium'], 'gym preview in Chromium', () => {
  let browser: Browser;
  let server: PreviewServer;
  let page: Page;
  const logged: string[] = [];
  const folder = mkdtempSync(join(tmpdir(), 'gym-preview-'));
  const file = join(folder, 'social-media-for-comms.yaml');

  beforeAll(async () => {
    cpSync(new URL('../../sequences/social-media-for-comms.yaml', import.meta.url), file);
    server = await startPreviewServer({
      paths: [folder],
      sample: { ...defaultSample, starts_on: '2027-01-04' },
      replyAddress: 'progress@gym.example.gov.uk',
      now: () => new Date('2026-12-01T10:00:00Z'),
      log: {
        info: (_, message) => logged.push(message),
        error: (_, message) => logged.push(message),
      },
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists the programmes found', async () => {
    await page.goto(server.url);
    await expect(
      page
        .getByRole('link', { name: 'Social media for communications and press officers' })
        .count(),
    ).resolves.toBe(1);
  });

  it('shows the twelve weeks with every email, text version, invite and manager tip', async () => {
    await page.goto(`${server.url}/p/social-media-for-comms`);
    const weeks = page.locator('section.week[id^="week-"]');
    await expect(weeks.count()).resolves.toBe(12);
    await expect(weeks.first().locator('h2').textContent()).resolves.toBe(
      'Week 1: Clear the way, then listen',
    );
    // Every week: a kickoff email, a practice invite and a manager tip naming the learner.
    await expect(page.locator('article.invite').count()).resolves.toBe(12);
    await expect(page.locator('.manager-tip').first().textContent()).resolves.toContain('Sam');
    const kickoff = page.locator('#w1-kickoff');
    await expect(kickoff.locator('.meta').textContent()).resolves.toContain(
      'Mon 4 Jan 2027, 09:00 (Europe/London)',
    );
    await expect(kickoff.locator('pre').textContent()).resolves.toContain('Reply above this line');
    // The email itself, as the learner's mail client shows it, in its frame.
    const frame = page.frameLocator('#w1-kickoff iframe');
    await expect(
      frame.getByRole('link', { name: 'Done', exact: true }).getAttribute('href'),
    ).resolves.toMatch(/^mailto:progress\+preview@gym\.example\.gov\.uk\?subject=/);
    const body = await frame.locator('body').textContent();
    expect(body).toContain('Welcome to Social media for communications and press officers.');
    expect(body).toContain('Week 1 of 12');
    await page.screenshot({ path: artefactPath('preview-programme.png') });
  });

  it('shows when the welcome, the manager introduction and the programme-end email go (#14)', async () => {
    await page.goto(`${server.url}/p/social-media-for-comms`);
    const text = (id: string) => page.locator(`section#${id} p.when`).allTextContents();
    // Week 1 from Monday 4 January: the working day before it (holidays apply only on enrolment).
    await expect(text('welcome')).resolves.toEqual([
      'Welcome email: Fri 1 Jan 2027, 09:00 (Europe/London) (the working day before week 1, or the learner’s next morning if enrolled later)',
      'Manager introduction: Fri 1 Jan 2027, 08:00 (Europe/London) (before the first digest)',
    ]);
    await expect(text('end')).resolves.toEqual([
      'Programme-end email: Mon 29 Mar 2027, 09:00 (Europe/London)',
    ]);
  });

  it('serves each invite as iCalendar with METHOD:REQUEST', async () => {
    const response = await fetch(`${server.url}/p/social-media-for-comms/w01-practice.ics`);
    expect(response.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
    const ics = await response.text();
    expect(ics).toContain('METHOD:REQUEST');
    expect(ics).toContain('ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE');
  });

  it('reloads by itself when the trainer saves a change, and shows mistakes with file:line:col', async () => {
    await page.goto(`${server.url}/p/social-media-for-comms`);
    const original = readFileSync(file, 'utf8');

    let reloaded = page.waitForEvent('load');
    writeFileSync(
      file,
      original.replace('theme: "Clear the way, then listen"', 'theme: "Start by listening"'),
    );
    await reloaded;
    await expect(page.locator('#week-1 h2').textContent()).resolves.toBe(
      'Week 1: Start by listening',
    );

    reloaded = page.waitForEvent('load');
    writeFileSync(file, original.replace('day: wed', 'day: wedn'));
    await reloaded;
    const problems = page.locator('.problems li');
    await expect(problems.first().textContent()).resolves.toMatch(
      /social-media-for-comms\.yaml:\d+:\d+ week 1: step "practice": unknown day "wedn"/,
    );
    await page.screenshot({ path: artefactPath('preview-problems.png') });
    expect(logged).toContain('preview reloaded');
  });
});
