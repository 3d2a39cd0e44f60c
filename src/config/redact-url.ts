/**
 * A URL as it may be shown in an error or a log: with no part of its userinfo (user or password),
 * even when the URL is malformed. A `#` or `@` in an unencoded password, a missing `//` or an
 * empty host all defeat `new URL()`, which would then tell us nothing about where the password
 * is; so this works on the text: everything between the scheme and the last `@` is userinfo.
 *
 * @example redactUrl('postgres://gym:pa#ss@db.example.org/gym') // 'postgres://***@db.example.org/gym'
 * @example redactUrl('postgres:gym:secret@db') // 'postgres:***@db'
 */
export function redactUrl(value: string): string {
  const at = value.lastIndexOf('@');
  if (at < 0) return value; // no userinfo without an `@`
  const scheme = /^[a-z][a-z0-9+.-]*:(?:\/\/)?/i.exec(value)?.[0] ?? '';
  return `${scheme}***@${value.slice(at + 1)}`;
}
