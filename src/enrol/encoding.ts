import { createReadStream } from 'node:fs';
import { GymError } from '../errors.js';

/**
 * The character encoding of a cohort file, chosen before a single name is read, so that no
 * name is ever stored mangled ("SiÃ¢n" for "Siân").
 *
 * - `requested` (`--encoding`) wins: any label TextDecoder knows (`windows-1252`, `windows-1250`,
 *   `utf-16le`...).
 * - A byte-order mark says it outright: UTF-8 (Excel's "CSV UTF-8"), UTF-16 LE or BE (Excel's
 *   "Unicode text", tab-separated).
 * - Otherwise the file must be valid UTF-8 throughout. A file that is not is refused with one line
 *   that says what it looks like, shows the first line it trips on as Windows-1252 would read it
 *   (Excel's plain "CSV" on Windows), and says how to save it as UTF-8, or to confirm with
 *   `--encoding windows-1252` when that line reads right. It is never guessed: the same bytes
 *   are other names in other code pages (0xA3 is "£" in Windows-1252, "Ł" in Windows-1250).
 *
 * Reads the file in pieces: memory stays bounded whatever its size.
 */
export async function cohortEncoding(file: string, requested: string | undefined): Promise<string> {
  if (requested !== undefined) {
    try {
      return new TextDecoder(requested).encoding;
    } catch {
      throw new GymError(
        'USAGE',
        `--encoding ${requested}: not an encoding this program knows (try utf-8, windows-1252, windows-1250 or utf-16le)`,
      );
    }
  }
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let head: Buffer | undefined;
  let lineNumber = 1;
  // The bytes of the line in progress at the end of the previous piece.
  let partial: Buffer = Buffer.alloc(0);
  for await (const piece of createReadStream(file) as AsyncIterable<Buffer>) {
    if (head === undefined) {
      head = piece;
      const bom = byteOrderMark(head);
      if (bom !== undefined) return bom;
      if (looksLikeUtf16(head))
        throw notUtf8(file, 1, 'UTF-16 without a byte-order mark', undefined);
    }
    try {
      decoder.decode(piece, { stream: true });
    } catch {
      const bytes = Buffer.concat([partial, piece]);
      const bad = new TextDecoder('utf-8').decode(bytes).split('\n');
      const index = bad.findIndex((line) => line.includes('\uFFFD'));
      const lineBytes = splitLines(bytes)[Math.max(0, index)] ?? bytes;
      return Promise.reject(describeNonUtf8(file, lineNumber + Math.max(0, index), lineBytes));
    }
    const lastBreak = piece.lastIndexOf(0x0a);
    for (const byte of piece) if (byte === 0x0a) lineNumber += 1;
    partial = lastBreak < 0 ? Buffer.concat([partial, piece]) : piece.subarray(lastBreak + 1);
    if (partial.length > 64 * 1024) partial = partial.subarray(partial.length - 64 * 1024);
  }
  try {
    decoder.decode();
  } catch {
    return Promise.reject(describeNonUtf8(file, lineNumber, partial));
  }
  return 'utf-8';
}

/**
 * Bytes as text, always through the streaming path: Node 20's one-shot
 * `TextDecoder('windows-1252').decode(bytes)` reads the bytes as ISO-8859-1, so 0x80-0x9F
 * (’ “ ” € …, which Excel writes) come out as invisible control characters; `{ stream: true }`
 * decodes them right.
 */
function decodeWhole(encoding: string, bytes: Uint8Array): string {
  const decoder = new TextDecoder(encoding);
  return decoder.decode(bytes, { stream: true }) + decoder.decode();
}

/**
 * The file's text in pieces, decoded as `encoding` (a byte-order mark is dropped). Every piece
 * goes through the streaming path: see `decodeWhole`.
 */
export async function* cohortText(file: string, encoding: string): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding);
  for await (const piece of createReadStream(file) as AsyncIterable<Buffer>)
    yield decoder.decode(piece, { stream: true });
  yield decoder.decode();
}

function byteOrderMark(head: Buffer): string | undefined {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  return undefined;
}

/** A NUL in every other byte of the start: ASCII text written two bytes a character. */
function looksLikeUtf16(head: Buffer): boolean {
  const sample = head.subarray(0, 512);
  let zeros = 0;
  for (const byte of sample) if (byte === 0) zeros += 1;
  return sample.length >= 4 && zeros >= sample.length / 4;
}

function splitLines(bytes: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      lines.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  lines.push(bytes.subarray(start));
  return lines;
}

// Bytes Windows-1252 leaves undefined: a file with them is not in it either.
const undefinedIn1252 = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d]);

function describeNonUtf8(file: string, line: number, lineBytes: Buffer): GymError {
  if (lineBytes.some((byte) => undefinedIn1252.has(byte)))
    return notUtf8(file, line, 'neither UTF-8 nor Windows-1252', undefined);
  const text = decodeWhole('windows-1252', lineBytes)
    .replace(/\r$/, '')
    .replace(/\p{Cc}/gu, ' ');
  const shown = text.length > 160 ? `${text.slice(0, 160)}…` : text;
  return notUtf8(
    file,
    line,
    'Windows-1252, what Excel on Windows saves as "CSV (Comma delimited)"',
    shown,
  );
}

function notUtf8(file: string, line: number, looksLike: string, shown: string | undefined) {
  const reads = shown === undefined ? '' : `, where this line would read "${shown}"`;
  const confirm =
    shown === undefined
      ? 'or give its encoding with --encoding'
      : 'or, if that line reads right, run again with --encoding windows-1252';
  return new GymError(
    'COHORT_INVALID',
    `${file}:${line} is not UTF-8: it looks like ${looksLike}${reads}. Nothing was imported. In Excel, save it again as "CSV UTF-8 (Comma delimited)"; ${confirm}`,
    { file, line },
  );
}
