import { Liquid, type Template } from 'liquidjs';
import { GymError } from '../errors.js';
import { templateModel } from '../sequence/template-model.js';

/** A Liquid template parsed once at compile time, filled per recipient. */
export interface ParsedTemplate {
  readonly liquid: Template[];
  /** The same template in the few forms `fillPlain` reads, when that is all it has. */
  readonly plain: readonly PlainPart[] | undefined;
}

// `templates: {}` gives each engine an empty in-memory file system: a trainer's
// `{% include '/etc/passwd' %}` finds nothing instead of reading the disk at send time.
// `ownPropertyOnly` hides prototype properties (`{{ learner.constructor }}`).
const shared = { strictVariables: true, strictFilters: true, ownPropertyOnly: true, templates: {} };

/**
 * Fills the HTML part. Every value is HTML-escaped, so a first name of `<script>` or
 * `Sam "O'Neil" & Co` arrives as text, never as markup.
 */
export const htmlLiquid = new Liquid({ ...shared, outputEscape: 'escape' });

/** Fills the subject, preheader and text/plain part, where values go in as they are. */
export const textLiquid = new Liquid(shared);

/**
 * Fills layouts at compile time. Brackets (`[[ slot ]]`, `[% if tip %]`) so that the layout's
 * own slots never collide with the `{{ }}` left in place for the per-recipient fill.
 */
export function layoutLiquid(sources: Readonly<Record<string, string>>): Liquid {
  return new Liquid({
    strictVariables: true,
    strictFilters: true,
    templates: { ...sources },
    tagDelimiterLeft: '[%',
    tagDelimiterRight: '%]',
    outputDelimiterLeft: '[[',
    outputDelimiterRight: ']]',
  });
}

/** Parses a template, or throws TEMPLATE_INVALID naming `where`. */
export function parseTemplate(engine: Liquid, source: string, where: string): ParsedTemplate {
  try {
    return { liquid: engine.parse(source), plain: plainParts(source) };
  } catch (error) {
    throw new GymError(
      'TEMPLATE_INVALID',
      `${where}: ${firstLine(error)}`,
      { where },
      { cause: error },
    );
  }
}

/**
 * Fills a parsed template for one recipient. Throws RENDER_FAILED naming the email and the
 * variable when a value is missing (strict variables: nothing goes out with a blank name).
 */
export function fill(
  engine: Liquid,
  template: ParsedTemplate,
  scope: object,
  where: string,
): string {
  const fast =
    template.plain === undefined
      ? undefined
      : fillPlain(template.plain, scope, engine === htmlLiquid);
  if (fast !== undefined) return fast;
  try {
    return engine.renderSync(template.liquid, scope) as string;
  } catch (error) {
    throw new GymError(
      'RENDER_FAILED',
      // The line and column are of the compiled email, which nobody can open: leave them out.
      `could not fill ${where}: ${firstLine(error).replace(/, line:\d+, col:\d+$/, '')}; the recipient's values are incomplete`,
      { where },
      { cause: error },
    );
  }
}

/** Text, a plain output's path (`{{ a.b }}`), or `{% if a.b != "" %}…{% endif %}`. */
type PlainPart =
  | string
  | readonly string[]
  | { readonly ifNotEmpty: readonly string[]; readonly then: readonly PlainPart[] };

const path = String.raw`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)`;
const plainOutput = new RegExp(String.raw`^\{\{\s*${path}\s*\}\}$`);
const ifNotEmpty = new RegExp(String.raw`^\{%\s*if\s+${path}\s*!=\s*""\s*%\}$`);
const endIf = /^\{%\s*endif\s*%\}$/;

/**
 * The template as text, plain outputs (a path: no filter, no whitespace control) and
 * `{% if a.b != "" %}…{% endif %}` blocks (the layouts' only tag), when that is all it has.
 * Undefined otherwise: Liquid then fills it.
 */
