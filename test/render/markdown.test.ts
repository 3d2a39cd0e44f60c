import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ContentError,
  markdownToHtml,
  markdownToText,
  protectLiquid,
  templateToHtml,
} from '../../src/render/markdown.js';
import { trainerTemplateProblems } from '../../src/render/templates.js';

describe('Liquid inside Markdown', () => {
  it('is not read as Markdown: underscores, quotes and asterisks survive', () => {
    const source =
      'Hi {{ learner.first_name }} and {{ manager.first_name }}: {% if learner.role == "press-officer" %}*yes*{% endif %}';
    expect(markdownToHtml(source, 'tip')).toBe(
      '<p style="margin:0 0 16px;">Hi {{ learner.first_name }} and {{ manager.first_name }}: {% if learner.role == "press-officer" %}<em>yes</em>{% endif %}</p>\n',
    );
    expect(markdownToText(source)).toBe(
      'Hi {{ learner.first_name }} and {{ manager.first_name }}: {% if learner.role == "press-officer" %}yes{% endif %}',
    );
  });

  it('survives in a link destination', () => {
    expect(
      markdownToHtml('[your profile](https://example.gov.uk/p/{{ learner.email }})', 'tip'),
    ).toContain('href="https://example.gov.uk/p/{{ learner.email }}"');
  });

  it('is kept byte for byte whatever the prose around it (property)', () => {
    const liquid = fc.constantFrom(
      '{{ learner.first_name }}',
      '{{ week.number | plus: 1 }}',
      '{% if learner.role == "a_b" %}',
      '{% endif %}',
      '{{ "*x*" | append: "_y_" }}',
    );
    const prose = fc.string({
      unit: fc.constantFrom(
        'a',
        ' ',
        '*',
        '_',
        '`',
        '#',
        '\n',
        '[',
        ']',
        '(',
        ')',
        '<',
        '&',
        '"',
        '-',
        '1',
        '.',
      ),
    });
    fc.assert(
      fc.property(fc.array(fc.tuple(prose, liquid), { maxLength: 6 }), (pieces) => {
        const source = pieces.map(([p, l]) => `${p} ${l} `).join('');
        // Not a case: Liquid as a code fence's language ("``` {{ x }}") is no content at all.
        let before = '';
        for (const [p, l] of pieces) {
          before += `${p} `;
          fc.pre(!/(^|\n) {0,3}(`{3,}|~{3,})[^\n]*$/.test(before));
          before += `${l} `;
        }
        const html = markdownToHtml(source, 'tip');
        const text = markdownToText(source);
        for (const [, l] of pieces) {
          // Inside a code span the Liquid is still there, as HTML-escaped text.
          expect(html.includes(l) || html.includes(l.replace(/"/g, '&quot;'))).toBe(true);
          expect(text).toContain(l);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('protects and restores with a placeholder the source does not use', () => {
    const { text, restore } = protectLiquid('LIQUIDSLOT0END {{ a }}');
    expect(text).toBe('LIQUIDSLOT0END LIQUIDSLOTX0END');
    expect(restore(text)).toBe('LIQUIDSLOT0END {{ a }}');
  });
});

describe('Markdown to HTML', () => {
  it('styles elements inline and shifts headings below the layout’s own', () => {
    expect(markdownToHtml('# Why\n\n- one\n- [two](https://example.gov.uk)', 'tip'))
      .toMatchInlineSnapshot(`
      "<h3 style="margin:20px 0 8px;font-size:18px;line-height:1.3;font-weight:700;color:#0b0c0c;">Why</h3>
      <ul style="margin:0 0 16px;padding:0 0 0 24px;">
      <li style="margin:0 0 6px;">one</li>
      <li style="margin:0 0 6px;"><a href="https://example.gov.uk" style="color:#1d70b8;text-decoration:underline;">two</a></li>
      </ul>
      "
    `);
  });

  it('requires alt text on images, in Markdown and in HTML', () => {
    expect(() => markdownToHtml('![](https://x.gov.uk/a.png)', 'week 1 tip')).toThrow(ContentError);
    expect(() => markdownToHtml('<img src="https://x.gov.uk/a.png">', 'week 1 tip')).toThrow(
      'week 1 tip: an <img> has no alt text; add alt="what it shows"',
    );
    expect(markdownToHtml('<img src="https://x.gov.uk/a.png" alt="A chart">', 'tip')).toContain(
      'alt="A chart"',
    );
  });
});

describe('Markdown to plain text', () => {
  it('writes lists, quotes, code, tables and links out readably, joining wrapped lines', () => {
    const source = [
      '## Steps',
      '1. Draft\n2. Read **aloud**\n   - slowly\n3. Cut',
      '> Short is\n> kind.',
      '```\nDear Sam,\n```',
      '| Instead of | Write |\n|---|---|\n| commence | start |',
      'See [the guide](https://www.gov.uk/guidance/style-guide) or <https://www.gov.uk>.',
      'Fish &amp; chips ![A plate](https://x.gov.uk/p.png)',
    ].join('\n\n');
    expect(markdownToText(source)).toMatchInlineSnapshot(`
      "Steps

      1. Draft
      2. Read aloud
         - slowly
      3. Cut

      > Short is kind.

          Dear Sam,

      Instead of | Write
      commence | start

      See the guide (https://www.gov.uk/guidance/style-guide) or https://www.gov.uk.

      Fish & chips [Image: A plate]"
    `);
  });
});

describe('one-line templates in HTML', () => {
  it('escape the literal text and keep the Liquid', () => {
    expect(templateToHtml('Q&A for {{ learner.first_name }} <b>"now"</b>')).toBe(
      'Q&amp;A for {{ learner.first_name }} &lt;b&gt;&quot;now&quot;&lt;/b&gt;',
    );
  });
});

describe('trainer template checks', () => {
  it('accept the template model and Liquid’s own logic', () => {
    expect(
      trainerTemplateProblems(
        '{% assign n = learner.first_name | upcase %}{{ n }} {{ learner.first_name.size }} {% for i in (1..week.total) %}{{ i }}{% endfor %}',
        'tip',
      ),
    ).toEqual([]);
  });

  it('report syntax errors, unknown variables, includes and raw', () => {
    expect(trainerTemplateProblems('{% if %}', 'tip')).toEqual([
      'tip: invalid value expression: "", line:1, col:6',
    ]);
    expect(
      trainerTemplateProblems('{{ learner }} {% include "x" %} {{ manager.name | raw }}', 'tip'),
    ).toEqual([
      'tip: {% include "x" %}: templates cannot include files; put the text in the sequence',
      'tip: {{ manager.name | raw }} uses the raw filter; values are always escaped, remove "| raw"',
    ]);
    expect(trainerTemplateProblems('{{ learner }} {{ manager.name.first }}', 'tip')).toEqual([
      expect.stringMatching(/^tip: unknown variable learner \(known: learner\.first_name, /),
      expect.stringMatching(/^tip: unknown variable manager\.name\.first /),
    ]);
  });
});
