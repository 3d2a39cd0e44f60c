/**
 * The configuration, read once at start-up from the environment (and `.env`), validated and
 * frozen. With nothing set, Digital Gym runs on its embedded defaults: PGlite under `.gym/`, a
 * Maildir outbox and a Maildir inbox.
 */
export interface Config {
  /** PostgreSQL server; absent means the embedded PGlite database under `dataDir`. */
  readonly databaseUrl: string | undefined;
  /** Where the embedded database, outbox and inbox live. */
  readonly dataDir: string;
  /** SMTP relay; absent means the Maildir outbox under `dataDir`. */
  readonly smtpUrl: string | undefined;
  /** A cap on messages per second across all workers together. */
  readonly smtpMaxPerSecond: number | undefined;
  /** Caps per minute and per rolling 24 hours (the relay account's quota), all workers together. */
  readonly smtpMaxPerMinute: number | undefined;
  readonly smtpMaxPerDay: number | undefined;
  /** IMAP mailbox read for replies; absent means the Maildir inbox under `dataDir`. */
  readonly imapUrl: string | undefined;
  readonly from: string;
  /** The mailbox replies go to; each email's Reply-To is its plus-address with a signed token. */
  readonly replyAddress: string;
  /** Signs reply and unsubscribe tokens. */
  readonly secret: string;
  /** True when `secret` is the built-in one, which is only acceptable for the embedded default. */
  readonly secretIsBuiltIn: boolean;
  readonly publicUrl: string | undefined;
  readonly dkim: DkimConfig | undefined;
  readonly httpPort: number;
  readonly logLevel: LogLevel;
  /** Sign in to SMTP_URL and IMAP_URL with OAuth2 (XOAUTH2) instead of a password. */
  readonly oauth2: OAuth2Config | undefined;
}

/**
 * How to get OAuth2 tokens for the mailbox user named in SMTP_URL / IMAP_URL: a client-credentials
 * grant (Microsoft 365 app-only, any OIDC provider) or a Google service account's JSON key.
 */
export type OAuth2Config =
  | {
      readonly kind: 'client_credentials';
      readonly tokenUrl: string;
      readonly clientId: string;
      readonly clientSecret: string;
      readonly scope: string;
    }
  | { readonly kind: 'service_account'; readonly keyFile: string; readonly scope: string };

