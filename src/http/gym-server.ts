import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Fault } from '../engine/health.js';
import { GymError, messageOf } from '../errors.js';
import { verifyManagerUnsubscribeToken, verifyUnsubscribeToken } from '../mail/tokens.js';
import {
  htmlLang,
  languagesOf,
  type Language,
  type LanguagePreference,
} from '../language/languages.js';

/** What the endpoints need from storage; `src/db/unsubscribe-store.ts` implements it. */
export interface GymServerStore {
  /**
   * Stops all mail to the learner: marks the address unsubscribed, stops open enrolments and
   * cancels what was still to be sent. Idempotent. Undefined when there is no such learner.
   */
  unsubscribe(
    learnerId: number,
    now: Date,
    how?: 'one_click' | 'link_confirm',
  ): Promise<{ cancelled: number } | undefined>;
  /**
   * Stops a manager's digests, and nothing else (their people's programmes go on). Idempotent.
   * False when there is no such manager.
   */
  unsubscribeManager(
    managerId: number,
    now: Date,
    how: 'one_click' | 'link_confirm',
  ): Promise<boolean>;
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  /** The person's language (#15), so that the pages speak it; English when absent. */
  languageOf?(who: { learnerId: number } | { managerId: number }): Promise<LanguagePreference>;
}

export interface GymServerLog {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface GymServerOptions {
  readonly store: GymServerStore;
  readonly secret: string;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly now: () => Date;
  readonly log: GymServerLog;
  /** What the worker knows is failing now (the relay, the mailbox): /healthz answers 503 then. */
  readonly health?: () => readonly Fault[];
}

export interface GymServer {
  readonly url: string;
  close(): Promise<void>;
}

/** The pages' words, per language (#15). */
const pageText: Record<
  Language,
  {
    confirmLearner: [string, string];
    confirmManager: [string, string];
    button: string;
    doneLearner: [string, string];
    doneManager: [string, string];
  }
> = {
  en: {
    confirmLearner: [
      'Unsubscribe from Digital Gym?',
      'You will get no more emails or calendar invites from Digital Gym.',
    ],
    confirmManager: [
      'Stop the Digital Gym digests?',
      'You will get no more fortnightly digests about your team. Their programmes go on.',
    ],
    button: 'Unsubscribe',
    doneLearner: [
      'You are unsubscribed',
      'You will get no more emails or invites from Digital Gym. Thank you for taking part.',
    ],
    doneManager: [
      'You are unsubscribed',
      'You will get no more digests from Digital Gym. Your team’s programmes carry on.',
    ],
  },
  cy: {
    confirmLearner: [
      'Dad-danysgrifio o Digital Gym?',
      'Fyddwch chi ddim yn cael rhagor o e-byst na gwahoddiadau calendr gan Digital Gym.',
    ],
    confirmManager: [
      'Atal crynodebau Digital Gym?',
      'Fyddwch chi ddim yn cael rhagor o grynodebau pythefnosol am eich tîm. Mae eu rhaglenni’n parhau.',
    ],
    button: 'Dad-danysgrifio',
    doneLearner: [
      'Rydych wedi dad-danysgrifio',
      'Fyddwch chi ddim yn cael rhagor o e-byst na gwahoddiadau gan Digital Gym. Diolch am gymryd rhan.',
    ],
    doneManager: [
      'Rydych wedi dad-danysgrifio',
      'Fyddwch chi ddim yn cael rhagor o grynodebau gan Digital Gym. Mae rhaglenni eich tîm yn parhau.',
    ],
  },
};

type PageKey = 'confirmLearner' | 'confirmManager' | 'doneLearner' | 'doneManager';

/** A page in the person's language: each language's title and paragraph, Welsh first. */
function pageIn(language: LanguagePreference, key: PageKey, form = ''): string {
  const list = languagesOf(language);
  const attr = (l: Language) => (l === 'en' ? 'en-GB' : l);
  const title = list.map((l) => pageText[l][key][0]).join(' / ');
  const body = list.map((l) => `<p lang="${attr(l)}">${pageText[l][key][1]}</p>`).join('');
  const button = list.map((l) => pageText[l].button).join(' / ');
  return page(title, body + form.replace('>Unsubscribe<', `>${button}<`), htmlLang(language));
}

const page = (title: string, body: string, lang = 'en-GB') => `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Digital Gym</title>
<style>body{font:18px/1.5 system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;color:#0b0c0c}
button{font:inherit;padding:.5em 1.2em;background:#1d3557;color:#fff;border:0;border-radius:4px;cursor:pointer}</style>
</head><body><h1>${title}</h1>${body}</body></html>`;

const invalidLink = page(
  'This link does not work',
  '<p>The unsubscribe link is not complete or has been changed. Nothing was changed.</p>' +
    '<p>To stop the programme, reply <strong>stop</strong> to any of its emails.</p>',
);

/**
 * The HTTP side of `gym run`: RFC 8058 one-click unsubscribe and a health check.
 *
 * - `POST /unsubscribe/<token>` (what a mail client's "Unsubscribe" button sends, with the body
 *   `List-Unsubscribe=One-Click`) unsubscribes at once: no cookies, no redirect, no login. The
 *   suppression it writes says `one_click`; the confirm page's button says `link_confirm`.
 * - `/unsubscribe/m<token>` is a manager's link in a digest: it stops that manager's digests only.
 * - `GET /unsubscribe/<token>` only shows a page with a button that POSTs: link scanners and
 *   previews fetch GET links, and must never unsubscribe anyone.
 * - A forged or altered token changes nothing (the token is signed with GYM_SECRET).
 * - `GET /healthz` answers 200 `ok` when the database answers and nothing else is failing, and
 *   503 `unavailable` while the database, the relay or the mailbox is not working. Only a client
 *   on this machine (loopback, not through a proxy) is told which part and why: the reasons name
 *   hosts and ports, which are nobody else's business.
 */
export async function startGymServer(options: GymServerOptions): Promise<GymServer> {
  const server = createServer((request, response) => {
    handle(options, request, response).catch((error: unknown) => {
      options.log.error({ err: messageOf(error), url: request.url }, 'http request failed');
      if (!response.headersSent)
        send(response, 500, 'text/plain; charset=utf-8', 'internal error\n');
    });
  });
  await new Promise<void>((ready, fail) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      fail(
        error.code === 'EADDRINUSE'
          ? new GymError(
              'USAGE',
              `port ${options.port} is in use by another program; set GYM_HTTP_PORT to a free one`,
            )
          : error,
      ),
    );
    server.listen(options.port, options.host ?? '127.0.0.1', ready);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeIdleConnections();
      }),
  };
}

