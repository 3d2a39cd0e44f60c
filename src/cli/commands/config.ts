import { Command } from 'commander';
import type { Config } from '../../config/config.js';
import { databaseConfigFor } from '../../db/database.js';

/** Shows the configuration in effect, so an operator can see what a worker will use. */
export function configCommand(getConfig: () => Config): Command {
  return new Command('config')
    .description(
      'check the configuration (environment and .env) and show what is in effect, secrets hidden',
    )
    .action(() => {
      const config = getConfig();
      const database = databaseConfigFor(config);
      const lines = [
        [
          'database',
          database.kind === 'postgres'
            ? hidePassword(database.url)
            : `embedded PGlite in ${database.dataDir}`,
        ],
        [
          'sending',
          config.smtpUrl
            ? hidePassword(config.smtpUrl)
            : `Maildir outbox in ${config.dataDir}/outbox`,
        ],
        [
          'send rate cap',
          config.smtpMaxPerSecond
            ? `${config.smtpMaxPerSecond} per second, all workers together`
            : 'none',
        ],
        [
          'replies',
          config.imapUrl
            ? hidePassword(config.imapUrl)
            : `Maildir inbox in ${config.dataDir}/inbox`,
        ],
        ['sign-in', signIn(config)],
        ['from', config.from],
        ['reply address', config.replyAddress],
        [
          'secret',
          config.secretIsBuiltIn
            ? 'built-in (embedded default only; set GYM_SECRET for real use)'
            : 'set',
        ],
        ['public URL', config.publicUrl ?? 'none (unsubscribe by mail only)'],
        [
          'DKIM',
          config.dkim ? `${config.dkim.keySelector}._domainkey.${config.dkim.domainName}` : 'off',
        ],
        ['HTTP address', `${config.httpHost}:${config.httpPort}`],
        ['log level', config.logLevel],
        [
          'trainer alerts',
          config.trainerAddress === undefined
            ? 'off: set GYM_TRAINER_ADDRESS (the "too hard" and "help" answers promise the trainer will get in touch)'
            : `to ${config.trainerAddress}, working days from 08:00 ${config.trainerTimeZone}`,
        ],
        ['raw mail kept', `${config.retainRawDays} days (GYM_RETAIN_RAW_DAYS)`],
      ] as const;
      const width = Math.max(...lines.map(([label]) => label.length));
      for (const [label, value] of lines)
        process.stdout.write(`${label.padEnd(width)}  ${value}\n`);
    });
}

function signIn(config: Config): string {
  if (config.oauth2 === undefined) return 'password in SMTP_URL / IMAP_URL';
  if (config.oauth2.kind === 'service_account') {
    return `OAuth2, Google service account key ${config.oauth2.keyFile}`;
  }
  return `OAuth2 client credentials: client ${config.oauth2.clientId} at ${config.oauth2.tokenUrl}, scope ${config.oauth2.scope} (secret hidden)`;
}

function hidePassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
