import { act } from "react";
import { createRoot } from "react-dom/client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Heatmap } from "./Heatmap";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

describe("heatmap hover", () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  /** Three 2x2 maps, wrapped into a 2x2 grid whose last cell is empty, 10 CSS pixels per element;
   * returns the hover callback and a mouse move at client coordinates. */
  function mount() {
    // jsdom draws nothing: the drawing effect stops when there is no 2-D context.
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
    const tensor = { shape: [3, 1, 2, 2], data: new Float64Array(12).map((_, i) => i) };
    const onHover = vi.fn();
    const host = document.createElement("div");
    document.body.append(host);
    const root = createRoot(host);
    cleanup = () => {
      act(() => root.unmount());
      host.remove();
      vi.restoreAllMocks();
    };
    act(() => root.render(<Heatmap tensor={tensor} maxWidth={60} maxHeight={60} onHover={onHover} />));
    const canvas = host.querySelector("canvas") as HTMLCanvasElement;
    const move = (clientX: number, clientY: number) =>
      act(() => {
        canvas.dispatchEvent(new MouseEvent("mousemove", { bubbles: true, clientX, clientY }));
      });
    return { onHover, move };
  }

  it("reads a map's element and nothing from the empty cells of a partly filled last row", () => {
    const { onHover, move } = mount();
    move(15, 45); // third map (grid row 1, column 0), row 0, column 1
    expect(onHover).toHaveBeenLastCalledWith(9);
    move(45, 45); // grid row 1, column 1: no fourth map
    expect(onHover).toHaveBeenLastCalledWith(null);
    move(55, 15); // second map, row 0, column 1
    expect(onHover).toHaveBeenLastCalledWith(7);
  });

  it("reads the same element when a panel's scale draws the map larger on screen", () => {
    // Drawn at 150% (the inspector's CSS zoom): 60 CSS px across show as 90 on screen, from x = 100.
    vi.spyOn(HTMLCanvasElement.prototype, "getBoundingClientRect").mockReturnValue(
      DOMRect.fromRect({ x: 100, y: 0, width: 90, height: 90 }),
    );
    const { onHover, move } = mount();
    move(100 + 1.5 * 55, 1.5 * 15); // second map, row 0, column 1, as at 100%
    expect(onHover).toHaveBeenLastCalledWith(7);
  });
});
