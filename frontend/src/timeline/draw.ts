// D3 drawing of the timeline: the time axis (its own SVG, kept above the scrolling rows), and
// the rows' SVG: grid lines, depth headers, a label and a status-coloured bar per node (joined
// by node id, with hover text), and the "now" line while bars are open.
import { axisTop, scaleLinear, scaleTime, select, type ScaleLinear, type ScaleTime } from 'd3';
import { nodeSummary } from '../tree/describe';
import { statusClass } from '../tree/status';
import type { BarRow, HeaderRow, TimelineRows, TimeSpan } from './rows';

/** Height of one row, header or bar. */
export const ROW_HEIGHT = 20;
const BAR_HEIGHT = 12;
/** Height of the axis' SVG. */
export const AXIS_HEIGHT = 26;
/** Indentation per level below the root (by branch), up to MAX_INDENT levels. */
const INDENT_PX = 10;
const MAX_INDENT = 6;
/** Rough width of a label character, to cut long names. */
const CHAR_PX = 7;
const GAP = 8;
const RIGHT_PAD = 16;
/** A bar is never drawn thinner than this, so instants stay visible and clickable. */
const MIN_BAR_PX = 2;
/** Pixels per axis tick. */
const TICK_SPACING = 90;
const MIN_TICKS = 2;

export type TimeScale = ScaleTime<number, number>;

/** Width of the name column for a panel `width` wide. */
export function labelWidthFor(width: number): number {
  const share = 0.3;
  const least = 90;
  const most = 220;
  return Math.round(Math.min(most, Math.max(least, width * share)));
}

export function timeScale(span: TimeSpan, width: number): TimeScale {
  const left = labelWidthFor(width) + GAP;
  return scaleTime()
    .domain([new Date(span.start), new Date(span.end)])
    .range([left, Math.max(left + 1, width - RIGHT_PAD)]);
}

function tickCount(scale: TimeScale): number {
  const [a, b] = scale.range();
  return Math.max(MIN_TICKS, Math.floor((b - a) / TICK_SPACING));
}

/** The same axis in milliseconds since the span's start: ticks at round elapsed times
 * (`0.5 s`, `1 s`, `1:30`) read better than wall-clock fractions of a second. */
function elapsedScale(scale: TimeScale): ScaleLinear<number, number> {
  const [start, end] = scale.domain();
  return scaleLinear()
    .domain([0, end.getTime() - start.getTime()])
    .range(scale.range());
}

