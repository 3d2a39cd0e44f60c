import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { onPath } from './servers.js';

/** Debian's Dovecot 2.3 (dovecot-imapd), as found on PATH; CI's .ci/run installs it. */
function dovecotPaths(): { dovecot: string; doveadm: string } {
  const dovecot = onPath('dovecot');
  const doveadm = onPath('doveadm');
  if (dovecot === undefined || doveadm === undefined) {
    throw new Error(
      'dovecot or doveadm is not on PATH: apt-get install -y --no-install-recommends ' +
        "dovecot-imapd (CI's .ci/run does; dovecot is in /usr/sbin); the IMAP tests need a real " +
        'Dovecot 2.3',
    );
  }
  return { dovecot, doveadm };
}

export interface Dovecot {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** `imap://user:password@127.0.0.1:port/INBOX`, with the user and password URL-encoded. */
  readonly url: string;
  /** Delivers one message into INBOX as an MTA would (`doveadm save`). */
  deliver(raw: Buffer | string): Promise<void>;
  /** Delivers many, a few `doveadm save` at a time; resolves when all are in. */
  deliverAll(raws: readonly (Buffer | string)[], concurrency?: number): Promise<void>;
  /** Drops every IMAP connection of the user (`doveadm kick`); false when none was open. */
  kick(): Promise<boolean>;
  /** Gives INBOX a new UIDVALIDITY, as a server restored from backup would. */
  setUidValidity(uidValidity: number): Promise<void>;
  /** Messages in `mailbox` (`doveadm mailbox status`). */
  count(mailbox: string): Promise<number>;
  /** The Message-ID header of every message in `mailbox`, in UID order (duplicates kept). */
  messageIds(mailbox: string): Promise<string[]>;
  /** Any other doveadm command, with this instance's config: `['move', '-u', user, ...]`. */
  doveadm(args: readonly string[]): Promise<string>;
  /** What Dovecot wrote to its log (stderr), for a failing test's message. */
  log(): string;
  stop(): Promise<void>;
}

// As root, Dovecot refuses to run its login and internal processes as root, and the mail is
// written as the userdb's uid: nobody/nogroup.
const mailUid = 65534;
const mailGid = 65534;

/**
 * Starts a throwaway Dovecot 2.3 in the foreground with its own config, port and folders
 * (testing.md, "IMAP: Dovecot 2.3"). One user, `engine@example.test`, whose INBOX is a Maildir
 * and who has `Processed` and `Failed` folders from the start.
 */
