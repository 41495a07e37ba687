import { h, s } from "./dom.js";

export interface Series {
  label: string;
  color: string;
  points: { x: number; y: number | null }[];
}

const W = 320;
const H = 120;
const PAD = { l: 44, r: 8, t: 8, b: 18 };

const fmt = (v: number): string =>
  v >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)}k` : `${+v.toFixed(2)}`;

/** A line chart drawn as inline SVG: no chart library, nothing fetched. */
export function lineChart(testid: string, title: string, unit: string, series: Series[]): HTMLElement {
  const all = series.flatMap((se) => se.points);
  const xs = all.map((p) => p.x);
  const ys = all.flatMap((p) => (p.y === null || !Number.isFinite(p.y) ? [] : [p.y]));
  const svg = s("svg", {
    viewBox: `0 0 ${W} ${H}`,
    class: "chart",
    role: "img",
    "aria-label": title,
  });
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const yMax = ys.length ? Math.max(...ys) * 1.1 || 1 : 1;
  const px = (x: number) =>
    PAD.l + (x1 === x0 ? (W - PAD.l - PAD.r) / 2 : ((x - x0) / (x1 - x0)) * (W - PAD.l - PAD.r));
  const py = (y: number) => H - PAD.b - (y / yMax) * (H - PAD.t - PAD.b);
  svg.appendChild(s("line", { x1: PAD.l, y1: H - PAD.b, x2: W - PAD.r, y2: H - PAD.b, class: "axis" }));
  svg.appendChild(s("line", { x1: PAD.l, y1: PAD.t, x2: PAD.l, y2: H - PAD.b, class: "axis" }));
  svg.appendChild(s("text", { x: PAD.l - 4, y: PAD.t + 8, class: "tick", "text-anchor": "end" }, fmt(yMax)));
  svg.appendChild(s("text", { x: PAD.l - 4, y: H - PAD.b, class: "tick", "text-anchor": "end" }, "0"));
  if (xs.length) {
    const span = Math.round((x1 - x0) / 1000);
    svg.appendChild(
      s("text", { x: W - PAD.r, y: H - 4, class: "tick", "text-anchor": "end" }, `last ${span}s`),
    );
  }
  for (const se of series) {
    const pts = se.points.filter((p) => p.y !== null && Number.isFinite(p.y));
    if (pts.length === 0) continue;
    const d = pts.map((p, i) => `${i ? "L" : "M"}${px(p.x).toFixed(1)},${py(p.y!).toFixed(1)}`).join(" ");
    svg.appendChild(s("path", { d, fill: "none", stroke: se.color, "stroke-width": 1.5 }));
    const last = pts.at(-1)!;
    svg.appendChild(s("circle", { cx: px(last.x), cy: py(last.y!), r: 2.5, fill: se.color }));
  }
  const legend = h(
    "div",
    { class: "legend" },
    series.map((se) => {
      const last = se.points.at(-1)?.y;
      return h(
        "span",
        {},
        h("i", { style: `background:${se.color}` }),
        `${se.label} ${last === null || last === undefined ? "—" : fmt(last)}${unit}`,
      );
    }),
  );
  return h(
    "figure",
    { class: "card chart-card", "data-testid": testid },
    h("figcaption", {}, title),
    svg,
    legend,
  );
}