function plainParts(source: string): PlainPart[] | undefined {
  const frames: PlainPart[][] = [[]];
  const ifs: string[][] = [];
  for (const token of source.split(/(\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\})/)) {
    const parts = frames.at(-1)!;
    if (token === '') continue;
    const output = plainOutput.exec(token);
    const opens = ifNotEmpty.exec(token);
    if (output) parts.push(output[1]!.split('.'));
    else if (opens) {
      ifs.push(opens[1]!.split('.'));
      frames.push([]);
    } else if (endIf.test(token)) {
      if (frames.length === 1) return undefined;
      const then = frames.pop()!;
      frames.at(-1)!.push({ ifNotEmpty: ifs.pop()!, then });
    } else if (token.includes('{{') || token.includes('{%')) return undefined;
    else parts.push(token);
  }
  return frames.length === 1 ? frames[0] : undefined;
}

// As Liquid's `escape` filter, which `outputEscape: 'escape'` applies to every output.
const escapes: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&#34;',
  "'": '&#39;',
};
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => escapes[c]!);

/**
 * The per-recipient fill without Liquid's interpreter: text and values, looked up as Liquid
 * would with `ownPropertyOnly`, escaped as it would for HTML. It answers only when every value
 * it reads is a string or a finite number; anything else (a missing value, which must fail as
 * strict variables do; an object; a list) is left to Liquid, so the two never differ. A step's
 * HTML is ~30 KiB with a handful of values in it: Liquid's interpreter was most of its fill (#17).
 */
function fillPlain(
  parts: readonly PlainPart[],
  scope: object,
  escape: boolean,
): string | undefined {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') {
      out += part;
    } else if ('ifNotEmpty' in part) {
      const value = valueAt(scope, part.ifNotEmpty);
      if (typeof value !== 'string') return undefined;
      if (value === '') continue;
      const then = fillPlain(part.then, scope, escape);
      if (then === undefined) return undefined;
      out += then;
    } else {
      const value = valueAt(scope, part);
      if (typeof value === 'string') out += escape ? escapeHtml(value) : value;
      else if (typeof value === 'number' && Number.isFinite(value)) out += String(value);
      else return undefined;
    }
  }
  return out;
}

/** The value at `path` in own properties only, or undefined. */
function valueAt(scope: object, path: readonly string[]): unknown {
  let value: unknown = scope;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

const allowedVariables = Object.entries(templateModel).flatMap(([object, fields]) =>
  fields.map((field) => `${object}.${field}`),
);

/**
 * The problems with one trainer template (a subject, a tip, a manager tip), checked at compile
 * time so that none reaches a learner: it must parse, use only the variables of the template
 * model, and not switch escaping off with `raw` (a learner's name is never trusted markup).
 * Returns every problem, not only the first.
 */
export function trainerTemplateProblems(source: string, where: string): string[] {
  let parsed: Template[];
  try {
    parsed = textLiquid.parse(source);
  } catch (error) {
    return [`${where}: ${firstLine(error)}`];
  }
  const problems: string[] = [];
  for (const liquid of source.match(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g) ?? []) {
    if (/\|\s*raw\b/.test(liquid)) {
      problems.push(
        `${where}: ${liquid} uses the raw filter; values are always escaped, remove "| raw"`,
      );
    }
    if (/^\{%-?\s*(include|render|layout)\b/.test(liquid)) {
      problems.push(
        `${where}: ${liquid}: templates cannot include files; put the text in the sequence`,
      );
    }
  }
  if (problems.length > 0) return problems;
  for (const segments of textLiquid.globalVariableSegmentsSync(parsed, { partials: false })) {
    const name = segments.join('.');
    const [object, field, ...rest] = segments;
    const fields: readonly string[] | undefined =
      templateModel[object as keyof typeof templateModel];
    // `{{ learner.first_name.size }}` is Liquid's string length: the one property past a field.
    const known = fields !== undefined && typeof field === 'string' && fields.includes(field);
    if (!known || rest.length > 1 || (rest.length === 1 && rest[0] !== 'size')) {
      problems.push(`${where}: unknown variable ${name} (known: ${allowedVariables.join(', ')})`);
    }
  }
  return problems;
}
