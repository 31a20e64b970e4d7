// The decision boundary as TensorFlow Playground draws it: each grid cell the predicted class's
// colour, opaque as the model is sure, with the training points (white ring) and test points
// (black ring) over it. For a 1-D regression: the data points and the predicted curve.
import { useEffect, useRef } from "react";
import { boundaryPixels, classColor, type TrainDataPoints } from "../core/training";
import { useTrain } from "../store/trainStore";

const SIZE = 300; // css px, square

type Range = [number, number];

function extent(values: number[], pad = 0.1): Range {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (!(hi > lo)) [lo, hi] = [lo - 1, hi + 1];
  const d = (hi - lo) * pad;
  return [lo - d, hi + d];
}

function drawPoints(ctx: CanvasRenderingContext2D, data: TrainDataPoints, xr: Range, yr: Range, px: number) {
  const sx = (v: number) => ((v - xr[0]) / (xr[1] - xr[0])) * px;
  const sy = (v: number) => px - ((v - yr[0]) / (yr[1] - yr[0])) * px;
  const dot = (x: number, y: number, k: number, ring: string) => {
    const [r, g, b] = classColor(k);
    ctx.beginPath();
    ctx.arc(sx(x), sy(y), 3.5 * (px / SIZE), 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
    ctx.fill();
    ctx.lineWidth = px / SIZE;
    ctx.strokeStyle = ring;
    ctx.stroke();
  };
  data.train_x.forEach((p, i) => {
    dot(p[0], p[1], data.train_y[i], "#ffffff");
  });
  data.test_x.forEach((p, i) => {
    dot(p[0], p[1], data.test_y[i], "#111827");
  });
}

export function BoundaryView() {
  const canvas = useRef<HTMLCanvasElement>(null);
  const task = useTrain((s) => s.view.task);
  const data = useTrain((s) => s.view.data);
  const boundary = useTrain((s) => s.view.boundary);
  const curve = useTrain((s) => s.view.curve);
  const twoD = task === "classification" && !!data?.train_x.length && data.train_x[0].length === 2;
  const oneD = task === "regression" && !!data?.train_x.length && data.train_x[0].length === 1;

  useEffect(() => {
    const el = canvas.current;
    const ctx = el?.getContext("2d");
    if (!el || !ctx || !data || !(twoD || oneD)) return;
    const px = SIZE * (window.devicePixelRatio || 1);
    el.width = px;
    el.height = px;
    ctx.clearRect(0, 0, px, px);
    if (twoD) {
      const xr: Range = boundary?.x ?? extent([...data.train_x, ...data.test_x].map((p) => p[0]));
      const yr: Range = boundary?.y ?? extent([...data.train_x, ...data.test_x].map((p) => p[1]));
      if (boundary) {
        const [h, w] = boundary.size;
        const img = document.createElement("canvas");
        img.width = w;
        img.height = h;
        img
          .getContext("2d")
          ?.putImageData(new ImageData(boundaryPixels(boundary) as ImageDataArray, w, h), 0, 0);
        ctx.imageSmoothingEnabled = true;
        ctx.drawImage(img, 0, 0, px, px);
      }
      drawPoints(ctx, data, xr, yr, px);
      return;
    }
    // Regression: x against y, the model's curve over the points.
    const xs = [...data.train_x, ...data.test_x].map((p) => p[0]);
    const ys = [...data.train_y, ...data.test_y, ...(curve?.y ?? [])];
    const xr = extent(curve?.x.length ? [...xs, ...curve.x] : xs, 0.05);
    const yr = extent(ys);
    const sx = (v: number) => ((v - xr[0]) / (xr[1] - xr[0])) * px;
    const sy = (v: number) => px - ((v - yr[0]) / (yr[1] - yr[0])) * px;
    const r = 3 * (px / SIZE);
    const dots = (x: number[][], y: number[], fill: string) => {
      ctx.fillStyle = fill;
      x.forEach((p, i) => {
        ctx.beginPath();
        ctx.arc(sx(p[0]), sy(y[i]), r, 0, 2 * Math.PI);
        ctx.fill();
      });
    };
    dots(data.train_x, data.train_y, "#2563eb");
    dots(data.test_x, data.test_y, "#f59322");
    if (curve?.x.length) {
      ctx.beginPath();
      curve.x.forEach((x, i) => {
        if (i) ctx.lineTo(sx(x), sy(curve.y[i]));
        else ctx.moveTo(sx(x), sy(curve.y[i]));
      });
      ctx.lineWidth = 2.5 * (px / SIZE);
      ctx.strokeStyle = "#111827";
      ctx.stroke();
    }
  }, [data, boundary, curve, twoD, oneD]);

  if (!twoD && !oneD) return null;
  return (
    <figure className="boundary">
      <canvas
        ref={canvas}
        data-testid="train-boundary"
        data-has-boundary={boundary ? "yes" : "no"}
        data-has-curve={curve?.x.length ? "yes" : "no"}
        style={{ width: SIZE }}
        aria-label={twoD ? "Decision boundary over the data points" : "Data points and the predicted curve"}
      />
      <figcaption className="muted">
        {twoD
          ? "Colour: the predicted class, stronger where the model is sure. White ring: training point; black ring: test point."
          : "Blue: training points, orange: test points, black: the model's prediction."}
      </figcaption>
    </figure>
  );
}
