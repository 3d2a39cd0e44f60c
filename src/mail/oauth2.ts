import { createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { googleMailScope, type OAuth2Config } from '../config/config.js';
import { GymError, messageOf } from '../errors.js';

/**
 * OAuth2 access tokens for signing in to the SMTP relay and the IMAP mailbox with XOAUTH2, as
 * Microsoft 365 and Google Workspace require. Two ways to get one:
 * - `client_credentials` (RFC 6749 4.4): Microsoft 365 app-only access, or any OIDC provider;
 * - `service_account`: a Google service account with domain-wide delegation, a JWT signed with
 *   its key and exchanged at its `token_uri` (RFC 7523), acting as the mailbox user (`sub`).
 *
 * One `MailTokens` per process serves SMTP and IMAP alike: a token is fetched once, kept until
 * shortly before it expires, and fetched again when it expires or a server refuses it. Tokens
 * never appear in errors or logs.
 */
export type OAuth2Settings =
  | Extract<OAuth2Config, { kind: 'client_credentials' }>
  | {
      readonly kind: 'service_account';
      /** Where the key came from, for messages (`GOOGLE_SERVICE_ACCOUNT_FILE`'s path). */
      readonly keyFile: string;
      readonly key: ServiceAccountKey;
      readonly scope: string;
    };

/** The fields of a Google service account's JSON key that signing needs. */
export interface ServiceAccountKey {
  readonly client_email: string;
  readonly private_key: string;
  readonly token_uri: string;
  readonly client_id?: string;
}

export interface MailTokens {
  /** `token endpoint login.microsoftonline.com (client credentials)`: for logs, no secret. */
  readonly describe: string;
  /** A token for `user`'s mailbox, from the cache while it is fresh. */
  token(user: string): Promise<string>;
  /**
   * The server refused the token it was given: fetch a new one, unless one was fetched a moment
   * ago (several pooled connections refused together share one new token).
   */
  renew(user: string): Promise<string>;
  /** Tokens fetched from the provider so far (the cache's misses). */
  readonly fetches: number;
}

export interface MailTokensOptions {
  /** The clock tokens expire by; Date.now by default. Tests pass a fake one. */
  readonly now?: () => number;
  /** A token is used until this long before it expires; 60 s by default. */
  readonly earlyMs?: number;
  /** A renewal asked for within this long of the last fetch reuses that fetch; 2 s by default. */
  readonly renewQuietMs?: number;
}

interface CachedToken {
  readonly value: string;
  readonly fetchedAt: number;
  readonly useUntil: number;
}

/**
 * The configuration's OAuth2 settings, with a Google service account's JSON key read and checked.
 *
 * @throws GymError CONFIG_INVALID naming GOOGLE_SERVICE_ACCOUNT_FILE when the key cannot be used.
 */
export function oauth2Settings(config: OAuth2Config): OAuth2Settings {
  if (config.kind === 'client_credentials') return config;
  const problem = (why: string, cause?: unknown) =>
    new GymError(
      'CONFIG_INVALID',
      `GOOGLE_SERVICE_ACCOUNT_FILE ${config.keyFile}: ${why}; download the service account's JSON key ` +
        '(Google Cloud console > IAM > Service accounts > Keys > Add key > JSON) and point the variable at it',
      { variable: 'GOOGLE_SERVICE_ACCOUNT_FILE', keyFile: config.keyFile },
      { cause },
    );
  let key: unknown;
  try {
    key = JSON.parse(readFileSync(config.keyFile, 'utf8'));
  } catch (error) {
    throw problem(`cannot be read as JSON (${messageOf(error)})`, error);
  }
  const fields = (typeof key === 'object' && key !== null ? key : {}) as Record<string, unknown>;
  if (fields.type !== undefined && fields.type !== 'service_account') {
    throw problem(
      `is a ${JSON.stringify(fields.type)} key where a service account key was expected`,
    );
  }
  for (const field of ['client_email', 'private_key', 'token_uri'] as const) {
    if (typeof fields[field] !== 'string' || fields[field] === '') {
      throw problem(`has no ${field}`);
    }
  }
  return {
    kind: 'service_account',
    keyFile: config.keyFile,
    scope: config.scope,
    key: {
      client_email: fields.client_email as string,
      private_key: fields.private_key as string,
      token_uri: fields.token_uri as string,
      ...(typeof fields.client_id === 'string' ? { client_id: fields.client_id } : {}),
    },
  };
}

/**
 * @example
 *   const tokens = mailTokens({ kind: 'client_credentials', tokenUrl, clientId, clientSecret,
 *     scope: 'https://outlook.office365.com/.default' });
 *   await tokens.token('gym@council.gov.uk'); // 'eyJ0eXAi...'
 */
export function mailTokens(settings: OAuth2Settings, options: MailTokensOptions = {}): MailTokens {
  const now = options.now ?? Date.now;
  const earlyMs = options.earlyMs ?? 60_000;
  const renewQuietMs = options.renewQuietMs ?? 2_000;
  // Client-credentials tokens belong to the application, whoever the mailbox; a service account
  // acts as one user at a time, so its tokens are kept per user.
  const keyOf = (user: string) => (settings.kind === 'client_credentials' ? '' : user);
  const cache = new Map<string, CachedToken>();
  const inFlight = new Map<string, Promise<CachedToken>>();
  let fetches = 0;

  function fetchOnce(user: string): Promise<CachedToken> {
    const key = keyOf(user);
    const pending = inFlight.get(key);
    if (pending !== undefined) return pending;
    const started = now();
    const request = requestToken(settings, user, started)
      .then(({ value, expiresInSeconds }) => {
        fetches += 1;
        const lifetimeMs = expiresInSeconds * 1000;
        // Short-lived tokens (a test's, or a provider's) are used for most of their life.
        const early = Math.min(earlyMs, lifetimeMs / 10);
        const token = { value, fetchedAt: started, useUntil: started + lifetimeMs - early };
        cache.set(key, token);
        return token;
      })
      .finally(() => inFlight.delete(key));
    inFlight.set(key, request);
    return request;
  }

  return {
    describe: describeSettings(settings),
    get fetches() {
      return fetches;
    },
    async token(user) {
      const cached = cache.get(keyOf(user));
      if (cached !== undefined && now() < cached.useUntil) return cached.value;
      return (await fetchOnce(user)).value;
    },
    async renew(user) {
      const cached = cache.get(keyOf(user));
      if (cached !== undefined && now() - cached.fetchedAt < renewQuietMs) return cached.value;
      cache.delete(keyOf(user));
      return (await fetchOnce(user)).value;
    },
  };
}

function describeSettings(settings: OAuth2Settings): string {
  if (settings.kind === 'service_account') {
    return `Google service account ${settings.key.client_email} (${hostOf(settings.key.token_uri)})`;
  }
  return `token endpoint ${hostOf(settings.tokenUrl)} (client credentials, client ${settings.clientId})`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

async function requestToken(
  settings: OAuth2Settings,
  user: string,
  nowMs: number,
): Promise<{ value: string; expiresInSeconds: number }> {
  const tokenUrl =
    settings.kind === 'client_credentials' ? settings.tokenUrl : settings.key.token_uri;
  const form =
    settings.kind === 'client_credentials'
      ? new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: settings.clientId,
          client_secret: settings.clientSecret,
          scope: settings.scope,
        })
      : new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion: serviceAccountAssertion(settings, user, nowMs),
        });
  let response: Response;
  try {
    response = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new GymError(
      'OAUTH2_FAILED',
      `OAuth2: cannot reach the token endpoint ${tokenUrl}: ${causeOf(error)}; ` +
        'check the URL and that this machine can reach it (proxy, firewall)',
      { tokenUrl },
      { cause: error },
    );
  }
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's error page): reported below with the HTTP status.
  }
  const value = body.access_token;
  if (response.ok && typeof value === 'string' && value !== '') {
    const expiresIn = Number(body.expires_in);
    // RFC 6749 makes expires_in optional; an hour is what the big providers give.
    return {
      value,
      expiresInSeconds: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600,
    };
  }
  throw new GymError('OAUTH2_FAILED', explainTokenError(settings, response.status, body), {
    tokenUrl,
    status: response.status,
    error: body.error,
  });
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause === undefined ? messageOf(error) : `${messageOf(error)} (${messageOf(cause)})`;
}