export interface DkimConfig {
  readonly domainName: string;
  readonly keySelector: string;
  readonly privateKey: string;
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

// Only for the embedded default, where nothing leaves the machine; any server setting makes
// GYM_SECRET mandatory.
const builtInSecret = 'digital-gym-embedded-default-secret-not-for-production';

/** The variables we read, in the order we report them. */
export const configVariables = [
  'DATABASE_URL',
  'GYM_DATA_DIR',
  'SMTP_URL',
  'SMTP_MAX_PER_SECOND',
  'SMTP_MAX_PER_MINUTE',
  'SMTP_MAX_PER_DAY',
  'IMAP_URL',
  'GYM_FROM',
  'GYM_REPLY_ADDRESS',
  'GYM_SECRET',
  'GYM_PUBLIC_URL',
  'DKIM_DOMAIN',
  'DKIM_SELECTOR',
  'DKIM_PRIVATE_KEY',
  'GYM_HTTP_PORT',
  'LOG_LEVEL',
  'OAUTH2_TOKEN_URL',
  'OAUTH2_CLIENT_ID',
  'OAUTH2_CLIENT_SECRET',
  'OAUTH2_SCOPE',
  'GOOGLE_SERVICE_ACCOUNT_FILE',
] as const;
export type ConfigVariable = (typeof configVariables)[number];
export type Environment = Readonly<Partial<Record<string, string | undefined>>>;

/** A configuration problem: the variable, what we expected, and the offending value if shown. */
export interface ConfigProblem {
  readonly variable: ConfigVariable;
  readonly expected: string;
  readonly got?: string;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

const emailAddress = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+$/;
const mailbox = /^(?:[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>()",;:]+@[^\s@<>()",;:]+)$/;

function urlWithScheme(schemes: readonly string[]) {
  return (value: string): boolean => {
    try {
      const url = new URL(value);
      return schemes.includes(url.protocol.slice(0, -1)) && url.hostname !== '';
    } catch {
      return false;
    }
  };
}

/** Each variable's rule: how to check it and how to say what we expected. */
const rules = {
  DATABASE_URL: {
    check: urlWithScheme(['postgres', 'postgresql']),
    expected: 'a PostgreSQL URL such as postgres://user:password@host:5432/database',
  },
  SMTP_URL: {
    check: urlWithScheme(['smtp', 'smtps']),
    expected: 'an SMTP URL such as smtp://user:password@relay.example.org:587',
  },
  SMTP_MAX_PER_SECOND: {
    check: (v: string) => Number.isFinite(Number(v)) && Number(v) > 0,
    expected: 'a positive number of messages per second, such as 10',
  },
  SMTP_MAX_PER_MINUTE: {
    check: (v: string) => /^\d+$/.test(v) && Number(v) > 0,
    expected: 'a whole number of messages a minute, such as 30 (Microsoft 365)',
  },
  SMTP_MAX_PER_DAY: {
    check: (v: string) => /^\d+$/.test(v) && Number(v) > 0,
    expected:
      'a whole number of messages per 24 hours, such as 10000 (Microsoft 365) or 2000 (Google Workspace)',
  },
  IMAP_URL: {
    check: urlWithScheme(['imap', 'imaps']),
    expected: 'an IMAP URL such as imaps://user:password@imap.example.org:993/INBOX',
  },
  GYM_FROM: {
    check: (v: string) => mailbox.test(v),
    expected: 'a sender such as "Digital Gym <gym@example.org>" or gym@example.org',
  },
  GYM_REPLY_ADDRESS: {
    check: (v: string) => emailAddress.test(v) && !v.split('@')[0]!.includes('+'),
    expected:
      'a bare address without "+", such as progress@example.org (tokens are added as +token)',
  },
  GYM_SECRET: {
    check: (v: string) => v.length >= 32,
    expected: 'at least 32 characters of random text (for example: openssl rand -hex 32)',
  },
  GYM_PUBLIC_URL: {
    check: urlWithScheme(['https', 'http']),
    expected: 'the public base URL of `gym run`, such as https://gym.example.org',
  },
  GYM_HTTP_PORT: {
    check: (v: string) => /^\d+$/.test(v) && Number(v) <= 65535,
    expected: 'a TCP port number from 0 to 65535',
  },
  LOG_LEVEL: {
    check: (v: string) => (logLevels as readonly string[]).includes(v),
    expected: `one of ${logLevels.join(', ')}`,
  },
  OAUTH2_TOKEN_URL: {
    check: urlWithScheme(['https', 'http']),
    expected:
      "the provider's token endpoint, such as https://login.microsoftonline.com/<tenant ID>/oauth2/v2.0/token",
  },
} satisfies Partial<Record<ConfigVariable, { check: (v: string) => boolean; expected: string }>>;

const secretVariables: ReadonlySet<ConfigVariable> = new Set([
  'GYM_SECRET',
  'DKIM_PRIVATE_KEY',
  'OAUTH2_CLIENT_SECRET',
]);

/** Hides secrets and URL passwords before a value is echoed in an error. */
function shown(variable: ConfigVariable, value: string): string | undefined {
  if (secretVariables.has(variable)) return undefined;
  try {
    const url = new URL(value);
    if (url.password) {
      url.password = '***';
      return url.toString();
    }
  } catch {
    // not a URL: shown as it is
  }
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}

/**
 * Validates an environment into a frozen Config, collecting every problem. Pure: the caller
 * reads `process.env` and `.env`.
 *
 * @example parseConfig({ DATABASE_URL: 'nonsense' })
 *   // { ok: false, problems: [{ variable: 'DATABASE_URL', expected: 'a PostgreSQL URL ...', got: 'nonsense' }] }
 */
export function parseConfig(env: Environment): ConfigResult {
  const problems: ConfigProblem[] = [];
  const read = (variable: ConfigVariable): string | undefined => {
    const raw = env[variable]?.trim();
    if (raw === undefined || raw === '') return undefined;
    const rule = (
      rules as Partial<Record<ConfigVariable, { check: (v: string) => boolean; expected: string }>>
    )[variable];
    if (rule && !rule.check(raw)) {
      const got = shown(variable, raw);
      problems.push(
        got === undefined
          ? { variable, expected: rule.expected }
          : { variable, expected: rule.expected, got },
      );
    }
    return raw;
  };

  const databaseUrl = read('DATABASE_URL');
  const smtpUrl = read('SMTP_URL');
  const imapUrl = read('IMAP_URL');
  const secret = read('GYM_SECRET');
  const usesServers = databaseUrl !== undefined || smtpUrl !== undefined || imapUrl !== undefined;
  if (secret === undefined && usesServers) {
    problems.push({
      variable: 'GYM_SECRET',
      expected: `required when DATABASE_URL, SMTP_URL or IMAP_URL is set: ${rules.GYM_SECRET.expected}`,
    });
  }

  const dkimParts = {
    DKIM_DOMAIN: read('DKIM_DOMAIN'),
    DKIM_SELECTOR: read('DKIM_SELECTOR'),
    DKIM_PRIVATE_KEY: read('DKIM_PRIVATE_KEY'),
  };
  const dkimSet = Object.entries(dkimParts).filter(([, v]) => v !== undefined);
  if (dkimSet.length > 0 && dkimSet.length < 3) {
    const missing = Object.entries(dkimParts).find(
      ([, v]) => v === undefined,
    )![0] as ConfigVariable;
    problems.push({
      variable: missing,
      expected: 'DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY (a PEM key) to be set together',
    });
  }

  const oauth2 = readOAuth2(read, problems, { smtpUrl, imapUrl });

  const smtpMaxPerSecond = read('SMTP_MAX_PER_SECOND');
  const smtpMaxPerMinute = read('SMTP_MAX_PER_MINUTE');
  const smtpMaxPerDay = read('SMTP_MAX_PER_DAY');
  const httpPort = read('GYM_HTTP_PORT');
  const config: Config = {
    databaseUrl,
    dataDir: read('GYM_DATA_DIR') ?? '.gym',
    smtpUrl,
    smtpMaxPerSecond: smtpMaxPerSecond === undefined ? undefined : Number(smtpMaxPerSecond),
    smtpMaxPerMinute: smtpMaxPerMinute === undefined ? undefined : Number(smtpMaxPerMinute),
    smtpMaxPerDay: smtpMaxPerDay === undefined ? undefined : Number(smtpMaxPerDay),
    imapUrl,
    from: read('GYM_FROM') ?? 'Digital Gym <gym@localhost>',
    replyAddress: read('GYM_REPLY_ADDRESS') ?? 'progress@localhost',
    secret: secret ?? builtInSecret,
    secretIsBuiltIn: secret === undefined,
    publicUrl: read('GYM_PUBLIC_URL')?.replace(/\/+$/, ''),
    dkim:
      dkimSet.length === 3
        ? {
            domainName: dkimParts.DKIM_DOMAIN!,
            keySelector: dkimParts.DKIM_SELECTOR!,
            privateKey: dkimParts.DKIM_PRIVATE_KEY!.replace(/\\n/g, '\n'),
          }
        : undefined,
    httpPort: httpPort === undefined ? 8080 : Number(httpPort),
    logLevel: (read('LOG_LEVEL') ?? 'info') as LogLevel,
    oauth2,
  };
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: Object.freeze(config) };
}

const oauth2Parts = [
  'OAUTH2_TOKEN_URL',
  'OAUTH2_CLIENT_ID',
  'OAUTH2_CLIENT_SECRET',
  'OAUTH2_SCOPE',
] as const satisfies readonly ConfigVariable[];

/** Google's scope for IMAP and SMTP. */
export const googleMailScope = 'https://mail.google.com/';

/**
 * OAUTH2_* (all four together) or GOOGLE_SERVICE_ACCOUNT_FILE, never both; either one signs in the
 * user named in SMTP_URL / IMAP_URL, so those name a user and no password.
 */
function readOAuth2(
  read: (variable: ConfigVariable) => string | undefined,
  problems: ConfigProblem[],
  servers: { smtpUrl: string | undefined; imapUrl: string | undefined },
): OAuth2Config | undefined {
  const parts = Object.fromEntries(oauth2Parts.map((v) => [v, read(v)])) as Record<
    (typeof oauth2Parts)[number],
    string | undefined
  >;
  const keyFile = read('GOOGLE_SERVICE_ACCOUNT_FILE');
  const given = oauth2Parts.filter((v) => parts[v] !== undefined);
  if (given.length === 0 && keyFile === undefined) return undefined;
  if (given.length > 0 && keyFile !== undefined) {
    problems.push({
      variable: 'GOOGLE_SERVICE_ACCOUNT_FILE',
      expected:
        'either GOOGLE_SERVICE_ACCOUNT_FILE (Google Workspace) or the OAUTH2_* variables (Microsoft 365, other providers), not both',
    });
    return undefined;
  }
  const missing = oauth2Parts.find((v) => parts[v] === undefined);
  if (keyFile === undefined && missing !== undefined) {
    problems.push({
      variable: missing,
      expected: `required with ${given.join(', ')}: OAUTH2_TOKEN_URL, OAUTH2_CLIENT_ID, OAUTH2_CLIENT_SECRET and OAUTH2_SCOPE (for Microsoft 365: https://outlook.office365.com/.default) go together`,
    });
    return undefined;
  }
  const servedBy = keyFile === undefined ? 'the OAUTH2_* variables' : 'GOOGLE_SERVICE_ACCOUNT_FILE';
  const named = [
    ['SMTP_URL', servers.smtpUrl],
    ['IMAP_URL', servers.imapUrl],
  ] as const;
  if (named.every(([, url]) => url === undefined)) {
    problems.push({
      variable: keyFile === undefined ? 'OAUTH2_TOKEN_URL' : 'GOOGLE_SERVICE_ACCOUNT_FILE',
      expected: `SMTP_URL or IMAP_URL to be set too: ${servedBy} sign in to them as the user they name`,
    });
  }
  for (const [variable, url] of named) {
    if (url === undefined) continue;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      continue; // already reported by its own rule
    }
    if (parsed.username === '' || parsed.password !== '') {
      problems.push({
        variable,
        expected: `with ${servedBy}, the mailbox user and no password, such as ${variable === 'SMTP_URL' ? 'smtp://gym%40council.gov.uk@smtp.office365.com:587' : 'imaps://gym%40council.gov.uk@outlook.office365.com/INBOX'}`,
      });
    }
  }
  if (keyFile !== undefined) {
    return { kind: 'service_account', keyFile, scope: googleMailScope };
  }
  return {
    kind: 'client_credentials',
    tokenUrl: parts.OAUTH2_TOKEN_URL!,
    clientId: parts.OAUTH2_CLIENT_ID!,
    clientSecret: parts.OAUTH2_CLIENT_SECRET!,
    scope: parts.OAUTH2_SCOPE!,
  };
}

/** One line per problem: `DATABASE_URL: expected a PostgreSQL URL ... (got "nonsense")`. */
export function describeConfigProblem(problem: ConfigProblem): string {
  const got = problem.got === undefined ? '' : ` (got ${JSON.stringify(problem.got)})`;
  const expected = problem.expected.startsWith('required')
    ? problem.expected
    : `expected ${problem.expected}`;
  return `${problem.variable}: ${expected}${got}`;
}
