import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { templateContext } from '../../src/render/context.js';
import { compileProgramme, renderStep, type RenderedEmail } from '../../src/render/index.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';
import { artefactPath, launchChromium } from '../helpers/browser.js';
import { describeWithServers, missingServers } from '../helpers/servers.js';

/**
 * A cy+en learner's week-3 email in a real browser engine (#15): Welsh first, each part marked
 * with its language so that a screen reader switches voice, and a link at the top that jumps
 * to the English. The screenshot is left in test-results/ for a person to look at.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
let browser: Browser;
let email: RenderedEmail;

beforeAll(async () => {
  if (missingServers(['chromium']).length > 0) return;
  const [loaded] = loadSequenceFiles(['test/fixtures/sequences/bilingual/bilingual.yaml'], root);
  if (!loaded?.ok) throw new Error('the bilingual fixture does not load');
  const programme = await compileProgramme(loaded.sequence, { language: 'cy+en' });
  const context = templateContext(
    loaded.sequence,
    3,
    { first_name: 'Elin', last_name: 'Hughes', email: 'elin.hughes@sir.example.gov.uk' },
    { name: 'Rhys Evans', email: 'rhys.evans@sir.example.gov.uk' },
  );
  email = renderStep(programme, 3, 'kickoff', context, {
    replyAddress: 'progress+t0k3n@gym.example.gov.uk',
    unsubscribeUrl: 'https://gym.example.gov.uk/unsubscribe/t0k3n',
    assignmentsDone: 2,
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

// Runs inside the page: plain JavaScript (the project compiles without the DOM library).
const languagesInPage = `(() => {
  const html = document.documentElement.getAttribute('lang');
  const parts = [...document.querySelectorAll('div[class^="lang-"][lang]')].map((e) => ({
    lang: e.getAttribute('lang'),
    id: e.id,
    heading: (e.querySelector('h1') || {}).textContent || '',
    top: e.getBoundingClientRect().top,
  }));
  const link = document.querySelector('a[href="#en"]');
  return { html, parts, link: link && link.textContent, linkTop: link && link.getBoundingClientRect().top };
})()`;

describeWithServers(['chromium'], 'a bilingual email in Chromium', () => {
  it('shows the Welsh part above the English, each with its lang, and jumps to the English', async () => {
    expect(email.subject).toBe('Wythnos 3 / Week 3: darllen cyn postio / read before you post');
    const page = await browser.newPage({ viewport: { width: 600, height: 900 } });
    await page.route('**/*', (route) => route.abort());
    await page.setContent(email.html, { waitUntil: 'load' });
    await page.screenshot({ path: artefactPath('bilingual-week-3.png'), fullPage: true });

    const dom = await page.evaluate<{
      html: string;
      parts: { lang: string; id: string; heading: string; top: number }[];
      link: string;
      linkTop: number;
    }>(languagesInPage);
    expect(dom.html).toBe('cy');
    const [welsh, english, ...rest] = dom.parts.filter((p) => p.heading !== '');
    expect(rest).toEqual([]);
    expect(welsh).toMatchObject({ lang: 'cy', heading: 'Wythnos 3: Darllen cyn postio' });
    expect(english).toMatchObject({
      lang: 'en-GB',
      id: 'en',
      heading: 'Week 3: Read before you post',
    });
    expect(welsh!.top).toBeLessThan(english!.top);
    // The switch link is at the top, above the Welsh, and leads to the English part.
    expect(dom.link).toBe('Darllenwch yr e-bost hwn yn Saesneg / Read this email in English');
    expect(dom.linkTop).toBeLessThan(welsh!.top);
    await page.click('a[href="#en"]');
    await page.waitForFunction('location.hash === "#en"');
    await page.close();
  });
});
