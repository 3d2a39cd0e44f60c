import { Marked, type Token, type Tokens } from 'marked';

/**
 * Trainer prose (Markdown that may hold Liquid) turned into the HTML and plain-text fragments
 * that go into a layout, once, at compile time. Liquid survives both untouched, so the per
 * recipient fill sees exactly what the trainer wrote between `{{ }}` and `{% %}`.
 */

/** Where a fragment comes from, for error messages: `week 3 step "kickoff" tip`. */
export type Where = string;

/** A problem in trainer content found while compiling it; the caller adds file context. */
export class ContentError extends Error {
  override readonly name = 'ContentError';
}

const liquidPattern = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g;

/**
 * Swaps every Liquid output and tag for an alphanumeric placeholder, so that Markdown neither
 * reads `{{ learner.first_name }}` as emphasis (the underscores) nor escapes the quotes in
 * `{% if learner.role == "press-officer" %}`. Letters and digits pass through marked untouched,
 * even inside link destinations (which it percent-encodes).
 */
export function protectLiquid(source: string): {
  text: string;
  restore: (output: string) => string;
} {
  let prefix = 'LIQUIDSLOT';
  while (source.includes(prefix)) prefix += 'X';
  const saved: string[] = [];
  const text = source.replace(liquidPattern, (liquid) => `${prefix}${saved.push(liquid) - 1}END`);
  const placeholder = new RegExp(`${prefix}(\\d+)END`, 'g');
  return {
    text,
    restore: (output) => output.replace(placeholder, (_, i: string) => saved[Number(i)] ?? ''),
  };
}

const htmlEscapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** HTML-escapes text for an element or a double-quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => htmlEscapes[c] ?? c);
}

/**
 * A one-line Liquid template (a subject, an assignment title) as HTML: the literal text is
 * escaped now, the Liquid is kept for the per-recipient fill, which escapes the values.
 */
export function templateToHtml(template: string): string {
  const { text, restore } = protectLiquid(template);
  return restore(escapeHtml(text));
}

// Inline styles rather than a <style> block: Gmail on other providers' accounts and several
// Outlook builds drop <style>. Colours meet WCAG AA on white (#0b0c0c 19:1, #1d70b8 5.2:1,
// #505a5f 7:1).
const styles = {
  p: 'margin:0 0 16px;',
  ul: 'margin:0 0 16px;padding:0 0 0 24px;',
  ol: 'margin:0 0 16px;padding:0 0 0 24px;',
  li: 'margin:0 0 6px;',
  blockquote: 'margin:0 0 16px;padding:0 0 0 14px;border-left:4px solid #b1b4b6;color:#383f43;',
  pre: 'margin:0 0 16px;padding:12px;background:#f3f2f1;font-family:Consolas,Menlo,monospace;font-size:14px;line-height:1.4;white-space:pre-wrap;word-wrap:break-word;',
  code: 'font-family:Consolas,Menlo,monospace;font-size:14px;background:#f3f2f1;padding:0 3px;',
  hr: 'border:0;border-top:1px solid #b1b4b6;margin:24px 0;',
  table: 'border-collapse:collapse;margin:0 0 16px;font-size:15px;',
  th: 'border:1px solid #b1b4b6;padding:6px 8px;text-align:left;background:#f3f2f1;',
  td: 'border:1px solid #b1b4b6;padding:6px 8px;vertical-align:top;',
  a: 'color:#1d70b8;text-decoration:underline;',
  img: 'max-width:100%;height:auto;border:0;',
  h3: 'margin:20px 0 8px;font-size:18px;line-height:1.3;font-weight:700;color:#0b0c0c;',
  h4: 'margin:16px 0 8px;font-size:16px;line-height:1.3;font-weight:700;color:#0b0c0c;',
} as const;
type StyledTag = keyof typeof styles;

/** Adds our inline style to every element marked (or the trainer's own HTML) left unstyled. */
function addInlineStyles(html: string): string {
  return html.replace(
    /<(p|ul|ol|li|blockquote|pre|code|hr|table|th|td|a|img|h3|h4)(\s[^>]*)?>/g,
    (tag: string, name: StyledTag, attributes: string | undefined) =>
      attributes?.includes('style=') ? tag : `<${name}${attributes ?? ''} style="${styles[name]}">`,
  );
}

// The layout's section titles (Tip, Example, ...) are <h2>, so a trainer's "# Heading" becomes an
// <h3>: screen-reader users navigate by heading level, and an <h1> inside a tip would lie.
const marked = new Marked({
  gfm: true,
  renderer: {
    heading({ tokens, depth }) {
      const level = Math.min(depth + 2, 6);
      const style = level === 3 ? styles.h3 : styles.h4;
      return `<h${level} style="${style}">${this.parser.parseInline(tokens)}</h${level}>\n`;
    },
  },
});

