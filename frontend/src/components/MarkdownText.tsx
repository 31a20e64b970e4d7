// A graph's description shown as the Markdown it is written in (core/markdown.ts makes it safe).
import { useMemo } from "react";
import { renderMarkdown } from "../core/markdown";

export function MarkdownText({
  text,
  className,
  testId,
}: {
  text: string;
  className?: string;
  testId?: string;
}) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  return (
    <div
      className={`markdown${className ? ` ${className}` : ""}`}
      data-testid={testId}
      // biome-ignore lint/security/noDangerouslySetInnerHtml: Markdown rendered with raw HTML off and links checked (core/markdown.ts)
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
}
