// A module resolution hook that makes MJML unavailable: a process that tries to load it fails,
// naming what it tried. Registered by ./register.js.
export async function resolve(specifier, context, next) {
  if (/^mjml($|[-/])/.test(specifier)) throw new Error(`MJML was loaded: import("${specifier}")`);
  return next(specifier, context);
}
