// mjml 5 ships no type declarations, and @types/mjml describes mjml 4 (synchronous). This covers
// only what src/render uses; widen it when we use more.
declare module 'mjml' {
  interface MjmlValidationError {
    line: number;
    message: string;
    tagName: string;
    formattedMessage: string;
  }

  interface Mjml2HtmlOptions {
    /** 'strict' throws on the first invalid document; 'soft' returns the problems in `errors`. */
    validationLevel?: 'strict' | 'soft' | 'skip';
    keepComments?: boolean;
    minify?: boolean;
    beautify?: boolean;
    /** Web fonts to link when a matching font-family is used; `{}` links none. */
    fonts?: Record<string, string>;
    /** Where `mj-include` paths resolve from; unused, we compose partials ourselves. */
    filePath?: string;
  }

  interface Mjml2HtmlResult {
    html: string;
    errors: MjmlValidationError[];
  }

  /** Thrown under validationLevel 'strict'. */
  interface MjmlStrictValidationError extends Error {
    errors: MjmlValidationError[];
  }

  export type { Mjml2HtmlOptions, Mjml2HtmlResult, MjmlValidationError, MjmlStrictValidationError };

  /** mjml 5 is asynchronous. */
  export default function mjml2html(
    mjml: string,
    options?: Mjml2HtmlOptions,
  ): Promise<Mjml2HtmlResult>;
}
