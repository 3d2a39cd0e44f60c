import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gymServerStore } from '../../src/db/unsubscribe-store.js';
import { startGymServer, type GymServer } from '../../src/http/gym-server.js';
import { signReplyToken, signUnsubscribeToken } from '../../src/mail/tokens.js';
import { testBackends } from '../helpers/backends.js';
import { cohortHeader, cohortRow, learnerState, mail, openGym, type Gym } from './helpers.js';

/**
 * The one-click unsubscribe endpoint with forged, altered and borrowed tokens, and odd requests:
 * every one gets a 4xx and unsubscribes nobody. (test/http/unsubscribe.test.ts covers an altered
 * last character, another secret and a short token; these are the rest.)
 */

const learners = ['ana.lopez@example.gov.uk', 'ben.cole@example.gov.uk'];
const cohort = [
  cohortHeader,
  cohortRow(learners[0]!, 'Ana', 'Lopez'),
  cohortRow(learners[1]!, 'Ben', 'Cole'),
  '',
].join('\n');

/** A request with the path exactly as given (fetch would normalise it). */
function send(
  url: string,
  method: string,
  path: string,
  body = 'List-Unsubscribe=One-Click',
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port,
        method,
        path,
        // A connection each: no reuse of a socket the server has closed after a refusal.
        agent: false,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(method === 'GET' || method === 'HEAD' ? undefined : body);
  });
}

describe.each(testBackends())('forged one-click unsubscribes on $name', (backend) => {
  let gym: Gym;
  let server: GymServer;
  let ids: number[];
  let before: Awaited<ReturnType<typeof learnerState>>[];

  const states = () => Promise.all(learners.map((email) => learnerState(gym, email)));

  beforeAll(async () => {
    gym = await openGym(backend, cohort);
    ids = (
      await gym.database.db
        .selectFrom('learners')
        .select('id')
        .where('email', 'in', learners)
        .orderBy('email')
        .execute()
    ).map((row) => row.id);
    server = await startGymServer({
      store: gymServerStore(gym.database.db),
      secret: mail.secret,
      host: '127.0.0.1',
      port: 0,
      now: () => new Date('2027-01-05T10:00:00Z'),
      log: { info: () => {}, error: () => {} },
    });
    before = await states();
    for (const state of before)
      expect(state).toMatchObject({ learner: 'active', enrolment: 'active' });
  });
  afterAll(async () => {
    await server?.close();
    await gym?.close();
  });

  it('refuses tokens of the right format with a bad MAC, another purpose, or no such learner', async () => {
    const forged: string[] = [];
    for (const id of ids) {
      const genuine = signUnsubscribeToken(mail.secret, { learnerId: id });
      const mac = genuine.slice(-16);
      // Every position of the MAC changed, one at a time.
      for (let i = 0; i < mac.length; i++) {
        const swapped = mac[i] === 'a' ? 'b' : 'a';
        forged.push(`${genuine.slice(0, -16)}${mac.slice(0, i)}${swapped}${mac.slice(i + 1)}`);
      }
      // The MAC of one learner on the id of the other.
      const other = ids.find((x) => x !== id)!;
      forged.push(`1${other.toString(36)}${mac}`);
      // A reply token is signed for another purpose: never an unsubscribe token.
      forged.push(signReplyToken(mail.secret, { deliveryId: id }));
      // A non-canonical id (leading zero) with the genuine MAC.
      forged.push(`10${id.toString(36)}${mac}`);
      // An unknown version.
      forged.push(`2${genuine.slice(1)}`);
    }
    // A genuine signature for a learner who does not exist.
    forged.push(signUnsubscribeToken(mail.secret, { learnerId: 999_999 }));
    // An id past the safe integers, and a very long token.
    forged.push(`1${'z'.repeat(12)}${'a'.repeat(16)}`);
    forged.push(`1${'1'.repeat(10_000)}${'a'.repeat(16)}`);
    for (const token of forged) {
      const response = await send(server.url, 'POST', `/unsubscribe/${token}`);
      expect(response.status, token).toBe(400);
      expect(response.body).toContain('Nothing was changed');
    }
    expect(await states()).toEqual(before);
  });

  it('refuses odd paths and methods with the genuine token, and changes nothing', async () => {
    const genuine = signUnsubscribeToken(mail.secret, { learnerId: ids[0]! });
    const forged = signUnsubscribeToken('another-secret-of-at-least-32-characters', {
      learnerId: ids[1]!,
    });
    const cases: [string, string][] = [
      ['PUT', `/unsubscribe/${genuine}`],
      ['DELETE', `/unsubscribe/${genuine}`],
      ['PATCH', `/unsubscribe/${genuine}`],
      ['POST', `/unsubscribe/${forged}?token=${genuine}`],
      ['POST', `/unsubscribe/${forged}#${genuine}`],
      ['POST', `/unsubscribe/${genuine}/extra`],
      ['POST', `/unsubscribe/${genuine}%00`],
      ['POST', `/unsubscribe/%31${genuine.slice(1)}`],
      ['POST', `/unsubscribe/${genuine.slice(0, 5)}%0d%0aX-Injected:%201${genuine.slice(5)}`],
      ['POST', `/unsubscribe/../unsubscribe/${forged}`],
      ['POST', `/unsubscribe/`],
      ['POST', `//unsubscribe/${genuine}`],
    ];
    for (const [method, path] of cases) {
      const response = await send(server.url, method, path).catch((e: unknown) => {
        throw new Error(`${method} ${path}: ${String(e)}`);
      });
      expect(response.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(response.status, `${method} ${path}`).toBeLessThan(500);
    }
    expect(await states()).toEqual(before);
  });

  it('refuses random tokens (fast-check), and changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.stringMatching(/^1[0-9a-z]{1,6}[a-z2-7]{16}$/),
          fc.string({ minLength: 1, maxLength: 40, unit: 'binary-ascii' }).map(encodeURIComponent),
        ),
        async (token) => {
          const response = await send(server.url, 'POST', `/unsubscribe/${token}`);
          expect([400, 404], token).toContain(response.status);
        },
      ),
      { numRuns: 60 },
    );
    expect(await states()).toEqual(before);
  });
});
