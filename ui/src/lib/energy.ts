// The energy curve of a playlist as a small chart: one point per track,
// 0 (still) at the bottom to 1 (driving) at the top. Tracks without a sound
// analysis (not yet, silent, undecodable) have no point and break the line.

export type Point = { x: number; y: number; index: number };

export type Curve = {
  /** SVG path data: one `M … L …` run per stretch of analysed tracks. */
  path: string;
  points: Point[];
};

/** Where each analysed track sits in a `width` × `height` box. */
export function energyCurve(values: (number | null)[], width: number, height: number, pad = 4): Curve {
  const n = values.length;
  const x = (i: number) => (n <= 1 ? width / 2 : pad + ((width - 2 * pad) * i) / (n - 1));
  const y = (v: number) => pad + (height - 2 * pad) * (1 - Math.min(1, Math.max(0, v)));
  const points: Point[] = [];
  let path = "";
  let open = false;
  values.forEach((v, i) => {
    if (v == null || !Number.isFinite(v)) {
      open = false;
      return;
    }
    const p = { x: round(x(i)), y: round(y(v)), index: i };
    points.push(p);
    path += `${open ? "L" : "M"}${p.x} ${p.y} `;
    open = true;
  });
  return { path: path.trim(), points };
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

/** The curve in words, for screen readers and the chart's title. */
export function energyWords(values: (number | null)[]): string {
  const heard = values.filter((v): v is number => v != null && Number.isFinite(v));
  if (heard.length === 0) return "No track is analysed yet, so there is no energy curve.";
  const word = (v: number) => (v < 0.35 ? "calm" : v < 0.65 ? "moderate" : "energetic");
  const first = heard[0];
  const last = heard[heard.length - 1];
  const lo = Math.min(...heard);
  const hi = Math.max(...heard);
  const missing = values.length - heard.length;
  const tail = missing > 0 ? ` (${missing} without a sound analysis)` : "";
  if (hi - lo < 0.15 || word(lo) === word(hi)) return `Energy stays ${word((lo + hi) / 2)}${tail}.`;
  if (last - first >= 0.15) return `Energy rises from ${word(first)} to ${word(last)}${tail}.`;
  if (first - last >= 0.15) return `Energy winds down from ${word(first)} to ${word(last)}${tail}.`;
  return `Energy moves between ${word(lo)} and ${word(hi)}${tail}.`;
}
