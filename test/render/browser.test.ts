import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  compileLayouts,
  compileProgramme,
  renderManagerDigest,
  renderStep,
  renderWelcome,
  replyMarker,
  type RenderedEmail,
} from '../../src/render/index.js';
import { sampleChrome, sampleContext, sampleSequence } from '../fixtures/sample-sequence.js';
import { launchChromium } from '../helpers/browser.js';
import { describeWithServers, missingServers } from '../helpers/servers.js';
import { team } from './digest-fixtures.js';

/**
 * The rendered emails in a real browser engine (Debian's Chromium): what a webmail client or
 * Apple Mail shows. Skipped where Chromium is missing, except in CI (GYM_REQUIRE_REAL_SERVERS=1).
 */

let browser: Browser;
const emails: Record<string, RenderedEmail> = {};

beforeAll(async () => {
  if (missingServers(['chromium']).length > 0) return;
  const programme = await compileProgramme(sampleSequence());
  const layouts = await compileLayouts();
  emails.step = renderStep(programme, 3, 'kickoff', sampleContext(3), sampleChrome);
  emails.welcome = renderWelcome(programme, sampleContext(1), sampleChrome);
  emails.digest = renderManagerDigest(layouts, team(60), sampleChrome);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

async function open(email: RenderedEmail, width: number): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 800 } });
  // No network: an email that needs a fetch to look right is broken in most clients.
  await page.route('**/*', (route) => route.abort());
  await page.setContent(email.html, { waitUntil: 'load' });
  return page;
}

// The checks below run inside the page, so they are plain JavaScript: the project compiles
// without the DOM library, and these are the only lines that would need it.

/** The lowest WCAG contrast ratio of any visible text against the background behind it. */
const lowestContrastInPage = `(() => {
  const channel = (c) => { const s = c / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
  const rgb = (css) => (css.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r = 0, g = 0, b = 0]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const [r, g, b, a = 1] = rgb(getComputedStyle(e).backgroundColor);
      if (a > 0 && r !== undefined) return [r, g, b];
    }
    return [255, 255, 255];
  };
  let lowest = { ratio: 21, text: '' };
  for (const element of document.body.querySelectorAll('*')) {
    const own = [...element.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    const box = element.getBoundingClientRect();
    if (!own || box.width === 0 || box.height === 0 || getComputedStyle(element).visibility === 'hidden') continue;
    const [l1, l2] = [luminance(rgb(getComputedStyle(element).color)), luminance(background(element))].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    if (ratio < lowest.ratio) lowest = { ratio, text: element.textContent.trim().slice(0, 40) };
  }
  return lowest;
})()`;

/** What a reader meets first, and whether anything sticks out sideways. */
const layoutInPage = `({
  lang: document.documentElement.lang,
  overflow: document.documentElement.scrollWidth - window.innerWidth,
  firstLine: document.body.innerText.trim().split('\\n')[0],
  images: document.images.length,
})`;

describeWithServers(['chromium'], 'in a browser', () => {
  it.each([
    ['step', 375],
    ['step', 800],
    ['welcome', 375],
    ['digest', 375],
    ['digest', 800],
  ])(
    'the %s email at %ipx fits the screen, starts with the marker, and has readable contrast',
    async (name, width) => {
      const page = await open(emails[name]!, width);
      try {
        const layout = await page.evaluate<unknown>(layoutInPage);
        expect(layout).toEqual({
          lang: 'en-GB',
          overflow: 0,
          firstLine: `--- ${replyMarker} ---`,
          images: 0,
        });
        const contrast = await page.evaluate<{ ratio: number; text: string }>(lowestContrastInPage);
        expect(contrast.ratio, `"${contrast.text}"`).toBeGreaterThanOrEqual(4.5);
      } finally {
        await page.close();
      }
    },
  );

  it('shows the one-tap buttons as large, named links', async () => {
    for (const width of [375, 800]) {
      const page = await open(emails.step!, width);
      try {
        for (const name of ['Done', 'Pause a week', 'Too hard']) {
          const button = page.getByRole('link', { name, exact: true });
          await expect(button.isVisible()).resolves.toBe(true);
          const box = await button.boundingBox();
          // WCAG 2.5.5: a target of at least 44 by 44 CSS pixels.
          expect(box!.height).toBeGreaterThanOrEqual(44);
          expect(box!.width).toBeGreaterThanOrEqual(44);
          expect(await button.getAttribute('href')).toMatch(
            /^mailto:progress\+t0k3n\.abc@gym\.example\.gov\.uk\?subject=/,
          );
        }
      } finally {
        await page.close();
      }
    }
  });
});
