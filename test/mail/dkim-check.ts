import { createHash, createPublicKey, verify } from 'node:crypto';
import { parseHeaders } from './helpers.js';

/**
 * A DKIM check by RFC 6376 for the relaxed/relaxed canonicalisation nodemailer uses: the body
 * hash, then the RSA signature over the signed headers. Enough to show the signature is valid,
 * with no DKIM library.
 */
export function verifyDkim(message: Buffer, publicKeyPem: string): boolean {
  const text = message.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const fields = parseHeaders(message);
  const signature = fields.find((f) => f.name.toLowerCase() === 'dkim-signature')!;
  const tags = Object.fromEntries(
    signature.value
      .split(';')
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => [
        part.slice(0, part.indexOf('=')),
        part.slice(part.indexOf('=') + 1).replace(/\s+/g, ''),
      ]),
  ) as Record<string, string>;
  if (tags.c !== 'relaxed/relaxed' || tags.a !== 'rsa-sha256') return false;
  const body = text
    .slice(split + 4)
    .split('\r\n')
    .map((line) => line.replace(/[ \t]+/g, ' ').replace(/ $/, ''))
    .join('\r\n')
    .replace(/(\r\n)*$/, '\r\n');
  const bodyHash = createHash('sha256').update(Buffer.from(body, 'latin1')).digest('base64');
  if (bodyHash !== tags.bh) return false;
  const relaxed = (name: string, value: string) =>
    `${name.toLowerCase()}:${value
      .replace(/\r\n/g, '')
      .replace(/[ \t]+/g, ' ')
      .trim()}`;
  const used = new Map<string, number>();
  const signed = tags
    .h!.split(':')
    .map((name) => {
      // Repeated names are signed from the bottom up.
      const all = fields.filter((f) => f.name.toLowerCase() === name.toLowerCase());
      const n = used.get(name.toLowerCase()) ?? 0;
      used.set(name.toLowerCase(), n + 1);
      const field = all[all.length - 1 - n];
      return field === undefined ? undefined : relaxed(field.name, field.value);
    })
    .filter((line) => line !== undefined);
  const withoutB = signature.value.replace(/\bb=[^;]*/, 'b=');
  const data = [...signed, relaxed(signature.name, withoutB)].join('\r\n');
  return verify(
    'sha256',
    Buffer.from(data, 'latin1'),
    createPublicKey(publicKeyPem),
    Buffer.from(tags.b!, 'base64'),
  );
}
