// Line chart (D3 scales and line generator, drawn as SVG by React) of slots in use per
// depth over the last 24 hours, from `stats.history`.
import { useMemo } from 'react';
import { extent, line, max, scaleLinear, scaleUtc } from 'd3';
import type { HistoryPoint } from '../api/types';
import { DEPTH_COLOURS } from './depthColours';

const WIDTH = 720;
const HEIGHT = 240;
const MARGIN = { top: 12, right: 16, bottom: 28, left: 36 };
const X_TICKS = 6;
const Y_TICKS = 4;
/** Gap between the y axis and its labels, and from the bottom edge to the x labels. */
const Y_LABEL_GAP = 6;
const X_LABEL_OFFSET = 8;
const LINE_WIDTH = 2;
/** Colour of a depth outside the palette. */
const FALLBACK_COLOUR = '#333333';
/** Span shown when every point has the same time (one bucket). */
const MIN_SPAN_MS = 60_000;

export function HistoryChart({ history }: { history: HistoryPoint[] }) {
  const chart = useMemo(() => {
    const points = history
      .map((p) => ({ ...p, t: new Date(p.ts) }))
      .filter((p) => !Number.isNaN(p.t.getTime()));
    if (points.length === 0) return null;
    const [t0, t1] = extent(points, (p) => p.t) as [Date, Date];
    const x = scaleUtc()
      .domain(t0.getTime() === t1.getTime() ? [new Date(t0.getTime() - MIN_SPAN_MS), t1] : [t0, t1])
      .range([MARGIN.left, WIDTH - MARGIN.right]);
    const y = scaleLinear()
      .domain([0, Math.max(1, max(points, (p) => p.in_use) ?? 1)])
      .nice()
      .range([HEIGHT - MARGIN.bottom, MARGIN.top]);
    const gen = line<{ t: Date; in_use: number }>()
      .x((p) => x(p.t))
      .y((p) => y(p.in_use));
    const byDepth = new Map<number, { t: Date; in_use: number }[]>();
    for (const p of points) {
      const list = byDepth.get(p.depth) ?? [];
      list.push(p);
      byDepth.set(p.depth, list);
    }
    const series = [...byDepth.entries()]
      .sort(([a], [b]) => a - b)
      .map(([depth, list]) => ({ depth, d: gen(list.sort((a, b) => a.t.getTime() - b.t.getTime())) ?? '' }));
    return {
      series,
      xTicks: x.ticks(X_TICKS).map((t) => ({ pos: x(t), text: x.tickFormat(X_TICKS)(t) })),
      yTicks: y.ticks(Y_TICKS).map((v) => ({ pos: y(v), text: String(v) })),
      peak: max(points, (p) => p.in_use) ?? 0,
    };
  }, [history]);

  if (!chart) return <p>No usage history yet.</p>;
  return (
    <figure className="history">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`Slots in use per depth over the last 24 hours; peak ${chart.peak}`}
        className="history-svg"
      >
        {chart.yTicks.map((t) => (
          <g key={`y${t.text}`}>
            <line x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={t.pos} y2={t.pos} className="grid" />
            <text x={MARGIN.left - Y_LABEL_GAP} y={t.pos} dy="0.32em" textAnchor="end" className="axis-text">
              {t.text}
            </text>
          </g>
        ))}
        {chart.xTicks.map((t) => (
          <text key={`x${t.pos}`} x={t.pos} y={HEIGHT - X_LABEL_OFFSET} textAnchor="middle" className="axis-text">
            {t.text}
          </text>
        ))}
        {chart.series.map((s) => (
          <path key={s.depth} d={s.d} fill="none" stroke={DEPTH_COLOURS[s.depth] ?? FALLBACK_COLOUR} strokeWidth={LINE_WIDTH} />
        ))}
      </svg>
      <figcaption>
        <ul className="legend">
          {chart.series.map((s) => (
            <li key={s.depth}>
              <span className="swatch" style={{ background: DEPTH_COLOURS[s.depth] ?? FALLBACK_COLOUR }} aria-hidden="true" />
              depth {s.depth}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
