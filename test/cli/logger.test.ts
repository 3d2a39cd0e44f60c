import { describe, expect, it, vi } from 'vitest';
import { createLogger, readableLine } from '../../src/cli/logger.js';

/** A stream that keeps what is written, and says whether it is a terminal. */
function capture(isTTY: boolean) {
  const written: string[] = [];
  return { written, stream: { isTTY, write: (text: string) => written.push(text) } };
}

describe('logs', () => {
  it('are one readable line per event on a terminal', () => {
    vi.stubEnv('NO_COLOR', '1');
    const { written, stream } = capture(true);
    const log = createLogger('info', 'gym-run', stream);
    log.error(
      { component: 'relay', since: '2027-01-04T09:00:00.000Z', attempts: 3 },
      'the SMTP relay relay.example.org:587 refused all 3 messages: MAIL FROM: 550 5.7.1 go away',
    );
    log.debug({}, 'not at info');
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(
      /^\d\d:\d\d:\d\d ERROR the SMTP relay relay\.example\.org:587 refused all 3 messages: MAIL FROM: 550 5\.7\.1 go away {2}component=relay since=2027-01-04T09:00:00\.000Z attempts=3\n$/,
    );
    expect(written[0]).not.toMatch(/[{}]|"level"|"pid"/);
    vi.unstubAllEnvs();
  });

  it('are JSON, one object a line, anywhere else (a file, a pipe, a collector)', () => {
    const { written, stream } = capture(false);
    const log = createLogger('info', 'gym-run', stream);
    log.info({ sent: 10 }, 'dispatched');
    expect(written).toHaveLength(1);
    expect(JSON.parse(written[0]!)).toMatchObject({
      level: 30,
      name: 'gym-run',
      msg: 'dispatched',
      sent: 10,
    });
  });

  it('never pass a control character to the terminal', () => {
    const line = readableLine(
      JSON.stringify({ level: 40, time: 0, msg: 'subject \u001b[2Jcleared', subject: 'a\u001bb' }),
      { colour: false },
    );
    expect(line).not.toContain('\u001b');
    expect(line).toMatch(/WARN {2}subject \[2Jcleared {2}subject="a\\u001bb"\n$/);
  });
});