/** Elapsed milliseconds as an axis label. */
export function formatElapsed(ms: number): string {
  if (ms < 1_000) return ms === 0 ? '0' : `${ms} ms`;
  if (ms < 60_000) return `${Number((ms / 1_000).toFixed(2))} s`;
  const seconds = Math.round(ms / 1_000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

export function drawAxis(group: SVGGElement, scale: TimeScale): void {
  const axis = axisTop(elapsedScale(scale))
    .ticks(tickCount(scale))
    .tickFormat((ms) => formatElapsed(Number(ms)));
  select(group).attr('transform', `translate(0,${AXIS_HEIGHT - 1})`).call(axis);
}

function cut(text: string, px: number): string {
  const room = Math.max(1, Math.floor(px / CHAR_PX));
  return text.length <= room ? text : `${text.slice(0, Math.max(1, room - 1))}…`;
}

interface Placed<R> {
  row: R;
  y: number;
}

function place(rows: TimelineRows): { headers: Placed<HeaderRow>[]; bars: Placed<BarRow>[] } {
  const headers: Placed<HeaderRow>[] = [];
  const bars: Placed<BarRow>[] = [];
  rows.rows.forEach((row, i) => {
    if (row.kind === 'header') headers.push({ row, y: i * ROW_HEIGHT });
    else bars.push({ row, y: i * ROW_HEIGHT });
  });
  return { headers, bars };
}

function drawGrid(svg: SVGSVGElement, scale: TimeScale, height: number): void {
  select(svg)
    .select('g.tl-grid')
    .selectAll('line')
    .data(elapsedScale(scale).ticks(tickCount(scale)))
    .join('line')
    .attr('x1', (d) => elapsedScale(scale)(d))
    .attr('x2', (d) => elapsedScale(scale)(d))
    .attr('y1', 0)
    .attr('y2', height);
}

function drawHeaders(svg: SVGSVGElement, headers: Placed<HeaderRow>[]): void {
  select(svg)
    .select('g.tl-headers')
    .selectAll<SVGTextElement, Placed<HeaderRow>>('text')
    .data(headers, (d) => d.row.label)
    .join('text')
    .attr('class', 'tl-header')
    .attr('x', 4)
    .attr('y', (d) => d.y + ROW_HEIGHT / 2)
    .attr('dy', '0.35em')
    .text((d) => `${d.row.label} (${d.row.count})`);
}

export interface BarPaint {
  scale: TimeScale;
  openEnd: number;
  labelWidth: number;
  selectedId: string | null;
  onPick: (id: string) => void;
}

function drawBars(svg: SVGSVGElement, bars: Placed<BarRow>[], paint: BarPaint): void {
  const { scale, openEnd, labelWidth, selectedId, onPick } = paint;
  const endOf = (r: BarRow) => r.end ?? openEnd;
  const rows = select(svg)
    .select('g.tl-bars')
    .selectAll<SVGGElement, Placed<BarRow>>('g.tl-row')
    .data(bars, (d) => d.row.node.id)
    .join((enter) => {
      const g = enter.append('g').attr('class', 'tl-row');
      g.append('text').attr('class', 'tl-label').attr('dy', '0.35em');
      g.append('rect').attr('class', 'tl-bar').append('title');
      return g;
    })
    .attr('transform', (d) => `translate(0,${d.y})`)
    .on('click', (_event, d) => onPick(d.row.node.id));
  rows
    .select<SVGTextElement>('text')
    .attr('x', (d) => 4 + Math.min(d.row.indent, MAX_INDENT) * INDENT_PX)
    .attr('y', ROW_HEIGHT / 2)
    .text((d) => cut(d.row.node.name, labelWidth - 4 - Math.min(d.row.indent, MAX_INDENT) * INDENT_PX));
  rows
    .select<SVGRectElement>('rect')
    .attr('class', (d) => `tl-bar ${statusClass(d.row.node.status)}${d.row.node.id === selectedId ? ' selected' : ''}`)
    .attr('x', (d) => scale(d.row.start))
    .attr('y', (ROW_HEIGHT - BAR_HEIGHT) / 2)
    .attr('height', BAR_HEIGHT)
    .attr('width', (d) => Math.max(MIN_BAR_PX, scale(endOf(d.row)) - scale(d.row.start)))
    .attr('data-node-id', (d) => d.row.node.id)
    .attr('data-status', (d) => d.row.node.status)
    .attr('data-depth', (d) => d.row.node.depth)
    .attr('data-duration-ms', (d) => endOf(d.row) - d.row.start)
    .select('title')
    .text((d) => nodeSummary(d.row.node, openEnd));
}

function drawNow(svg: SVGSVGElement, x: number | null, height: number): void {
  const line = select(svg).select('line.tl-now');
  if (x === null) {
    line.attr('visibility', 'hidden');
    return;
  }
  line.attr('visibility', 'visible').attr('x1', x).attr('x2', x).attr('y1', 0).attr('y2', height);
}

/** Draws every row into the rows' SVG (`width` wide). */
export function drawTimeline(svg: SVGSVGElement, rows: TimelineRows, span: TimeSpan, width: number, paint: Omit<BarPaint, 'scale' | 'openEnd' | 'labelWidth'>): void {
  const scale = timeScale(span, width);
  const height = rows.rows.length * ROW_HEIGHT;
  const { headers, bars } = place(rows);
  drawGrid(svg, scale, height);
  drawHeaders(svg, headers);
  drawBars(svg, bars, { ...paint, scale, openEnd: span.openEnd, labelWidth: labelWidthFor(width) });
  drawNow(svg, rows.open ? scale(span.openEnd) : null, height);
}
