import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPreviewServer, type PreviewServer } from '../../src/http/preview-server.js';
import { defaultSample } from '../../src/preview/sample-learner.js';

// #15: a trainer previews a bilingual programme in each language a learner can get it in, with
// a switch on the page and `?lang=` on every link, over real HTTP.
describe('gym preview in each language', () => {
  let server: PreviewServer;
  const folder = mkdtempSync(join(tmpdir(), 'gym-preview-cy-'));

  beforeAll(async () => {
    for (const name of ['digital-foundations.yaml', 'social-media-for-comms.yaml'])
      cpSync(new URL(`../../sequences/${name}`, import.meta.url), join(folder, name));
    server = await startPreviewServer({
      paths: [folder],
      sample: { ...defaultSample, starts_on: '2027-01-04' },
      replyAddress: 'progress@gym.example.gov.uk',
      now: () => new Date('2026-12-01T10:00:00Z'),
      log: { info: () => {}, error: () => {} },
    });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  const get = async (path: string) => {
    const response = await fetch(`${server.url}${path}`);
    return { status: response.status, body: await response.text() };
  };

  it('opens a bilingual programme in its first language, with a switch to the others', async () => {
    const page = await get('/p/digital-foundations');
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<nav class="languages" aria-label="Language">/);
    expect(page.body).toContain('<strong aria-current="page" lang="cy">Cymraeg (cy)</strong>');
    expect(page.body).toContain('href="/p/digital-foundations?lang=en"');
    expect(page.body).toContain('href="/p/digital-foundations?lang=cy%2Ben"');
    expect(page.body).toContain('src="/p/digital-foundations/w01-kickoff.html?lang=cy"');
    expect(page.body).toContain('✉ Wythnos 1');
  });

  it('shows every email in English with ?lang=en', async () => {
    const page = await get('/p/digital-foundations?lang=en');
    expect(page.body).toContain('<strong aria-current="page" lang="en-GB">English (en)</strong>');
    expect(page.body).toContain('✉ Week 1');
    expect(page.body).not.toContain('✉ Wythnos 1');
    const email = await get('/p/digital-foundations/w01-kickoff.html?lang=en');
    expect(email.body).toMatch(/<html[^>]* lang="en-GB"/);
    expect(email.body).not.toContain('Wythnos');
  });

  it('shows both, Welsh first, with ?lang=cy+en (encoded or not)', async () => {
    for (const query of ['cy%2Ben', 'cy+en']) {
      const page = await get(`/p/digital-foundations?lang=${query}`);
      expect(page.body, query).toContain('✉ Wythnos 1 / Week 1');
    }
    const email = await get('/p/digital-foundations/w01-kickoff.html?lang=cy%2Ben');
    expect(email.body).toMatch(/<html[^>]* lang="cy"/);
    expect(email.body).toContain('lang="en-GB"');
    const invite = await get('/p/digital-foundations/w01-practice.ics?lang=cy%2Ben');
    expect(invite.body).toContain("SUMMARY:Campfa Ddigidol: o ble ydw i'n dechrau? / Digital Gym");
  });

  it('says which languages a programme has when asked for another', async () => {
    const page = await get('/p/digital-foundations?lang=de');
    expect(page.status).toBe(404);
    expect(page.body).toBe(
      'programme "digital-foundations" is not in language "de"; it offers cy, en, cy+en (e.g. ?lang=cy)\n',
    );
    expect((await get('/p/social-media-for-comms?lang=cy')).status).toBe(404);
  });

  it('shows no switch for an English-only programme', async () => {
    const page = await get('/p/social-media-for-comms');
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('class="languages"');
    expect(page.body).toContain('src="/p/social-media-for-comms/w01-kickoff.html"');
  });
});
