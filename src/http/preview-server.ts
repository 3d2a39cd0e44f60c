import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { GymError, messageOf } from '../errors.js';
import { nextMonday } from '../planner/step-time.js';
import {
  languagePreferences,
  parsePreference,
  preferenceOf,
  type LanguagePreference,
} from '../language/languages.js';
import { compileProgramme, defaultLayoutDir, readLayoutSources } from '../render/index.js';
import { offeredLanguages, type Sequence } from '../sequence/schema.js';
import { loadProgrammes, type LoadedProgramme } from '../preview/load.js';
import { brokenProgrammePage, indexPage, programmePage } from '../preview/page.js';
import { previewProgramme, type ProgrammePreview } from '../preview/programme-preview.js';
import type { SampleLearner } from '../preview/sample-learner.js';

/** What the server tells the operator; pino's logger fits. */
export interface PreviewLog {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface PreviewServerOptions {
  /** Sequence files or folders. */
  readonly paths: readonly string[];
  readonly cwd?: string;
  readonly layoutDir?: string;
  readonly sample: SampleLearner;
  readonly replyAddress: string;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly now: () => Date;
  readonly log: PreviewLog;
}

export interface PreviewServer {
  readonly url: string;
  /** Goes up by one each time the files are read again. */
  version(): number;
  /** Reads and compiles the files again, then tells every open page to reload. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

interface State {
  readonly version: number;
  readonly programmes: readonly LoadedProgramme[];
  /** Each programme in its first language, rendered when the files were read. */
  readonly previews: ReadonlyMap<string, ProgrammePreview>;
  /** Its other languages (#15), rendered on first request: `${id}:${preference}`. */
  readonly inLanguage: Map<string, Promise<ProgrammePreview>>;
  readonly startsOn: string;
}

/**
 * The language preferences a programme can be previewed in: each language it offers and, when
 * it offers Welsh and English, both in one email (`cy+en`), as learners get them.
 */
export function previewLanguages(sequence: Sequence): LanguagePreference[] {
  const offered = offeredLanguages(sequence);
  return languagePreferences.filter(
    (p) => p === preferenceOf(offered) || (offered as string[]).includes(p),
  );
}

/** `?lang=cy`, `?lang=cy%2Ben`; a bare "+" arrives as a space and is read as one. */
function wantedLanguage(url: URL): LanguagePreference | undefined | 'unknown' {
  const raw = url.searchParams.get('lang');
  if (raw === null || raw === '') return undefined;
  return parsePreference(raw.replace(/ /g, '+')) ?? 'unknown';
}

/**
 * The trainer's preview: a local web page per programme with every email (HTML and text) and
 * invite of the twelve weeks rendered for a sample learner. It watches the sequence files and the
 * email layouts, and open pages reload themselves when one changes.
 */
export async function startPreviewServer(options: PreviewServerOptions): Promise<PreviewServer> {
  const cwd = options.cwd ?? process.cwd();
  const layoutDir = options.layoutDir ?? defaultLayoutDir;
  let state: State = {
    version: 0,
    programmes: [],
    previews: new Map(),
    inLanguage: new Map(),
    startsOn: '',
  };
  const listeners = new Set<ServerResponse>();

  async function build(version: number): Promise<State> {
    const programmes = await loadProgrammes(options.paths, { cwd, layoutDir });
    const previews = new Map<string, ProgrammePreview>();
    const startsOn =
      options.sample.starts_on ?? nextMonday(options.now(), options.sample.learner.time_zone);
    for (const programme of programmes) {
      if (!programme.ok) continue;
      previews.set(
        programme.sequence.id,
        previewProgramme({
          sequence: programme.sequence,
          hash: programme.hash,
          compiled: programme.compiled,
          sample: options.sample,
          startsOn,
          replyAddress: options.replyAddress,
          stamp: options.now(),
        }),
      );
    }
    return { version, programmes, previews, inLanguage: new Map(), startsOn };
  }

  /** A programme's preview in one language preference, compiled the first time it is asked for. */
  function previewIn(
    id: string,
    language: LanguagePreference | undefined,
  ): Promise<ProgrammePreview> | undefined {
    const first = state.previews.get(id);
    const programme = state.programmes.find((p) => p.ok && p.sequence.id === id);
    if (first === undefined || programme === undefined || !programme.ok) return undefined;
    if (language === undefined || language === programme.compiled.language)
      return Promise.resolve(first);
    const key = `${id}:${language}`;
    let preview = state.inLanguage.get(key);
    if (preview === undefined) {
      const { startsOn } = state;
      preview = readLayoutSources(layoutDir)
        .then((layouts) =>
          compileProgramme(programme.sequence, { layouts, validation: 'soft', language }),
        )
        .then((compiled) =>
          previewProgramme({
            sequence: programme.sequence,
            hash: programme.hash,
            compiled,
            sample: options.sample,
            startsOn,
            replyAddress: options.replyAddress,
            stamp: options.now(),
          }),
        );
      state.inLanguage.set(key, preview);
    }
    return preview;
  }

  async function reload(): Promise<void> {
    try {
      state = await build(state.version + 1);
      const broken = state.programmes.filter((p) => !p.ok).map((p) => p.path);
      options.log.info(
        { version: state.version, programmes: state.programmes.length, broken },
        'preview reloaded',
      );
    } catch (error) {
      // A folder removed mid-edit, say: keep serving the last good state and say why.
      options.log.error({ err: messageOf(error) }, 'preview could not reload');
      return;
    }
    for (const listener of listeners) listener.write(`event: reload\ndata: ${state.version}\n\n`);
  }

  state = await build(1);

  const server = createServer((request, response) => {
    handle(request.url ?? '/', request, response).catch((error: unknown) => {
      options.log.error({ err: messageOf(error), url: request.url }, 'preview page failed');
      if (!response.headersSent)
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`the preview failed: ${messageOf(error)}\n`);
    });
  });

