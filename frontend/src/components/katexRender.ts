// KaTeX and its stylesheet, in a chunk of their own: loaded when the first formula is shown.
// katex.render builds DOM nodes and sets their styles through the CSSOM, which the page's
// Content-Security-Policy (style-src 'self') allows; renderToString's HTML, with inline style
// attributes, would not be.
import katex from "katex";
import "katex/dist/katex.min.css";

export function renderTex(tex: string, into: HTMLElement, display: boolean): void {
  katex.render(tex, into, { throwOnError: false, displayMode: display, output: "htmlAndMathml" });
}
