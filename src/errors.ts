/**
 * One error type for the whole engine. Every code lives in the table below, with whether it is
 * the user's to fix (exit 1: bad configuration, bad input, a server that is not there) or a bug
 * of ours (exit 2). Messages say what failed, where, and what to do next.
 */
export const errorCodes = {
  CONFIG_INVALID: { user: true },
  DATABASE_UNREACHABLE: { user: true },
  DATABASE_LOCKED: { user: true },
  MIGRATION_FAILED: { user: false },
  USAGE: { user: true },
  SEQUENCE_INVALID: { user: true },
  COHORT_INVALID: { user: true },
  /** A template, Markdown field or MJML layout that does not compile (the trainer's or operator's to fix). */
  TEMPLATE_INVALID: { user: true },
  /** Filling a compiled email for one recipient failed: a value the engine should have supplied is missing. */
  RENDER_FAILED: { user: false },
  /** The OAuth2 provider refused a token, or a server refused the token (the operator's to fix). */
  OAUTH2_FAILED: { user: true },
  MAIL_INVALID: { user: false }, // a message, token or transport call we built wrongly: a bug
  /** The SMTP relay refused or could not be reached for every message of a run. */
  RELAY_REFUSED: { user: true },
  /** The IMAP server could not be reached, or refused the login. */
  MAILBOX_UNREACHABLE: { user: true },
} as const satisfies Record<string, { user: boolean }>;

export type ErrorCode = keyof typeof errorCodes;

export class GymError extends Error {
  override readonly name = 'GymError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** True when the user can fix it (configuration, input, environment); false for our bugs. */
  get isUserError(): boolean {
    return errorCodes[this.code].user;
  }
}

/** The message of anything thrown, for a one-line report. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