export async function startDovecot(
  options: {
    /**
     * Also sign in with OAuth2 (XOAUTH2, OAUTHBEARER): Dovecot's oauth2 passdb asks this RFC 7662
     * introspection endpoint whether a token is active and whose it is.
     */
    oauth2IntrospectionUrl?: string;
  } = {},
): Promise<Dovecot> {
  const { dovecot: dovecotPath, doveadm: doveadmPath } = dovecotPaths();
  const runningAsRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'gym-dovecot-'));
  // The auth process (dovecot user) reads the users file and the imap process (nobody) the mail
  // folders, both under this directory.
  await chmod(dir, 0o755);
  const port = await freePort();
  const user = 'engine@example.test';
  const password = 'secret';
  const config = join(dir, 'dovecot.conf');
  await mkdir(join(dir, 'mail'));
  await mkdir(join(dir, 'home'));
  if (runningAsRoot) {
    await chown(join(dir, 'mail'), mailUid, mailGid);
    await chown(join(dir, 'home'), mailUid, mailGid);
  }
  await writeFile(join(dir, 'users'), `${user}:{PLAIN}${password}::::::\n`, { mode: 0o644 });
  const ids = runningAsRoot
    ? {
        uid: mailUid,
        gid: mailGid,
        internalUser: 'dovecot',
        internalGroup: 'dovecot',
        login: 'dovenull',
      }
    : currentUserIds();
  if (options.oauth2IntrospectionUrl !== undefined) {
    await writeFile(
      join(dir, 'oauth2.conf.ext'),
      [
        'introspection_mode = post',
        `introspection_url = ${options.oauth2IntrospectionUrl}`,
        'force_introspection = yes',
        'username_attribute = username',
        'active_attribute = active',
        'active_value = true',
        '',
      ].join('\n'),
      { mode: 0o644 },
    );
  }
  await writeFile(
    config,
    configText({ dir, port, ...ids, oauth2: options.oauth2IntrospectionUrl !== undefined }),
  );

  let logText = '';
  const child = spawn(dovecotPath, ['-F', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (chunk: Buffer) => {
    // Enough to explain a failure, without growing without bound over a long test.
    logText = (logText + chunk.toString('utf8')).slice(-200_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  try {
    await waitForGreeting(port, child, () => logText);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const doveadm = (args: readonly string[], input?: Buffer | string) =>
    run(doveadmPath, ['-c', config, ...args], input);
  const deliver = async (raw: Buffer | string) => {
    await doveadm(['save', '-u', user], raw);
  };

  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    url: `imap://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/INBOX`,
    deliver,
    async deliverAll(raws, concurrency = 8) {
      let next = 0;
      const worker = async () => {
        while (next < raws.length) {
          const raw = raws[next++];
          if (raw !== undefined) await deliver(raw);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, raws.length) }, worker));
    },
    async kick() {
      try {
        await doveadm(['kick', user]);
        return true;
      } catch (error) {
        // doveadm's EX_NOUSER: "No users kicked", nobody was connected at that moment.
        if ((error as { exitCode?: unknown }).exitCode === 68) return false;
        throw error;
      }
    },
    async setUidValidity(uidValidity) {
      await doveadm([
        'mailbox',
        'update',
        '-u',
        user,
        '--uid-validity',
        String(uidValidity),
        'INBOX',
      ]);
    },
    async count(mailbox) {
      const out = await doveadm(['mailbox', 'status', '-u', user, 'messages', mailbox]);
      const match = /messages=(\d+)/.exec(out);
      if (match?.[1] === undefined) throw new Error(`unexpected doveadm mailbox status: ${out}`);
      return Number(match[1]);
    },
    async messageIds(mailbox) {
      const out = await doveadm(['fetch', '-u', user, 'hdr.message-id', 'mailbox', mailbox, 'all']);
      return [...out.matchAll(/^hdr\.message-id:[ \t]*(\S*)/gim)].map((match) => match[1] ?? '');
    },
    doveadm: (args) => doveadm(args),
    log: () => logText,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const stopped = await Promise.race([exited.then(() => true), sleep(5000, false)]);
        if (!stopped) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function configText(options: {
  dir: string;
  port: number;
  uid: number;
  gid: number;
  internalUser: string;
  internalGroup: string;
  login: string;
  oauth2: boolean;
}): string {
  const { dir, port } = options;
  const oauth2Passdb = options.oauth2
    ? `passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = ${dir}/oauth2.conf.ext
}
`
    : '';
  return `# Written by test/helpers/dovecot.ts for one test run.
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = gym-test-${port}
log_path = /dev/stderr
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login${options.oauth2 ? ' xoauth2 oauthbearer\nauth_failure_delay = 0' : ''}
first_valid_uid = 1
first_valid_gid = 1
default_internal_user = ${options.internalUser}
default_internal_group = ${options.internalGroup}
default_login_user = ${options.login}
mail_location = maildir:${dir}/mail/%u

${oauth2Passdb}passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = uid=${options.uid} gid=${options.gid} home=${dir}/home/%u
}

service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}

namespace inbox {
  inbox = yes
  mailbox Processed {
    auto = create
  }
  mailbox Failed {
    auto = create
  }
}
`;
}

/** Not root: every Dovecot process runs as the current user. */
function currentUserIds() {
  const name = process.env.USER ?? 'nobody';
  return {
    uid: process.getuid?.() ?? mailUid,
    gid: process.getgid?.() ?? mailGid,
    internalUser: name,
    internalGroup: name,
    login: name,
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Waits until the port answers with an IMAP greeting, or fails early if Dovecot exits. */
async function waitForGreeting(port: number, child: ChildProcess, log: () => string) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`dovecot exited (${child.exitCode ?? child.signalCode}):\n${log()}`);
    }
    if (await greets(port)) return;
    await sleep(50);
  }
  throw new Error(`dovecot did not greet on port ${port} within 15 s:\n${log()}`);
}

function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let received = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n')) done(received.startsWith('* OK'));
    });
  });
}

function run(file: string, args: readonly string[], input?: Buffer | string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) {
        reject(
          Object.assign(new Error(`${file} ${args.join(' ')} failed: ${stderr || error.message}`), {
            exitCode: error.code,
          }),
        );
      } else {
        resolve(stdout);
      }
    });
    // A doveadm that exits without reading its input (kick, status) closes the pipe: EPIPE on
    // our side, which is no failure of its own (the exit code says how it went).
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
  });
}
