import { describe, expect, it } from 'vitest';
import { faultReporter, healthBoard, relayVerdict } from '../../src/engine/health.js';
import { isLoopbackAddress } from '../../src/http/gym-server.js';
import { isRecipientRefusal, type SendTally } from '../../src/mail/watched-transport.js';

const relay = 'smtp relay.example.org:587 (pooled, 5 connections)';
const tally = (over: Partial<SendTally>): SendTally => ({
  attempted: 0,
  accepted: 0,
  relayRefusals: 0,
  firstRefusal: undefined,
  ...over,
});

describe('what a tick says about the relay', () => {
  it('is a fault only when nothing went and the relay itself refused', () => {
    const refusal = { reason: 'MAIL FROM: 550 5.7.1 sender not allowed' };
    expect(relayVerdict(tally({ attempted: 3, relayRefusals: 3, firstRefusal: refusal }), relay))
      .toMatchInlineSnapshot(`
        {
          "fault": "the SMTP relay relay.example.org:587 took none of the 3 messages: MAIL FROM: 550 5.7.1 sender not allowed",
        }
      `);
    expect(
      relayVerdict(tally({ attempted: 1, relayRefusals: 1, firstRefusal: refusal }), relay),
    ).toEqual({
      fault:
        'the SMTP relay relay.example.org:587 did not take the only message: MAIL FROM: 550 5.7.1 sender not allowed',
    });
    // One message through is a working relay, whatever happened to the others.
    expect(
      relayVerdict(
        tally({ attempted: 3, accepted: 1, relayRefusals: 2, firstRefusal: refusal }),
        relay,
      ),
    ).toBe('ok');
    // Nothing to send, or only unknown recipients: nothing is known about the relay.
    expect(relayVerdict(tally({}), relay)).toBe('unknown');
    expect(relayVerdict(tally({ attempted: 2 }), relay)).toBe('unknown');
  });

  it.each([
    [
      { reason: 'x', command: 'RCPT TO', responseCode: 550, response: '550 5.1.1 no such user' },
      true,
    ],
    [{ reason: 'x', command: 'DATA', responseCode: 552, response: '552 5.2.2 mailbox full' }, true],
    [{ reason: 'x', code: 'EENVELOPE' }, true],
    [
      {
        reason: 'x',
        code: 'EENVELOPE',
        command: 'MAIL FROM',
        responseCode: 550,
        response: '550 5.7.1 go away',
      },
      false,
    ],
    [
      { reason: 'x', command: 'RCPT TO', responseCode: 554, response: '554 5.7.1 relaying denied' },
      false,
    ],
    [{ reason: 'x', command: 'RCPT TO', responseCode: 550, response: '550 go away' }, false],
    [
      { reason: 'x', command: 'MAIL FROM', responseCode: 550, response: '550 5.1.8 bad sender' },
      false,
    ],
    [{ reason: 'x', command: 'CONN', code: 'ECONNECTION' }, false],
    [{ reason: 'x', command: 'AUTH PLAIN', code: 'EAUTH', responseCode: 535 }, false],
  ])('%o is about one recipient: %s', (problem, expected) => {
    expect(isRecipientRefusal(problem)).toBe(expected);
  });
});

describe('the fault log', () => {
  it('says a fault once a minute while it lasts, and once when it clears', () => {
    const lines: string[] = [];
    const log = {
      info: (_: object, message: string) => lines.push(`info ${message}`),
      error: (_: object, message: string) => lines.push(`error ${message}`),
    };
    let clock = 0;
    const board = healthBoard();
    const faults = faultReporter(board, log, { monotonic: () => clock });
    const at = new Date('2027-01-04T09:00:00Z');
    for (clock = 0; clock < 60_000; clock += 5_000) faults.failing('relay', 'refused', at);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error refused; nothing is being sent; .*Check SMTP_URL/);
    faults.failing('relay', 'refused', at); // a minute on
    expect(lines).toHaveLength(2);
    expect(board.faults()).toEqual([{ component: 'relay', reason: 'refused', since: at }]);
    faults.working('relay');
    faults.working('relay');
    expect(lines.slice(2)).toEqual(['info the relay is working again']);
    expect(board.faults()).toEqual([]);
    faults.failing('mailbox', 'cannot reach the mailbox', at);
    expect(lines).toHaveLength(4);
  });
});

describe('who is told why /healthz fails', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['192.0.2.2', false],
    ['::ffff:192.0.2.2', false],
    ['fd00::2', false],
    ['1270.0.0.1', false],
    [undefined, false],
  ])('%s is on this machine: %s', (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });
});
