import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runGym, startGym } from '../helpers/cli.js';

/**
 * The open network (#16): `gym run` used to listen on 0.0.0.0 and accept tokens signed with the
 * built-in secret, which is in the source, so anyone on the network could unsubscribe everyone.
 */

const strongSecret = 'f3a9c1d27be84e0f9a6b5c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f';

/** This machine's first address that another machine could reach, if it has one. */
const outsideAddress = Object.values(networkInterfaces())
  .flat()
  .find((info) => info !== undefined && info.family === 'IPv4' && !info.internal)?.address;

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function portOf(
  worker: ReturnType<typeof startGym>,
): Promise<{ host: string; port: number }> {
  const line = await worker.waitForLog(/"msg":"dispatcher started"/);
  const url = new URL((JSON.parse(line) as { http: string }).http);
  return { host: url.hostname, port: Number(url.port) };
}

describe('Built-in secret: gym run never listens beyond loopback with it', () => {
  const dataDir = () => mkdtempSync(join(tmpdir(), 'gym-open-'));

  it('on the embedded defaults it runs, bound to 127.0.0.1 only', async () => {
    const worker = startGym(['run'], { GYM_DATA_DIR: dataDir(), GYM_HTTP_PORT: '0' });
    try {
      const { host, port } = await portOf(worker);
      expect(host).toBe('127.0.0.1');
      expect(await accepts('127.0.0.1', port)).toBe(true);
      if (outsideAddress !== undefined) expect(await accepts(outsideAddress, port)).toBe(false);
    } finally {
      expect((await worker.stop('SIGTERM')).code).toBe(0);
    }
  });

  it.skipIf(outsideAddress === undefined)(
    'GYM_HTTP_HOST=0.0.0.0 with a strong GYM_SECRET is reachable from outside (the check above can fail)',
    async () => {
      const worker = startGym(['run'], {
        GYM_DATA_DIR: dataDir(),
        GYM_HTTP_PORT: '0',
        GYM_HTTP_HOST: '0.0.0.0',
        GYM_SECRET: strongSecret,
      });
      try {
        const { port } = await portOf(worker);
        expect(await accepts(outsideAddress!, port)).toBe(true);
      } finally {
        expect((await worker.stop('SIGTERM')).code).toBe(0);
      }
    },
  );

  it.each([
    ['GYM_PUBLIC_URL set', { GYM_PUBLIC_URL: 'https://gym.example.org' }, 'GYM_PUBLIC_URL'],
    ['GYM_HTTP_HOST=0.0.0.0', { GYM_HTTP_HOST: '0.0.0.0' }, 'GYM_HTTP_HOST=0.0.0.0'],
  ])(
    'with %s and the built-in secret, it refuses to start with one line',
    async (_, env, named) => {
      const result = await runGym(['run'], { GYM_DATA_DIR: dataDir(), GYM_HTTP_PORT: '0', ...env });
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^gym: GYM_SECRET: required when .*since the built-in secret is public/,
      );
      expect(lines[0]).toContain(`(here: ${named})`);
    },
  );

  it('a weak GYM_SECRET is refused with one line that does not show it', async () => {
    const result = await runGym(['run', '--once'], {
      GYM_DATA_DIR: dataDir(),
      GYM_SECRET: 'password'.repeat(5),
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('GYM_SECRET');
    expect(result.stderr).toContain('one short run of characters repeated');
    expect(result.stderr).not.toContain('password');
  });
});

describe('SMTP_MAX_PER_SECOND', () => {
  it('SMTP_MAX_PER_SECOND=0.5: gym run refuses to start with one line, before claiming anything', async () => {
    const result = await runGym(['run', '--once'], {
      GYM_DATA_DIR: mkdtempSync(join(tmpdir(), 'gym-rate-')),
      SMTP_MAX_PER_SECOND: '0.5',
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      'gym: SMTP_MAX_PER_SECOND: expected a whole number of messages per second, 1 or more, such as 10 (no fractions) (got "0.5")',
    ]);
  });
});
