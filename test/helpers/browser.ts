import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { onPath } from './servers.js';

/** Debian's Chromium, as found on PATH: no browser download (they fail on our machines). */
export function launchChromium(): Promise<Browser> {
  const chromiumPath = onPath('chromium');
  if (chromiumPath === undefined) {
    throw new Error("chromium is not on PATH: apt-get install -y chromium (CI's .ci/run does)");
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
