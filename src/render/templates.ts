import { Liquid, type Template } from 'liquidjs';
import { GymError } from '../errors.js';
import { templateModel } from '../sequence/template-model.js';

/** A Liquid template parsed once at compile time, filled per recipient. */
export type ParsedTemplate = Template[];

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
    return engine.parse(source);
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
  try {
    return engine.renderSync(template, scope) as string;
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
  let parsed: ParsedTemplate;
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
