// A graph's description (an exercise's instructions) as Markdown, made safe to show: raw HTML is
// text (markdown-it with html off), links go only to http(s) and mailto and open in a new tab,
// images are not drawn but linked (a shared link would otherwise fetch what its author chose).
import MarkdownIt from "markdown-it";

const md = new MarkdownIt({ html: false, linkify: true, typographer: false, breaks: true });
md.disable(["image"]);

const SAFE_LINK = /^(https?:|mailto:)/i;
md.validateLink = (url: string) => SAFE_LINK.test(url.trim());

const renderLinkOpen = md.renderer.rules.link_open;
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx].attrSet("target", "_blank");
  tokens[idx].attrSet("rel", "noopener noreferrer");
  return renderLinkOpen
    ? renderLinkOpen(tokens, idx, options, env, self)
    : self.renderToken(tokens, idx, options);
};

/** The description as HTML that holds only what Markdown makes: no script, no raw HTML. */
export function renderMarkdown(text: string): string {
  return md.render(text);
}
