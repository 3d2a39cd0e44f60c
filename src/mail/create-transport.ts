import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { createMaildirTransport } from './maildir-transport.js';
import { mailTokens, oauth2Settings, type MailTokens, type OAuth2Settings } from './oauth2.js';
import { createSmtpTransport, type SmtpTransportOptions } from './smtp-transport.js';
import type { MailTransport } from './transport.js';

/**
 * The transport the configuration asks for: the SMTP relay at `SMTP_URL` when set, otherwise the
 * Maildir outbox at `<GYM_DATA_DIR>/outbox` (`.gym/outbox`). `smtp` tunes the SMTP adapter
 * (timeouts, connections); tests use it, production leaves it out.
 *
 * @example const transport = createMailTransport(config); // transport.name: 'maildir /app/.gym/outbox'
 */
export function createMailTransport(
  config: Pick<Config, 'smtpUrl' | 'dkim' | 'dataDir'> & Partial<Pick<Config, 'oauth2'>>,
  smtp: Omit<SmtpTransportOptions, 'url' | 'dkim' | 'oauth2'> = {},
): MailTransport {
  if (config.smtpUrl !== undefined) {
    return createSmtpTransport({
      ...smtp,
      url: config.smtpUrl,
      dkim: config.dkim,
      oauth2: mailSignIn(config),
    });
  }
  return createMaildirTransport({ dir: join(config.dataDir, 'outbox') });
}

/** OAuth2 sign-in for the mail servers: the tokens and how they are obtained. */
export interface MailSignIn {
  readonly tokens: MailTokens;
  readonly kind: OAuth2Settings['kind'];
}

// One set of tokens per configuration, so that in a process the SMTP transport and the IMAP
// listener share them (one token fetch serves both).
const signIns = new WeakMap<object, MailSignIn>();

/**
 * The process's OAuth2 tokens for `config`, or undefined when the servers take passwords.
 *
 * @throws GymError CONFIG_INVALID when GOOGLE_SERVICE_ACCOUNT_FILE cannot be used.
 */
export function mailSignIn(config: Partial<Pick<Config, 'oauth2'>>): MailSignIn | undefined {
  if (config.oauth2 === undefined) return undefined;
  let signIn = signIns.get(config);
  if (signIn === undefined) {
    signIn = { tokens: mailTokens(oauth2Settings(config.oauth2)), kind: config.oauth2.kind };
    signIns.set(config, signIn);
  }
  return signIn;
}
