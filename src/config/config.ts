import { redactUrl } from './redact-url.js';

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
  /** The address `gym run`'s HTTP server binds to: loopback unless GYM_HTTP_HOST says otherwise. */
  readonly httpHost: string;
  readonly httpPort: number;
  readonly logLevel: LogLevel;
  /** Sign in to SMTP_URL and IMAP_URL with OAuth2 (XOAUTH2) instead of a password. */
  readonly oauth2: OAuth2Config | undefined;
  /** Who gets the daily trainer alert (too hard, help, held mail, bounces, failures); none when absent. */
  readonly trainerAddress: string | undefined;
  /** The trainer's zone: the alert goes on working days from 08:00 there. */
  readonly trainerTimeZone: string;
  /** Raw inbound mail and outbox files are cleared once this many days old. */
  readonly retainRawDays: number;
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

// Only for the embedded default, where nothing leaves the machine: it is in the source, so anyone
// can sign tokens with it. Anything exposed or connected (a public URL, a non-loopback HTTP host,
// any server) makes GYM_SECRET mandatory, and GYM_SECRET may never be this.
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
  'GYM_HTTP_HOST',
  'GYM_HTTP_PORT',
  'LOG_LEVEL',
  'OAUTH2_TOKEN_URL',
  'OAUTH2_CLIENT_ID',
  'OAUTH2_CLIENT_SECRET',
  'OAUTH2_SCOPE',
  'GOOGLE_SERVICE_ACCOUNT_FILE',
  'GYM_TRAINER_ADDRESS',
  'GYM_TRAINER_TIME_ZONE',
  'GYM_RETAIN_RAW_DAYS',
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

function isZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
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
    // The shared budget hands out whole sends per second: a fraction would let none through.
    check: (v: string) => /^\d+$/.test(v) && Number(v) >= 1 && Number.isSafeInteger(Number(v)),
    expected: 'a whole number of messages per second, 1 or more, such as 10 (no fractions)',
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
    check: (v: string) => secretWeakness(v) === undefined,
    expected: 'at least 32 characters of random text (for example: openssl rand -hex 32)',
  },
  GYM_PUBLIC_URL: {
    check: urlWithScheme(['https', 'http']),
    expected: 'the public base URL of `gym run`, such as https://gym.example.org',
  },
  GYM_HTTP_HOST: {
    check: (v: string) => /^(?:[A-Za-z0-9.-]+|\[?[0-9A-Fa-f:.]+\]?)$/.test(v),
    expected:
      'an address to listen on, such as 127.0.0.1 (the default) or 0.0.0.0 for every interface',
  },
  GYM_HTTP_PORT: {
    check: (v: string) => /^\d+$/.test(v) && Number(v) <= 65535,
    expected: 'a TCP port number from 0 to 65535',
  },
  LOG_LEVEL: {
    check: (v: string) => (logLevels as readonly string[]).includes(v),
    expected: `one of ${logLevels.join(', ')}`,
  },
  GYM_TRAINER_ADDRESS: {
    check: (v: string) => emailAddress.test(v),
    expected: 'the trainer’s address, such as trainer@example.org',
  },
  GYM_TRAINER_TIME_ZONE: {
    check: (v: string) => isZone(v),
    expected: 'an IANA time zone such as Europe/London',
  },
  GYM_RETAIN_RAW_DAYS: {
    check: (v: string) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 3650,
    expected: 'a whole number of days from 1 to 3650, such as 90',
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
const urlVariables: ReadonlySet<ConfigVariable> = new Set([
  'DATABASE_URL',
  'SMTP_URL',
  'IMAP_URL',
  'GYM_PUBLIC_URL',
]);

/** Hides secrets and any URL's userinfo (well-formed or not) before a value is echoed. */
function shown(variable: ConfigVariable, value: string): string | undefined {
  if (secretVariables.has(variable)) return undefined;
  const safe = urlVariables.has(variable) ? redactUrl(value) : value;
  return safe.length > 80 ? `${safe.slice(0, 77)}...` : safe;
}

/**
 * Why a secret is too weak to sign tokens with, or undefined when it will do. Tokens are HMACs:
 * whoever guesses the secret can unsubscribe or stop anyone. We cannot measure randomness, but
 * we can refuse what is plainly not random: short, published, one character or a short run
 * repeated, too few distinct characters to hold 128 bits, or characters so uneven that their
 * Shannon entropy (over the secret's own character counts) is under 128 bits. `openssl rand
 * -hex 32` gives about 240.
 */
export function secretWeakness(secret: string): string | undefined {
  if (secret.length < 32) return 'it is shorter than 32 characters';
  if (secret === builtInSecret)
    return 'it is the built-in secret, which is published in the source';
  for (let period = 1; period <= secret.length / 2; period++) {
    if (secret === secret.slice(0, period).repeat(secret.length / period))
      return 'it is one short run of characters repeated';
  }
  const counts = new Map<string, number>();
  for (const c of secret) counts.set(c, (counts.get(c) ?? 0) + 1);
  if (counts.size < 8 || secret.length * Math.log2(counts.size) < 128)
    return `it has too few different characters (${counts.size}) to be random`;
  // Shannon entropy of the characters as they occur: low when a few of them make up most of it.
  let bits = 0;
  for (const n of counts.values()) bits -= n * Math.log2(n / secret.length);
  if (bits < 128) return `its characters are too uneven to be random (${Math.floor(bits)} bits)`;
  return undefined;
}

/** 127.0.0.0/8, ::1 and localhost: nobody else on the network can reach these. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(?:\.\d{1,3}){3}$/.test(bare);
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
  const publicUrl = read('GYM_PUBLIC_URL');
  const httpHost = read('GYM_HTTP_HOST') ?? '127.0.0.1';
  // Exposed or connected: the built-in secret would let anyone who read our source forge tokens.
  const exposedBy = [
    ...(databaseUrl === undefined ? [] : ['DATABASE_URL']),
    ...(smtpUrl === undefined ? [] : ['SMTP_URL']),
    ...(imapUrl === undefined ? [] : ['IMAP_URL']),
    ...(publicUrl === undefined ? [] : ['GYM_PUBLIC_URL']),
    ...(isLoopback(httpHost) ? [] : [`GYM_HTTP_HOST=${httpHost}`]),
  ];
  if (secret === undefined && exposedBy.length > 0) {
    problems.push({
      variable: 'GYM_SECRET',
      expected:
        `required when DATABASE_URL, SMTP_URL, IMAP_URL, GYM_PUBLIC_URL or a non-loopback ` +
        `GYM_HTTP_HOST is set (here: ${exposedBy.join(', ')}), since the built-in secret is ` +
        `public: ${rules.GYM_SECRET.expected}`,
    });
  } else if (secret !== undefined && secretWeakness(secret) !== undefined) {
    // Replaces the rule's generic line with the reason (the secret itself is never shown).
    const index = problems.findIndex((p) => p.variable === 'GYM_SECRET');
    problems[index] = {
      variable: 'GYM_SECRET',
      expected: `${rules.GYM_SECRET.expected}; this one is weak: ${secretWeakness(secret)}`,
    };
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
    publicUrl: publicUrl?.replace(/\/+$/, ''),
    dkim:
      dkimSet.length === 3
        ? {
            domainName: dkimParts.DKIM_DOMAIN!,
            keySelector: dkimParts.DKIM_SELECTOR!,
            privateKey: dkimParts.DKIM_PRIVATE_KEY!.replace(/\\n/g, '\n'),
          }
        : undefined,
    httpHost,
    httpPort: httpPort === undefined ? 8080 : Number(httpPort),
    logLevel: (read('LOG_LEVEL') ?? 'info') as LogLevel,
    oauth2,
    trainerAddress: read('GYM_TRAINER_ADDRESS'),
    trainerTimeZone: read('GYM_TRAINER_TIME_ZONE') ?? 'Europe/London',
    retainRawDays: Number(read('GYM_RETAIN_RAW_DAYS') ?? 90),
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
