import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { Config } from '../../config/config.js';
import { GymError } from '../../errors.js';
import { parsePreference, preferenceHint } from '../../language/languages.js';
import { startPreviewServer } from '../../http/preview-server.js';
import {
  defaultSample,
  parseSampleLearner,
  type SampleLearner,
} from '../../preview/sample-learner.js';
import { createLogger } from '../logger.js';

export function readSample(file: string | undefined): SampleLearner {
  if (file === undefined) return defaultSample;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new GymError(
      'USAGE',
      `cannot read the sample learner ${file}: ${(cause as Error).message}`,
      { file },
      { cause },
    );
  }
  return parseSampleLearner(text, file);
}

export function previewCommand(getConfig: () => Config): Command {
  return new Command('preview')
    .description(
      'serve a local page with every email and invite of a programme, rendered for a sample\n' +
        'learner, reloading by itself when a sequence file or an email layout changes',
    )
    .argument('[sequence]', 'a programme id or file to open first (all of sequences/ are served)')
    .option(
      '--learner <file>',
      'a sample learner (YAML: learner, manager, starts_on); default Sam Taylor, press officer',
    )
    .option('--dir <path>', 'the sequence files or folder', 'sequences')
    .option(
      '--language <cy|en|cy+en>',
      'open the programme in this language (the page has a switch for the others)',
    )
    .option('--port <n>', 'the port to listen on (0: any free port)', '4000')
    .option('--host <address>', 'the address to listen on', '127.0.0.1')
    .action(
      async (
        sequence: string | undefined,
        options: { learner?: string; dir: string; port: string; host: string; language?: string },
      ) => {
        const config = getConfig();
        const language =
          options.language === undefined ? undefined : parsePreference(options.language);
        if (options.language !== undefined && language === undefined)
          throw new GymError('USAGE', `--language ${options.language}: expected ${preferenceHint}`);
        const port = Number(options.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          throw new GymError(
            'USAGE',
            `--port ${options.port}: expected a port number from 0 to 65535`,
          );
        }
        const log = createLogger(config.logLevel, 'gym-preview');
        const server = await startPreviewServer({
          paths: [options.dir],
          sample: readSample(options.learner),
          replyAddress: config.replyAddress,
          host: options.host,
          port,
          now: () => new Date(),
          log,
        });
        const query = language === undefined ? '' : `?lang=${encodeURIComponent(language)}`;
        const page =
          sequence === undefined
            ? server.url
            : `${server.url}/p/${encodeURIComponent(sequence)}${query}`;
        process.stdout.write(
          `Preview: ${page}\n(watching ${options.dir} and the email layouts; Ctrl+C to stop)\n`,
        );
        log.info({ url: server.url }, 'preview serving');
        await new Promise<void>((stopped) => {
          const stop = () => void server.close().then(stopped);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      },
    );
}
