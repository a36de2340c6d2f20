// D3 drawing of the overview into one SVG group: a single path for all links and one circle
// per node (joined by node id), then painting status, selection and hover text in place.
import { linkHorizontal, linkVertical, select } from 'd3';
import { nodeSummary } from '../tree/describe';
import { statusClass } from '../tree/status';
import { NODE_RADIUS, type OverviewLayout, type OverviewPoint } from './layout';

type Pair = [number, number];

const vertical = linkVertical<{ s: Pair; t: Pair }, Pair>()
  .source((d) => d.s)
  .target((d) => d.t);
const horizontal = linkHorizontal<{ s: Pair; t: Pair }, Pair>()
  .source((d) => d.s)
  .target((d) => d.t);

function linksPath(layout: OverviewLayout): string {
  const link = layout.orientation === 'down' ? vertical : horizontal;
  return layout.links.map(({ from, to }) => link({ s: [from.x, from.y], t: [to.x, to.y] }) ?? '').join(' ');
}

/** Places links and node circles; `onPick` gets the id of a clicked node. */
export function drawOverview(group: SVGGElement, layout: OverviewLayout, onPick: (id: string) => void): void {
  const root = select(group);
  root.select('path.ov-links').attr('d', linksPath(layout));
  root
    .select('g.ov-nodes')
    .selectAll<SVGCircleElement, OverviewPoint>('circle')
    .data(layout.points, (d) => d.node.id)
    .join((enter) => {
      const circle = enter.append('circle');
      circle.append('title');
      return circle;
    })
    .attr('cx', (d) => d.x)
    .attr('cy', (d) => d.y)
    .attr('r', NODE_RADIUS)
    .attr('data-node-id', (d) => d.node.id)
    .on('click', (_event, d) => onPick(d.node.id));
}

/** Repaints every circle from its node: status class, selection, hover text. */
export function paintOverview(group: SVGGElement, selectedId: string | null): void {
  select(group)
    .select('g.ov-nodes')
    .selectAll<SVGCircleElement, OverviewPoint>('circle')
    .attr('class', (d) => `ov-node ${statusClass(d.node.status)}${d.node.id === selectedId ? ' selected' : ''}`)
    .attr('data-status', (d) => d.node.status)
    .select('title')
    .text((d) => nodeSummary(d.node));
}
