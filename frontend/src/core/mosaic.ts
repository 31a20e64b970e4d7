// The maps of a 3-D or 4-D tensor as the inspector lays them out: which maps a pick of sample and
// channel selects, how large each tile is drawn to fill the panel's width, and which page of
// tiles is shown when there are more than fit.

/** The leading indices picked: null for all of them. A 3-D tensor has only `first`. */
export interface Pick {
  first: number | null;
  second: number | null;
}

export interface Tile {
  /** The flat position of the map's first element. */
  offset: number;
  /** Its leading indices, [sample, channel] or [i]. */
  index: number[];
}

/** Tensors the inspector draws as a mosaic of maps with pickers: 3-D [A, H, W] and 4-D [N, C, H, W]. */
export const hasMaps = (shape: number[]) => shape.length === 3 || shape.length === 4;

/** What a first look shows: for a batch of one-channel images, every image; for a batch of many
 * channels, the first sample's channels (not N x C tiny tiles). */
export function defaultPick(shape: number[]): Pick {
  if (shape.length === 4 && shape[1] > 1 && shape[0] > 1) return { first: 0, second: null };
  return { first: null, second: null };
}

/** A pick kept in range when the tensor's shape changes under it. */
export function clampPick(pick: Pick, shape: number[]): Pick {
  const keep = (v: number | null, size: number | undefined) =>
    v === null || size === undefined || v >= size ? null : v;
  return {
    first: keep(pick.first, shape[0]),
    second: shape.length === 4 ? keep(pick.second, shape[1]) : null,
  };
}

/** The maps a pick selects, in row-major order. */
export function tilesOf(shape: number[], pick: Pick): Tile[] {
  if (!hasMaps(shape)) return [];
  const [h, w] = shape.slice(-2);
  const per = h * w;
  const firsts = pick.first === null ? range(shape[0]) : [pick.first];
  if (shape.length === 3) return firsts.map((i) => ({ offset: i * per, index: [i] }));
  const channels = shape[1];
  const seconds = pick.second === null ? range(channels) : [pick.second];
  return firsts.flatMap((s) => seconds.map((c) => ({ offset: (s * channels + c) * per, index: [s, c] })));
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Tiles per page: beyond this the mosaic pages rather than drawing hundreds of tiny maps. */
export const PAGE = 48;

export interface Layout {
  /** CSS pixels of one tile's longer side. */
  tile: number;
  columns: number;
  pages: number;
}

/** Tiles as large as the panel allows: one map fills the width (up to 24 px an element); many
 * wrap into as many columns as fit at 44 px or more each. */
export function layout(count: number, h: number, w: number, width: number, gap = 6): Layout {
  const longest = Math.max(h, w, 1);
  const most = Math.max(16, Math.min(width, longest * 24));
  const least = Math.min(most, Math.max(44, longest * 2));
  const fit = Math.max(1, Math.floor((width + gap) / (least + gap)));
  const columns = Math.max(1, Math.min(Math.min(count, PAGE), fit));
  const tile = Math.max(8, Math.min(most, Math.floor((width + gap) / columns - gap)));
  return { tile, columns, pages: Math.max(1, Math.ceil(count / PAGE)) };
}
