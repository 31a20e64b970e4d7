// A graph's description shown as the Markdown it is written in (core/markdown.ts makes it safe).
// The renderer is loaded the first time a description is shown, not with the page: most graphs
// have none, and it is a tenth of the page's code. Until it is there, the text shows as it is.
import { useEffect, useState } from "react";

type Render = (text: string) => string;
let renderer: Promise<Render> | null = null;
const loadRenderer = () => {
  renderer ??= import("../core/markdown").then((m) => m.renderMarkdown);
  return renderer;
};

export function MarkdownText({
  text,
  className,
  testId,
}: {
  text: string;
  className?: string;
  testId?: string;
}) {
  const [html, setHtml] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    void loadRenderer().then((render) => current && setHtml(render(text)));
    return () => {
      current = false;
    };
  }, [text]);
  const classes = `markdown${className ? ` ${className}` : ""}`;
  if (html === null) {
    return (
      <div className={classes} data-testid={testId}>
        {text}
      </div>
    );
  }
  return (
    <div
      className={classes}
      data-testid={testId}
      // biome-ignore lint/security/noDangerouslySetInnerHtml: Markdown rendered with raw HTML off and links checked (core/markdown.ts)
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
}
