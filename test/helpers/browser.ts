import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium: no browser download (they fail on our machines). */
export const chromiumPath = '/usr/bin/chromium';

/**
 * True where the browser tests can run. Under GYM_REQUIRE_REAL_SERVERS=1 (CI) it is always true,
 * so a missing Chromium fails the run instead of leaving the tests out.
 */
export const browserAvailable =
  existsSync(chromiumPath) || process.env.GYM_REQUIRE_REAL_SERVERS === '1';

export function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} is missing: apt-get install -y chromium (CI's .ci/run does)`);
  }
  // Playwright gives the browser a fresh, throwaway profile of its own.
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Where tests leave screenshots for people to look at (kept out of git). */
export function artefactPath(name: string): string {
  const dir = fileURLToPath(new URL('../../test-results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  return `${dir}${name}`;
}
