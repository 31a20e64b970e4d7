// A LaTeX formula, typeset by KaTeX (loaded on first use); its source is shown as text until
// KaTeX has drawn it, and kept in data-tex.
import { memo, useEffect, useRef } from "react";

let loading: Promise<typeof import("./katexRender")> | null = null;
const katex = () => {
  loading ??= import("./katexRender");
  return loading;
};

export const TexMath = memo(function TexMath({
  tex,
  display = false,
  testId,
}: {
  tex: string;
  display?: boolean;
  testId?: string;
}) {
  const ref = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    let live = true;
    if (ref.current) ref.current.textContent = tex; // until KaTeX has drawn it
    katex().then(({ renderTex }) => {
      if (live && ref.current) renderTex(tex, ref.current, display);
    });
    return () => {
      live = false;
    };
  }, [tex, display]);
  return (
    // No React children: KaTeX owns what is inside.
    <span ref={ref} className={`tex${display ? " display" : ""}`} data-testid={testId} data-tex={tex} />
  );
});
