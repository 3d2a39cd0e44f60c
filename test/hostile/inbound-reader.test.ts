import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InboundParseError,
  InboundTooLargeError,
  maxInboundBytes,
} from '../../src/replies/parse-mail.js';
import { readMessage } from '../../src/replies/read.js';
import type { ReadMessage } from '../../src/replies/types.js';

/**
 * The reply reader (readMessage: parse, classify, visible text, intent) on hostile bytes, with no
 * database. The contract (src/replies/read.ts): it returns a kind for anything, and throws only
 * InboundTooLargeError or InboundParseError, which the handler parks.
 */

const kinds = ['reply', 'auto_reply', 'bounce', 'rsvp'];
const intents = [
  'done',
  'too_hard',
  'pause',
  'resume',
  'skip',
  'stop',
  'help',
  'rating',
  'reflection',
  'empty',
];

/** Reads, and checks the shape of what came back; a documented error is returned, anything else fails. */
async function readOrDocumentedError(raw: Uint8Array): Promise<ReadMessage | Error> {
  let read: ReadMessage;
  try {
    read = await readMessage(raw);
  } catch (error) {
    expect(error, String(error)).toSatisfy(
      (e: unknown) => e instanceof InboundTooLargeError || e instanceof InboundParseError,
    );
    return error as Error;
  }
  expect(kinds).toContain(read.kind);
  expect(typeof read.subject).toBe('string');
  expect(typeof read.text).toBe('string');
  expect(Array.isArray(read.recipients)).toBe(true);
  if (read.kind === 'reply') expect(intents).toContain(read.intent?.type);
  else expect(read.intent).toBeUndefined();
  if (read.date !== undefined) expect(Number.isNaN(read.date.getTime())).toBe(false);
  return read;
}

const top = [
  'From: Ana Lopez <ana.lopez@example.gov.uk>',
  'To: progress@gym.example.gov.uk',
  'Subject: Re: Week 1',
  'Message-ID: <hostile@mail.example.test>',
  'Date: Mon, 04 Jan 2027 11:00:00 +0000',
  'MIME-Version: 1.0',
];
const message = (headers: readonly string[], body: string | Buffer): Buffer =>
  Buffer.concat([
    Buffer.from(`${[...top, ...headers].join('\r\n')}\r\n\r\n`, 'latin1'),
    typeof body === 'string' ? Buffer.from(body, 'latin1') : body,
  ]);

/** A text/plain reply of exactly `size` bytes whose first line is "done". */
function replyOfSize(size: number): Buffer {
  const head = message(['Content-Type: text/plain; charset=utf-8'], 'done\r\n');
  const filler = Buffer.alloc(
    size - head.length,
    'and a long line of padding words to fill it\r\n',
  );
  return Buffer.concat([head, filler]);
}

describe('a message at the 25 MiB limit', () => {
  it('one byte over is refused before parsing, saying its size and the limit', async () => {
    const raw = replyOfSize(maxInboundBytes + 1);
    const started = Date.now();
    const error = await readMessage(raw).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InboundTooLargeError);
    expect((error as Error).message).toContain(`${maxInboundBytes + 1} bytes`);
    expect((error as Error).message).toContain(`${maxInboundBytes}-byte limit`);
    expect((error as Error).message).toContain('25 MiB');
    expect(Date.now() - started).toBeLessThan(1000); // refused, not parsed
  });

  it('exactly at the limit is read, and its words are found', async () => {
    const read = await readMessage(replyOfSize(maxInboundBytes));
    expect(read.kind).toBe('reply');
    expect(read.intent).toEqual({ type: 'done' });
  });
});

