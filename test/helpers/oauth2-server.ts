import { createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real OAuth2 authorisation server for the tests, on a local port: it issues access tokens
 * for the client-credentials grant (answering refusals the way Microsoft Entra ID does, with
 * AADSTS codes) and for Google's JWT bearer grant (RFC 7523, checking the RS256 signature with
 * the service account's public key), and answers token introspection (RFC 7662) for Dovecot's
 * oauth2 passdb. The SMTP sink asks `check` directly. Tokens expire by `now()`, the test's clock.
 */
export interface TokenServer {
  /** `http://127.0.0.1:PORT/tenant/oauth2/v2.0/token` */
  readonly tokenUrl: string;
  /** `http://127.0.0.1:PORT/introspect`: RFC 7662, `token=` in a form POST. */
  readonly introspectionUrl: string;
  /** Tokens issued so far. */
  readonly issued: number;
  /** Who a token lets in right now, or why not. */
  check(token: string, user: string): { ok: true } | { ok: false; why: string };
  /** The newest token issued. */
  latest(): string | undefined;
  revoke(token: string): void;
  /** The client secret now accepted (rotating it makes the old one "invalid"). */
  setClientSecret(secret: string, state?: 'valid' | 'expired'): void;
  /** Mailboxes the client-credentials application has been granted (Add-MailboxPermission). */
  grantMailbox(user: string): void;
  close(): Promise<void>;
}

export interface TokenServerOptions {
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** Token lifetime, seconds; 3600 like Entra ID and Google. */
  readonly lifetimeSeconds?: number;
  readonly now: () => number;
  /** A Google service account whose JWTs are accepted, and the users it may act as. */
  readonly serviceAccount?: {
    readonly clientEmail: string;
    readonly publicKeyPem: string;
    readonly delegatedUsers: readonly string[];
  };
}

interface IssuedToken {
  readonly expiresAt: number;
  /** The user a delegated token acts as; undefined for an application token. */
  readonly user: string | undefined;
  revoked: boolean;
}

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const clientId = options.clientId ?? 'gym-app';
  let clientSecret = options.clientSecret ?? 'right-secret';
  let secretState: 'valid' | 'expired' = 'valid';
  const lifetime = options.lifetimeSeconds ?? 3600;
  const tokens = new Map<string, IssuedToken>();
  const mailboxes = new Set<string>();
  let newest: string | undefined;
  const serviceKey: KeyObject | undefined =
    options.serviceAccount === undefined
      ? undefined
      : createPublicKey(options.serviceAccount.publicKeyPem);

  const issue = (user: string | undefined) => {
    const token = `tok_${randomBytes(18).toString('base64url')}`;
    tokens.set(token, { expiresAt: options.now() + lifetime * 1000, user, revoked: false });
    newest = token;
    return { access_token: token, token_type: 'Bearer', expires_in: lifetime };
  };

  const check = (token: string, user: string): { ok: true } | { ok: false; why: string } => {
    const issued = tokens.get(token);
    if (issued === undefined) return { ok: false, why: 'unknown token' };
    if (issued.revoked) return { ok: false, why: 'revoked' };
    if (options.now() >= issued.expiresAt) return { ok: false, why: 'expired' };
    const allowed = issued.user === undefined ? mailboxes.has(user) : issued.user === user;
    return allowed ? { ok: true } : { ok: false, why: `no permission for ${user}` };
  };

  function grant(form: URLSearchParams): { status: number; body: object } {
    const type = form.get('grant_type');
    if (type === 'client_credentials') {
      if (form.get('client_id') !== clientId) {
        return aad(
          400,
          'unauthorized_client',
          700016,
          `Application with identifier '${form.get('client_id')}' was not found in the directory.`,
        );
      }
      if (form.get('client_secret') !== clientSecret) {
        return aad(
          401,
          'invalid_client',
          7000215,
          'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
        );
      }
      if (secretState === 'expired') {
        return aad(
          401,
          'invalid_client',
          7000222,
          `The provided client secret keys for app '${clientId}' are expired.`,
        );
      }
      if (form.get('scope') !== 'https://outlook.office365.com/.default') {
        return aad(
          400,
          'invalid_scope',
          1002012,
          `The provided value for scope ${form.get('scope')} is not valid.`,
        );
      }
      return { status: 200, body: issue(undefined) };
    }
    if (type === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      const claims = verifyJwt(form.get('assertion') ?? '');
      if (claims === undefined) {
        return {
          status: 400,
          body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' },
        };
      }
      const account = options.serviceAccount!;
      if (claims.iss !== account.clientEmail || claims.aud !== tokenUrl) {
        return {
          status: 400,
          body: { error: 'invalid_grant', error_description: 'Invalid JWT: iss or aud' },
        };
      }
      if (claims.scope !== 'https://mail.google.com/') {
        return { status: 400, body: { error: 'invalid_scope', error_description: 'Bad scope' } };
      }
      if (typeof claims.sub !== 'string' || !account.delegatedUsers.includes(claims.sub)) {
        return {
          status: 401,
          body: {
            error: 'unauthorized_client',
            error_description:
              'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
          },
        };
      }
      return { status: 200, body: issue(claims.sub) };
    }
    return { status: 400, body: { error: 'unsupported_grant_type' } };
  }

  function verifyJwt(jwt: string): Record<string, unknown> | undefined {
    const [header, payload, signature] = jwt.split('.');
    if (
      serviceKey === undefined ||
      header === undefined ||
      payload === undefined ||
      signature === undefined
    ) {
      return undefined;
    }
    const good = verify(
      'RSA-SHA256',
      Buffer.from(`${header}.${payload}`),
      serviceKey,
      Buffer.from(signature, 'base64url'),
    );
    if (!good) return undefined;
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
  }

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const answer = (status: number, body: object) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.method === 'POST' && request.url === '/tenant/oauth2/v2.0/token') {
        const { status, body } = grant(form);
        answer(status, body);
      } else if (request.method === 'POST' && request.url === '/introspect') {
        // Dovecot compares `username` with the user who logged in; an application token is
        // good for the one mailbox the test granted it.
        const token = form.get('token') ?? '';
        const issued = tokens.get(token);
        const user = issued?.user ?? [...mailboxes][0];
        const active = user !== undefined && check(token, user).ok;
        answer(200, active ? { active: true, username: user } : { active: false });
      } else {
        answer(404, { error: 'not_found' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const tokenUrl = `http://127.0.0.1:${port}/tenant/oauth2/v2.0/token`;

  return {
    tokenUrl,
    introspectionUrl: `http://127.0.0.1:${port}/introspect`,
    get issued() {
      return tokens.size;
    },
    check,
    latest: () => newest,
    revoke(token) {
      const issued = tokens.get(token);
      if (issued !== undefined) issued.revoked = true;
    },
    setClientSecret(secret, state = 'valid') {
      clientSecret = secret;
      secretState = state;
    },
    grantMailbox(user) {
      mailboxes.add(user);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function aad(status: number, error: string, code: number, text: string) {
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${text} Trace ID: 0000 Correlation ID: 1111 Timestamp: 2026-12-05 21:00:00Z`,
      error_codes: [code],
    },
  };
}