/** RFC 7523 JWT bearer assertion, RS256-signed with the service account's key. */
function serviceAccountAssertion(
  settings: Extract<OAuth2Settings, { kind: 'service_account' }>,
  user: string,
  nowMs: number,
): string {
  const issuedAt = Math.floor(nowMs / 1000);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode({
    iss: settings.key.client_email,
    sub: user,
    scope: settings.scope,
    aud: settings.key.token_uri,
    iat: issuedAt,
    exp: issuedAt + 3600,
  })}`;
  try {
    const signature = createSign('RSA-SHA256').update(unsigned).sign(settings.key.private_key);
    return `${unsigned}.${signature.toString('base64url')}`;
  } catch (error) {
    throw new GymError(
      'OAUTH2_FAILED',
      `GOOGLE_SERVICE_ACCOUNT_FILE ${settings.keyFile}: its private_key cannot sign (${messageOf(error)}); ` +
        'download a new JSON key for the service account in the Google Cloud console',
      { keyFile: settings.keyFile },
      { cause: error },
    );
  }
}

/**
 * What the provider's refusal means and what to change, as one line. Microsoft's answers carry
 * an AADSTS code in `error_description`; Google's an `error` and a short description.
 */
export function explainTokenError(
  settings: OAuth2Settings,
  status: number,
  body: Readonly<Record<string, unknown>>,
): string {
  const error = typeof body.error === 'string' ? body.error : undefined;
  const description =
    typeof body.error_description === 'string'
      ? (body.error_description.split(/\r?\n/)[0] ?? '').trim()
      : '';
  const aadsts = /AADSTS(\d+)/.exec(description)?.[0];
  const advice =
    (aadsts === undefined ? undefined : microsoftAdvice[aadsts]) ??
    googleAdvice(settings, error, description) ??
    genericAdvice(settings, error);
  const code = aadsts ?? error ?? `HTTP ${status}`;
  const said = description === '' ? '' : ` (${description.replace(/^AADSTS\d+:\s*/, '')})`;
  return `OAuth2: ${describeSettings(settings)} refused the token request: ${code}${said}: ${advice}`;
}

// https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes
const microsoftAdvice: Readonly<Record<string, string>> = {
  AADSTS7000215:
    'invalid client secret: create a new one in the app registration (Certificates & secrets) and set OAUTH2_CLIENT_SECRET to its Value, not its ID',
  AADSTS7000222:
    'the client secret has expired: create a new one in the app registration (Certificates & secrets) and set OAUTH2_CLIENT_SECRET',
  AADSTS700016:
    'no such application in this tenant: check OAUTH2_CLIENT_ID (the Application (client) ID) and the tenant ID in OAUTH2_TOKEN_URL',
  AADSTS90002:
    'no such tenant: OAUTH2_TOKEN_URL should be https://login.microsoftonline.com/<tenant ID>/oauth2/v2.0/token',
  AADSTS900023: 'the tenant in OAUTH2_TOKEN_URL is not a valid tenant ID or domain',
  AADSTS70011:
    'invalid scope: set OAUTH2_SCOPE=https://outlook.office365.com/.default for app-only IMAP and SMTP',
  AADSTS1002012:
    'invalid scope: set OAUTH2_SCOPE=https://outlook.office365.com/.default for app-only IMAP and SMTP',
  AADSTS7000112:
    'the application is disabled: an administrator must enable it in Enterprise applications',
  AADSTS65001:
    'an administrator has not consented: grant admin consent for IMAP.AccessAsApp and SMTP.SendAsApp in the app registration (API permissions)',
  AADSTS700024: "the client assertion is outside its time range: check this machine's clock",
};

function googleAdvice(
  settings: OAuth2Settings,
  error: string | undefined,
  description: string,
): string | undefined {
  if (settings.kind !== 'service_account') return undefined;
  const clientId = settings.key.client_id ?? settings.key.client_email;
  if (error === 'unauthorized_client') {
    return `domain-wide delegation is missing: in the Google Admin console (Security > Access and data control > API controls > Domain-wide delegation) allow client ID ${clientId} the scope ${settings.scope}`;
  }
  if (error === 'invalid_grant' && /signature/i.test(description)) {
    return "the key was deleted or is not this service account's: download a new JSON key and point GOOGLE_SERVICE_ACCOUNT_FILE at it";
  }
  if (error === 'invalid_grant' && /email|user/i.test(description)) {
    return 'the mailbox user (the username in SMTP_URL / IMAP_URL) is not a user of this Google Workspace domain';
  }
  if (error === 'invalid_grant') {
    return "check this machine's clock, and that the key in GOOGLE_SERVICE_ACCOUNT_FILE is current";
  }
  return undefined;
}

function genericAdvice(settings: OAuth2Settings, error: string | undefined): string {
  if (settings.kind === 'service_account') {
    return "check GOOGLE_SERVICE_ACCOUNT_FILE and the service account's domain-wide delegation";
  }
  switch (error) {
    case 'invalid_client':
      return 'the provider does not accept this client: check OAUTH2_CLIENT_ID and OAUTH2_CLIENT_SECRET';
    case 'invalid_scope':
      return 'check OAUTH2_SCOPE';
    case 'unauthorized_client':
      return 'this client may not use the client-credentials grant: allow it at the provider';
    default:
      return 'check OAUTH2_TOKEN_URL, OAUTH2_CLIENT_ID, OAUTH2_CLIENT_SECRET and OAUTH2_SCOPE';
  }
}

/**
 * One line for a server that refused a token the provider had just issued: the application lacks
 * the mailbox permission, not the right secret.
 */
export function explainRefusedToken(
  protocol: 'SMTP' | 'IMAP',
  user: string,
  settings: OAuth2Settings['kind'],
  serverSaid: string,
): string {
  const advice =
    settings === 'service_account'
      ? `allow the service account's client ID the scope ${googleMailScope} in domain-wide delegation, and check that ${user} exists and has ${protocol === 'IMAP' ? 'IMAP' : 'SMTP'} enabled`
      : protocol === 'SMTP'
        ? `give the application SMTP.SendAsApp (admin consent), register its service principal in Exchange (New-ServicePrincipal) and grant it the mailbox (Add-MailboxPermission -Identity ${user} -User <service principal ID> -AccessRights FullAccess); check that SMTP AUTH is enabled for the mailbox`
        : `give the application IMAP.AccessAsApp (admin consent), register its service principal in Exchange (New-ServicePrincipal) and grant it the mailbox (Add-MailboxPermission -Identity ${user} -User <service principal ID> -AccessRights FullAccess)`;
  return `${protocol}: the server refused a fresh OAuth2 token for ${user} (${serverSaid.trim()}): ${advice}`;
}