describe('MIME bombs', () => {
  const flat = (parts: number) =>
    message(
      ['Content-Type: multipart/mixed; boundary="b"'],
      `${Array.from({ length: parts }, (_, i) => `--b\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('')}--b--\r\n`,
    );
  /** `depth` multiparts inside each other, each with its own boundary, "done" at the bottom. */
  const nested = (depth: number) => {
    let body = 'Content-Type: text/plain\r\n\r\ndone\r\n';
    for (let d = depth; d > 0; d--)
      body = `Content-Type: multipart/mixed; boundary="n${d}"\r\n\r\n--n${d}\r\n${body}--n${d}--\r\n`;
    return Buffer.concat([Buffer.from(`${top.join('\r\n')}\r\n`), Buffer.from(body)]);
  };
  /** Nested multiparts that all reuse one boundary and never close. */
  const sameBoundary = (depth: number) =>
    message(
      ['Content-Type: multipart/mixed; boundary="b"'],
      `${'--b\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'.repeat(depth)}done`,
    );

  it.each([
    ['5,000 parts side by side', () => flat(5000)],
    ['50,000 parts side by side', () => flat(50_000)],
    ['2,000 multiparts nested', () => nested(2000)],
    ['20,000 multiparts nested', () => nested(20_000)],
    ['5,000 nested multiparts on one boundary, never closed', () => sameBoundary(5000)],
  ])('%s: refused quickly with the limit named', async (_, build) => {
    const raw = build();
    const started = Date.now();
    const error = await readMessage(raw).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InboundParseError);
    expect((error as Error).message).toMatch(/not parsed: .*\(limits: 200 MIME parts/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses 2 MiB of part headers, and a References header of 100,000 ids', async () => {
    for (const header of [
      `X-Big: ${'a'.repeat(2 * 1024 * 1024)}`,
      `References: ${Array.from({ length: 100_000 }, (_, i) => `<r${i}@x>`).join(' ')}`,
    ]) {
      await expect(readMessage(message([header], 'done'))).rejects.toThrow(
        /not parsed: .*256 KiB of headers per part/,
      );
    }
  });

  it('reads a message just inside the limits: 190 nested multiparts, 199 parts', async () => {
    expect((await readMessage(nested(190))).intent).toEqual({ type: 'done' });
    const wide = await readMessage(flat(199));
    expect(wide.kind).toBe('reply');
    expect(wide.text).toContain('part 198');
  });
});

describe('broken charsets and encodings', () => {
  const text = (headers: string[], body: string | Buffer) =>
    message(['Content-Type: text/plain; charset=utf-8', ...headers], body);
  const cases: [string, Buffer, string | undefined][] = [
    [
      'an unknown charset',
      message(['Content-Type: text/plain; charset=x-klingon'], 'done'),
      'done',
    ],
    [
      'a charset named __proto__',
      message(['Content-Type: text/plain; charset=__proto__'], 'done'),
      'done',
    ],
    [
      'a charset named constructor',
      message(['Content-Type: text/plain; charset=constructor'], 'done'),
      'done',
    ],
    [
      'UTF-16 with an odd byte and a lone surrogate',
      message(
        ['Content-Type: text/plain; charset=utf-16be'],
        Buffer.from([0xd8, 0x00, 0x00, 0x64, 0x00, 0x6f, 0x00, 0x6e, 0x00, 0x65, 0x41]),
      ),
      undefined,
    ],
    [
      'invalid base64',
      text(['Content-Transfer-Encoding: base64'], '!!!!====ZG9uZQ==@@@@\r\n%%%%'),
      undefined,
    ],
    [
      'invalid quoted-printable',
      text(['Content-Transfer-Encoding: quoted-printable'], 'do=ZZne =\r\n=4\r\n=E2=80 ok=='),
      undefined,
    ],
    [
      'an unknown transfer encoding',
      text(['Content-Transfer-Encoding: x-uuencode'], 'begin 644 x\r\ndone\r\nend'),
      undefined,
    ],
    [
      'raw 8-bit bytes in From and Subject',
      Buffer.from(
        message(['Content-Type: text/plain'], 'done')
          .toString('latin1')
          .replace('Ana Lopez <', 'An\xe9 \xff\xfe\xc3\x28 <')
          .replace('Subject: Re: Week 1', 'Subject: Re: W\xe9\xe9k \xc3\x28 1 \xf0\x9f'),
        'latin1',
      ),
      'done',
    ],
    [
      'broken encoded words',
      Buffer.from(
        message(['Content-Type: text/plain'], 'done')
          .toString('latin1')
          .replace(
            'Subject: Re: Week 1',
            'Subject: =?x-nope?Q?=FF=FE?= =?utf-8?B?!!!?= =?utf-8?X?abc?= =?utf-8*en?Q?ok?=',
          )
          .replace('Ana Lopez <', '=?utf-8?B?AAAA?= <'),
        'latin1',
      ),
      'done',
    ],
    [
      'NUL bytes in the headers',
      Buffer.from(
        message(['Content-Type: text/plain'], 'done')
          .toString('latin1')
          .replace('Subject: Re: Week 1', 'Subject: Re:\0 Week\0 1')
          .replace('Ana Lopez <', 'A\0na <'),
        'latin1',
      ),
      'done',
    ],
    ['NUL bytes in the body', text([], 'do\0ne\0\0 and more\0'), undefined],
    ['a body of 100,000 NUL bytes', text([], Buffer.alloc(100_000)), undefined],
    [
      'a header named with NUL bytes',
      Buffer.from('\0\0\0: x\r\nFrom: a@example.org\r\n\r\ndone'),
      'done',
    ],
    ['lone CRs for line ends', Buffer.from('From: a@example.org\rSubject: x\r\rdone'), undefined],
    [
      'a multipart without a boundary',
      message(['Content-Type: multipart/mixed'], 'done'),
      undefined,
    ],
    [
      'a Date past the end of JavaScript time',
      Buffer.from(
        message(['Content-Type: text/plain'], 'done')
          .toString('latin1')
          .replace('Mon, 04 Jan 2027 11:00:00 +0000', 'Sat, 13 Sep 275760 00:00:01 +0000'),
        'latin1',
      ),
      'done',
    ],
  ];

  it.each(cases)('%s: read without throwing', async (_, raw, intent) => {
    const read = await readOrDocumentedError(Buffer.from(raw));
    expect(read).not.toBeInstanceOf(Error);
    if (intent !== undefined) expect((read as ReadMessage).intent?.type).toBe(intent);
  });

  it('reads a calendar reply and a delivery report whose parts have an unknown charset', async () => {
    const rsvp = await readMessage(
      message(
        ['Content-Type: text/calendar; method=REPLY; charset=x-bad'],
        'BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:abc@gym\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:ana.lopez@example.gov.uk\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n',
      ),
    );
    expect(rsvp.kind).toBe('rsvp');
    expect(rsvp.rsvp).toMatchObject({ uid: 'abc@gym', partstat: 'ACCEPTED' });
    const bounce = await readMessage(
      message(
        ['Content-Type: multipart/report; report-type=delivery-status; boundary=q'],
        '--q\r\nContent-Type: message/delivery-status; charset=x-bad\r\n\r\nStatus: 5.\0.1\r\nFinal-Recipient: \xff\xfe\r\n--q--\r\n',
      ),
    );
    expect(kinds).toContain(bounce.kind);
  });

  it('reads 1 MiB of unclosed HTML tags in well under the handler’s time', async () => {
    const started = Date.now();
    const read = await readMessage(
      message(['Content-Type: text/html'], `<p>done</p>${'<b>'.repeat(350_000)}`),
    );
    expect(read.kind).toBe('reply');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

const fixtureDir = fileURLToPath(new URL('../fixtures/replies/', import.meta.url));
const fixtures = readdirSync(fixtureDir)
  .filter((name) => name.endsWith('.eml'))
  .sort()
  .map((name) => readFileSync(`${fixtureDir}${name}`));

describe('fuzzing readMessage end to end (parse, classify, visible text, intent)', () => {
  it('returns a kind or a documented error for arbitrary bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
        await readOrDocumentedError(bytes);
      }),
      { numRuns: 150 },
    );
  });

  it('returns a kind or a documented error for mutated real replies', async () => {
    const hostileBytes = fc.oneof(
      fc.uint8Array({ maxLength: 24 }),
      fc.constantFrom(
        ...[
          '\0',
          '\r',
          '\n',
          '\r\n\r\n',
          '=?utf-8?B?AA==?=',
          '=?x-bad?Q?=FF?=',
          'Content-Type: multipart/mixed; boundary=b\r\n',
          '--b\r\n',
          'Content-Transfer-Encoding: base64\r\n',
          'charset=utf-16',
          '\xff\xfe',
          'stop\r\n',
          'pause until 31 Feb\r\n',
        ].map((s) => Buffer.from(s, 'latin1')),
      ),
    );
    const mutation = fc.record({
      which: fc.nat({ max: fixtures.length - 1 }),
      edits: fc.array(
        fc.record({
          at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          remove: fc.nat({ max: 200 }),
          insert: hostileBytes,
        }),
        { minLength: 1, maxLength: 6 },
      ),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ which, edits }) => {
        let bytes = Buffer.from(fixtures[which]!);
        for (const edit of edits) {
          const at = Math.floor(edit.at * bytes.length);
          bytes = Buffer.concat([
            bytes.subarray(0, at),
            Buffer.from(edit.insert),
            bytes.subarray(at + edit.remove),
          ]);
        }
        await readOrDocumentedError(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('returns a kind or a documented error for random MIME trees', async () => {
    interface Leaf {
      type: string;
      charset: string;
      encoding: string;
      body: string;
    }
    const leaf: fc.Arbitrary<Leaf> = fc.record({
      type: fc.constantFrom(
        'text/plain',
        'text/html',
        'text/calendar; method=REPLY',
        'message/delivery-status',
        'message/rfc822',
        'text/rfc822-headers',
        'application/octet-stream',
      ),
      charset: fc.constantFrom('utf-8', 'x-unknown', 'utf-16', 'iso-8859-1', '__proto__', ''),
      encoding: fc.constantFrom('7bit', 'base64', 'quoted-printable', 'x-weird', ''),
      body: fc.string({ maxLength: 120, unit: 'binary' }),
    });
    type Node = { leaf: Leaf } | { parts: Node[] };
    const { tree } = fc.letrec<{ tree: Node }>((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf.map((l) => ({ leaf: l })),
        fc.array(tie('tree'), { maxLength: 4 }).map((parts) => ({ parts })),
      ),
    }));
    let boundaries = 0;
    const render = (node: Node): string => {
      if ('leaf' in node) {
        const { type, charset, encoding, body } = node.leaf;
        return [
          `Content-Type: ${type}${charset ? `; charset=${charset}` : ''}`,
          ...(encoding ? [`Content-Transfer-Encoding: ${encoding}`] : []),
          '',
          body,
        ].join('\r\n');
      }
      const b = `b${boundaries++}`;
      return [
        `Content-Type: multipart/mixed; boundary="${b}"`,
        '',
        ...node.parts.map((part) => `--${b}\r\n${render(part)}`),
        `--${b}--`,
      ].join('\r\n');
    };
    await fc.assert(
      fc.asyncProperty(tree, async (node) => {
        boundaries = 0;
        await readOrDocumentedError(
          Buffer.from(`${top.join('\r\n')}\r\n${render(node)}\r\n`, 'utf8'),
        );
      }),
      { numRuns: 150 },
    );
  });
});