/**
 * A client on this machine: a loopback address, and no proxy header saying it speaks for someone
 * else (a reverse proxy on the same host connects from loopback too).
 */
function isLocalClient(request: IncomingMessage): boolean {
  if (request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined)
    return false;
  return isLoopbackAddress(request.socket.remoteAddress);
}

/** 127.0.0.0/8, ::1, and IPv4 loopback written as IPv6 (`::ffff:127.0.0.1`). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.replace(/^::ffff:/i, '');
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === '::1';
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  response.end(body);
}

async function handle(
  options: GymServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://gym');
  const html = 'text/html; charset=utf-8';
  if (url.pathname === '/healthz' && request.method === 'GET') {
    const faults: { component: string; reason: string }[] = [...(options.health?.() ?? [])];
    try {
      await options.store.ping();
    } catch (error) {
      faults.unshift({
        component: 'database',
        reason: `the database does not answer: ${messageOf(error)}`,
      });
    }
    const status = faults.length === 0 ? 'ok' : 'unavailable';
    const details = isLocalClient(request)
      ? faults.map((fault) => `${fault.component}: ${fault.reason}\n`).join('')
      : '';
    return send(
      response,
      faults.length === 0 ? 200 : 503,
      'text/plain; charset=utf-8',
      `${status}\n${details}`,
    );
  }
  const match = /^\/unsubscribe\/(m?)([a-z0-9]+)$/i.exec(url.pathname);
  if (match === null) return send(response, 404, 'text/plain; charset=utf-8', 'not found\n');
  const manager = match[1] !== '' && match[1] !== undefined;
  const learnerToken = manager ? undefined : verifyUnsubscribeToken(options.secret, match[2]!);
  const managerId = manager ? verifyManagerUnsubscribeToken(options.secret, match[2]!) : undefined;
  if (learnerToken?.ok !== true && managerId === undefined) {
    options.log.info(
      { reason: learnerToken?.ok === false ? learnerToken.reason : 'bad-manager-token' },
      'unsubscribe with an invalid token: nothing changed',
    );
    return send(response, 400, html, invalidLink);
  }
  const who =
    managerId !== undefined
      ? { managerId }
      : { learnerId: learnerToken?.ok === true ? learnerToken.learnerId : -1 };
  // The pages speak the person's language; a failure to find it must not stop an unsubscribe.
  const language: LanguagePreference =
    (await options.store.languageOf?.(who).catch(() => undefined)) ?? 'en';
  if (request.method === 'GET') {
    return send(
      response,
      200,
      html,
      pageIn(
        language,
        manager ? 'confirmManager' : 'confirmLearner',
        // Not the one-click body: the suppression records that the person confirmed on this page.
        '<form method="post"><input type="hidden" name="confirm" value="page">' +
          '<button type="submit">Unsubscribe</button></form>',
      ),
    );
  }
  if (request.method !== 'POST')
    return send(response, 405, 'text/plain; charset=utf-8', 'use GET or POST\n');
  const how = /(^|&)List-Unsubscribe=One-Click(&|$)/.test(await smallBody(request))
    ? 'one_click'
    : 'link_confirm';
  if (managerId !== undefined) {
    if (!(await options.store.unsubscribeManager(managerId, options.now(), how)))
      return send(response, 400, html, invalidLink);
    options.log.info({ managerId, how }, 'manager unsubscribed from the digests');
    return send(response, 200, html, pageIn(language, 'doneManager'));
  }
  const learnerId = learnerToken?.ok === true ? learnerToken.learnerId : -1;
  const result = await options.store.unsubscribe(learnerId, options.now(), how);
  if (result === undefined) return send(response, 400, html, invalidLink);
  options.log.info({ learnerId, cancelled: result.cancelled, how }, 'learner unsubscribed');
  return send(response, 200, html, pageIn(language, 'doneLearner'));
}

/** The first few kilobytes of a request body (a form post is a few bytes); the rest is drained. */
async function smallBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    if (size < 4096) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).toString('latin1').slice(0, 4096);
}
