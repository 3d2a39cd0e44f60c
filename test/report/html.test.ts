import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { computeReport } from '../../src/report/compute.js';
import { renderHtml } from '../../src/report/render-html.js';
import { artefactPath, launchChromium } from '../helpers/browser.js';
import { describeWithServers } from '../helpers/servers.js';
import { sampleData, script } from './fixtures.js';

/**
 * The HTML report in a real browser engine (Debian's Chromium), opened from a file as a trainer
 * would open an attachment: the charts draw, nothing is fetched, nothing runs. Skipped where
 * Chromium is missing, except in CI (GYM_REQUIRE_REAL_SERVERS=1). The screenshot is left in
 * test-results/ for people to look at.
 */

describeWithServers(['chromium'], 'the HTML report in Chromium', () => {
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const dialogs: string[] = [];
  const file = artefactPath('report.html');
  const url = pathToFileURL(file).href;

  beforeAll(async () => {
    writeFileSync(file, renderHtml(computeReport(sampleData())));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('request', (request) => requests.push(request.url()));
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(url, { waitUntil: 'load' });
    await page.screenshot({ path: artefactPath('report.png'), fullPage: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('fetches nothing but the file itself', () => {
    expect(requests.filter((r) => r !== url)).toEqual([]);
  });

  it('draws a funnel per programme, one bar per week, and a bar per manager', async () => {
    const funnels = page.locator('svg.funnel');
    expect(await funnels.count()).toBe(2);
    await expect.poll(() => funnels.nth(0).isVisible()).toBe(true);
    await expect.poll(() => funnels.nth(1).isVisible()).toBe(true);
    expect(await funnels.nth(0).locator('rect.bar').count()).toBe(12);
    expect(await funnels.nth(1).locator('rect.bar').count()).toBe(3);
    // Programme A, week 1: 2 of 5 learners, two fifths of the 150-pixel plot.
    expect(await funnels.nth(0).locator('rect.bar').nth(0).getAttribute('height')).toBe('60.0');
    const firstBar = await funnels.nth(0).locator('rect.bar').nth(0).boundingBox();
    expect(firstBar?.height).toBeGreaterThan(50);

    const managers = page.locator('svg.managers');
    expect(await managers.isVisible()).toBe(true);
    expect(await managers.locator('rect.bar').count()).toBe(2);
    expect(await managers.locator('rect.track').count()).toBe(2);
  });

  it('titles every chart and puts its numbers in a table too', async () => {
    for (const svg of await page.locator('svg').all()) {
      expect(await svg.getAttribute('role')).toBe('img');
      expect((await svg.locator(':scope > title').textContent())?.length).toBeGreaterThan(10);
    }
    const funnelTable = page.getByRole('table', {
      name: /Learners who have done each week \(of 5\)/,
    });
    expect(await funnelTable.locator('tbody td').allTextContents()).toEqual([
      '2',
      '1',
      '1',
      ...Array<string>(9).fill('0'),
    ]);
    expect(await page.locator('html').getAttribute('lang')).toBe('en-GB');
  });

  it('shows a learner called <script>alert(1)</script> as text, and runs nothing', async () => {
    await expect
      .poll(() => page.getByRole('rowheader', { name: `${script} Gus` }).isVisible())
      .toBe(true);
    expect(await page.locator('script').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });
});
