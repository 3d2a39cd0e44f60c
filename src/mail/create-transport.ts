import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { createMaildirTransport } from './maildir-transport.js';
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
  config: Pick<Config, 'smtpUrl' | 'dkim' | 'dataDir'>,
  smtp: Omit<SmtpTransportOptions, 'url' | 'dkim'> = {},
): MailTransport {
  if (config.smtpUrl !== undefined) {
    return createSmtpTransport({ ...smtp, url: config.smtpUrl, dkim: config.dkim });
  }
  return createMaildirTransport({ dir: join(config.dataDir, 'outbox') });
}
