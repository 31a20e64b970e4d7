// The live loss curve (uPlot): training and test loss, accuracy on a second axis from 0 to 1.
// The chart is made once; each message only hands it new columns (setData), at most once a frame.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { chartColumns } from "../core/training";
import { useTrain } from "../store/trainStore";

// Projector-readable: 14 px at least for the ticks and the legend (styles in training.css).
const FONT = "14px system-ui, sans-serif";
const LABEL_FONT = "bold 14px system-ui, sans-serif";
const HEIGHT = 210;

function options(width: number): uPlot.Options {
  const axis = { font: FONT, labelFont: LABEL_FONT, size: 48, labelSize: 20, stroke: "#374151" };
  return {
    width,
    height: HEIGHT,
    scales: { x: { time: false }, acc: { range: [0, 1] } },
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false } },
    series: [
      { label: "step" },
      { label: "loss", stroke: "#2563eb", width: 2, scale: "loss" },
      // Test figures come every snapshot_every steps (null between): joined across the gaps.
      { label: "test loss", stroke: "#dc2626", width: 2, dash: [6, 4], scale: "loss", spanGaps: true },
      { label: "accuracy", stroke: "#16a34a", width: 2, scale: "acc" },
      { label: "test acc.", stroke: "#9333ea", width: 2, dash: [6, 4], scale: "acc", spanGaps: true },
    ],
    axes: [
      { ...axis, label: "step", size: 36 },
      { ...axis, scale: "loss", label: "loss", size: 56 },
      { ...axis, scale: "acc", side: 1, label: "accuracy", grid: { show: false }, size: 60 },
    ],
  };
}

export function LossChart() {
  const box = useRef<HTMLDivElement>(null);
  const hasAcc = useTrain((s) => s.view.points.some((p) => p.accuracy !== null));
  const hasTest = useTrain((s) => s.view.points.some((p) => p.test_loss !== null));

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const data = () => chartColumns(useTrain.getState().view.points) as uPlot.AlignedData;
    const plot = new uPlot(options(Math.max(200, el.clientWidth)), data(), el);
    let frame = 0;
    const unsubscribe = useTrain.subscribe((s, prev) => {
      if (s.view.points === prev.view.points || frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        plot.setData(data());
      });
    });
    const ro = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(200, el.clientWidth), height: HEIGHT }),
    );
    ro.observe(el);
    return () => {
      cancelAnimationFrame(frame);
      unsubscribe();
      ro.disconnect();
      plot.destroy();
    };
  }, []);

  return (
    <div
      ref={box}
      className={`loss-chart${hasAcc ? "" : " no-acc"}${hasTest ? "" : " no-test"}`}
      data-testid="loss-chart"
      role="img"
      aria-label="Loss curve"
    />
  );
}