/** Images need alt text (screen readers, and clients that block images); we reject them without. */
function checkImages(tokens: Token[], where: Where): void {
  void marked.walkTokens(tokens, (token) => {
    if (token.type === 'image' && (token as Tokens.Image).text.trim() === '') {
      throw new ContentError(
        `${where}: the image ${(token as Tokens.Image).href} has no alt text; write ![what it shows](${(token as Tokens.Image).href})`,
      );
    }
    if (
      token.type === 'html' &&
      /<img\b(?![^>]*\balt\s*=\s*["'][^"']+)/i.test((token as Tokens.HTML).text)
    ) {
      throw new ContentError(`${where}: an <img> has no alt text; add alt="what it shows"`);
    }
  });
}

/**
 * Trainer Markdown as an HTML fragment with inline styles, Liquid intact.
 *
 * @example markdownToHtml('Hi **{{ learner.first_name }}**', 'tip')
 *   // '<p style="…">Hi <strong>{{ learner.first_name }}</strong></p>\n'
 */
export function markdownToHtml(markdown: string, where: Where): string {
  const { text, restore } = protectLiquid(markdown);
  const tokens = marked.lexer(text);
  checkImages(tokens, where);
  return restore(addInlineStyles(marked.parser(tokens)));
}

const entities: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
  '&nbsp;': ' ',
};

function decodeEntities(text: string): string {
  return text.replace(/&(?:amp|lt|gt|quot|#39|nbsp);/g, (e) => entities[e] ?? e);
}

function inlineText(tokens: Token[] | undefined): string {
  if (!tokens) return '';
  return tokens.map(inlineTokenText).join('');
}

function inlineTokenText(token: Token): string {
  switch (token.type) {
    case 'text':
    case 'escape':
      // A line break inside a paragraph is the trainer's editor wrapping, not meaning: join the
      // lines, as HTML does, and let the mail client wrap to its own width after the fill.
      return 'tokens' in token && token.tokens
        ? inlineText(token.tokens)
        : decodeEntities(token.text as string).replace(/\n/g, ' ');
    case 'strong':
    case 'em':
    case 'del':
      return inlineText(token.tokens);
    case 'codespan':
      return token.text as string;
    case 'br':
      return '\n';
    case 'link': {
      const link = token as Tokens.Link;
      const label = inlineText(link.tokens);
      // Plain-text readers cannot click a word, so the address is written out.
      if (label === link.href || `mailto:${label}` === link.href) return link.href;
      return `${label} (${link.href})`;
    }
    case 'image': {
      const image = token as Tokens.Image;
      return `[Image: ${image.text}]`;
    }
    case 'html':
      // Inline HTML a trainer wrote (<br>, <abbr>): keep the words, drop the tags.
      return /^<br\s*\/?>$/i.test((token.text as string).trim()) ? '\n' : '';
    default:
      return typeof token.raw === 'string' ? token.raw : '';
  }
}

function indent(text: string, prefix: string, firstPrefix = prefix): string {
  return text
    .split('\n')
    .map((line, i) => (line === '' ? line : (i === 0 ? firstPrefix : prefix) + line))
    .join('\n');
}

function blocksText(tokens: Token[]): string {
  const blocks: string[] = [];
  for (const token of tokens) {
    const block = blockText(token);
    if (block !== '') blocks.push(block);
  }
  return blocks.join('\n\n');
}

function blockText(token: Token): string {
  switch (token.type) {
    case 'space':
    case 'def':
      return '';
    case 'paragraph':
      return inlineText(token.tokens).trim();
    case 'text':
      return token.tokens ? inlineText(token.tokens) : decodeEntities(token.text as string);
    case 'heading':
      return inlineText(token.tokens).trim();
    case 'hr':
      return '----';
    case 'code':
      return indent(token.text as string, '    ');
    case 'blockquote':
      return indent(blocksText(token.tokens ?? []), '> ');
    case 'list': {
      const list = token as Tokens.List;
      const start = typeof list.start === 'number' ? list.start : 1;
      const items = list.items.map((item, i) => {
        const marker = list.ordered ? `${start + i}. ` : '- ';
        const body = blocksText(item.tokens).replace(/\n\n+/g, list.loose ? '\n\n' : '\n');
        return indent(body, ' '.repeat(marker.length), marker);
      });
      return items.join(list.loose ? '\n\n' : '\n');
    }
    case 'table': {
      const table = token as Tokens.Table;
      const row = (cells: Tokens.TableCell[]) =>
        cells.map((c) => inlineText(c.tokens).trim()).join(' | ');
      return [row(table.header), ...table.rows.map(row)].join('\n');
    }
    case 'html':
      return decodeEntities((token.text as string).replace(/<[^>]*>/g, '')).trim();
    default:
      return typeof token.raw === 'string' ? token.raw.trim() : '';
  }
}

/**
 * Trainer Markdown as readable plain text for the text/plain part: paragraphs, "- " lists,
 * "> " quotes, indented code, links written out as "label (url)". Liquid intact.
 */
export function markdownToText(markdown: string): string {
  const { text, restore } = protectLiquid(markdown);
  return restore(blocksText(marked.lexer(text)));
}