  async function handle(
    path: string,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    const url = new URL(path, 'http://preview');
    const send = (status: number, type: string, body: string) => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(body);
    };
    const html = 'text/html; charset=utf-8';
    if (url.pathname === '/events') {
      response.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      response.write(': connected\n\n');
      listeners.add(response);
      request.on('close', () => listeners.delete(response));
      return;
    }
    if (url.pathname === '/') return send(200, html, indexPage(state.programmes, state.version));
    if (url.pathname === '/health') return send(200, 'text/plain', `ok ${state.version}\n`);

    const match = /^\/p\/([^/]+)(?:\/([a-z0-9-]+)\.(html|ics))?$/.exec(url.pathname);
    const id = match ? decodeURIComponent(match[1]!) : undefined;
    const programme = state.programmes.find((p) => p.ok && p.sequence.id === id);
    const wanted = wantedLanguage(url);
    if (match && programme?.ok && wanted !== undefined) {
      const offered = previewLanguages(programme.sequence);
      if (wanted === 'unknown' || !offered.includes(wanted))
        return send(
          404,
          'text/plain; charset=utf-8',
          `programme "${id}" is not in language "${url.searchParams.get('lang')}"; it offers ${offered.join(', ')} (e.g. ?lang=${encodeURIComponent(offered[0]!)})\n`,
        );
    }
    const language = wanted === 'unknown' ? undefined : wanted;
    const preview = id === undefined ? undefined : await previewIn(id, language);
    if (match && preview === undefined) {
      const broken = state.programmes.find((p) => !p.ok && p.id === id);
      if (broken && !broken.ok && match[2] === undefined)
        return send(200, html, brokenProgrammePage(broken, state.version));
      return send(404, 'text/plain', `no programme "${id}" here; see / for the list\n`);
    }
    if (preview !== undefined && match && programme?.ok) {
      const [, , name, extension] = match;
      if (name === undefined)
        return send(
          200,
          html,
          programmePage(preview, state.version, {
            current: language ?? programme.compiled.language,
            offered: previewLanguages(programme.sequence),
          }),
        );
      if (extension === 'html' && name === 'welcome') return send(200, html, preview.welcome.html);
      if (extension === 'html' && name === 'end') return send(200, html, preview.end.html);
      const item = preview.weeks.flatMap((w) => w.items).find((i) => i.fileName === `${name}.eml`);
      if (item?.kind === 'email' && extension === 'html') return send(200, html, item.email.html);
      if (item?.kind === 'invite' && extension === 'ics')
        return send(200, 'text/calendar; charset=utf-8', item.ics);
    }
    send(404, 'text/plain', 'not found\n');
  }

  await new Promise<void>((ready, fail) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      fail(
        error.code === 'EADDRINUSE'
          ? new GymError(
              'USAGE',
              `port ${options.port} is in use by another program; pass --port 0 for any free port`,
            )
          : error,
      ),
    );
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', ready);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;

  const watchers = await watchForChanges(
    [...options.paths.map((p) => resolve(cwd, p)), layoutDir],
    () => {
      void reload();
    },
  );

  return {
    url,
    version: () => state.version,
    reload,
    async close() {
      for (const watcher of watchers) watcher.close();
      for (const listener of listeners) listener.end();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/**
 * Calls `onChange` once per burst of changes under the given files and folders. A file's folder
 * is watched rather than the file, because editors save by replacing the file.
 */
async function watchForChanges(
  targets: readonly string[],
  onChange: () => void,
): Promise<FSWatcher[]> {
  const folders = new Set<string>();
  for (const target of targets)
    folders.add((await stat(target)).isDirectory() ? target : dirname(target));
  let timer: NodeJS.Timeout | undefined;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, 100);
  };
  return [...folders].map((folder) => watch(folder, { recursive: true }, changed));
}
