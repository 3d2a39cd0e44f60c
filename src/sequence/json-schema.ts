import { realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { languages } from '../language/languages.js';
import { sequenceSchema } from './schema.js';

/**
 * A URN rather than a URL: the schema is not published anywhere yet. Editors find it through the
 * file path (see `description`), not through the id.
 */
export const sequenceSchemaId = 'urn:digital-gym:schemas:sequence';

/** Where the generated file is kept, relative to the project root. */
export const sequenceSchemaFile = 'schemas/sequence.schema.json';

/**
 * The JSON Schema of a sequence file, generated from `sequenceSchema` (the single definition of the
 * format) for editors to complete and check. It describes what a trainer writes (`io: 'input'`:
 * keys with defaults are optional); rules across keys, such as weeks 1 to 12 in order, are only
 * checked by `gym validate`.
 */
export function sequenceJsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(sequenceSchema, { io: 'input' });
  for (const path of textPaths) localise(rest, path);
  return {
    $schema,
    $id: sequenceSchemaId,
    title: 'Digital Gym sequence file',
    description:
      'One 12-week programme. In VS Code (YAML extension), start the file with ' +
      '"# yaml-language-server: $schema=../schemas/sequence.schema.json"; run "gym validate" for every check.',
    ...rest,
  };
}

type Node = Record<string, unknown>;

const properties = (...keys: string[]) => keys.flatMap((key) => ['properties', key]);
const week = [...properties('weeks'), 'items'];
const step = [...week, ...properties('steps'), 'items'];
const email = [...step, ...properties('email')];
const invite = [...step, ...properties('invite')];

/** Every human text of the format: where a bilingual programme writes `{ cy: …, en: … }`. */
const textPaths: readonly (readonly string[])[] = [
  properties('title'),
  properties('summary'),
  [...week, ...properties('theme')],
  [...week, ...properties('manager_tip')],
  ...['subject', 'preheader', 'tip', 'example', 'body'].map((key) => [
    ...email,
    ...properties(key),
  ]),
  [...email, ...properties('assignment', 'title')],
  [...email, ...properties('assignment', 'body')],
  ...['title', 'description', 'location'].map((key) => [...invite, ...properties(key)]),
];

/**
 * Lets the text at `path` also be a map by language (`{ cy: …, en: … }`), the form of a programme
 * that declares `languages`. Which form a file must use depends on `languages`, a rule across keys
 * that `gym validate` checks.
 */
function localise(schema: Node, path: readonly string[]): void {
  let parent = schema;
  for (const key of path.slice(0, -1)) parent = parent[key] as Node;
  const key = path.at(-1)!;
  const { description, ...text } = parent[key] as Node;
  parent[key] = {
    ...(description === undefined ? {} : { description }),
    anyOf: [
      text,
      {
        type: 'object',
        description: 'the text in each of the programme’s languages, Welsh first',
        properties: Object.fromEntries(languages.map((language) => [language, text])),
        additionalProperties: false,
        minProperties: 1,
      },
    ],
  };
}

/**
 * The file's exact text: 2-space JSON and a final newline, laid out as Prettier lays out JSON
 * (a list of plain values on one line when it fits), so that `prettier --check` passes as is.
 */
export function sequenceJsonSchemaText(): string {
  return `${layout(sequenceJsonSchema(), '')}\n`;
}

const printWidth = 100;

function layout(value: unknown, indent: string, prefix = ''): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const flat = `[${value.map((item) => JSON.stringify(item)).join(', ')}]`;
    const plain = value.every((item) => item === null || typeof item !== 'object');
    // `prefix` is what precedes the list on its line, such as `"enum": `, and a comma may follow.
    if (plain && indent.length + prefix.length + flat.length + 1 <= printWidth) return flat;
    return `[\n${value.map((item) => `${inner}${layout(item, inner)}`).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  const lines = entries.map(([key, item]) => {
    const start = `${JSON.stringify(key)}: `;
    return `${inner}${start}${layout(item, inner, start)}`;
  });
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

// `npm run schema` (tsx src/sequence/json-schema.ts) rewrites the file; a test checks it is current.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const target = fileURLToPath(new URL(`../../${sequenceSchemaFile}`, import.meta.url));
  writeFileSync(target, sequenceJsonSchemaText());
  process.stdout.write(`wrote ${sequenceSchemaFile}\n`);
}
