// The organisation chart: the agents as cards, top-down (d3 tidy tree), links from each manager
// to its reports, fitted to the panel and zoomed and panned with d3-zoom (wheel, drag, the −/+
// buttons, or the `+`, `-`, `0` and arrow keys from anywhere in the chart), Fit coming back.
// Every card is a button: Tab reaches each, Enter or Space selects it.
import { useMemo, useRef, type KeyboardEvent } from 'react';
import type { OrgTree } from '../api/types';
import { useElementSize } from '../components/useElementSize';
import { useOverviewZoom, ZOOM_STEP, zoomKey } from '../overview/useOverviewZoom';
import { fitOrg, layoutOrg, linkPath } from './layout';
import { OrgCard } from './OrgCard';

const PERCENT = 100;
/** Size assumed before the panel is measured. */
const UNMEASURED = { width: 800, height: 500 };

export interface OrgChartProps {
  org: OrgTree;
  selected: string | null;
  onSelect: (name: string) => void;
}

export function OrgChart({ org, selected, onSelect }: OrgChartProps) {
  const frame = useRef<HTMLDivElement | null>(null);
  const inner = useRef<HTMLDivElement | null>(null);
  const size = useElementSize(frame, UNMEASURED);
  const layout = useMemo(() => layoutOrg(org), [org]);
  // The fit changes with the chart's size, not with every read of the same chart.
  const { width, height } = layout;
  const target = useMemo(() => fitOrg({ width, height }, size.width, size.height), [width, height, size]);
  const view = useOverviewZoom(frame, inner, size, target);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (zoomKey(view, e.key)) e.preventDefault();
  };

  return (
    <div className="org-chart">
      <div className="tree-toolbar" role="group" aria-label="Organisation chart controls">
        <button type="button" onClick={() => view.zoomBy(1 / ZOOM_STEP)} aria-label="Zoom out">
          −
        </button>
        <button type="button" onClick={() => view.zoomBy(ZOOM_STEP)} aria-label="Zoom in">
          +
        </button>
        <button type="button" onClick={view.fit} data-fitted={!view.moved} data-testid="org-fit">
          Fit
        </button>
        <span className="tree-count">
          {layout.cards.length} agents · {layout.levels} levels · {Math.round(view.scale * PERCENT)}%
        </span>
      </div>
      <div className="org-frame" ref={frame} onKeyDown={onKeyDown} data-testid="org-frame">
        <div className="org-inner" ref={inner} style={{ width: layout.width, height: layout.height }}>
          <svg className="org-links" width={layout.width} height={layout.height} aria-hidden="true" focusable="false">
            {layout.links.map(({ from, to }) => (
              <path key={`${from.node.name}>${to.node.name}`} d={linkPath(from, to)} />
            ))}
          </svg>
          <ul className="org-cards" aria-label="Agents">
            {layout.cards.map((card) => (
              <li key={card.node.name}>
                <OrgCard card={card} selected={card.node.name === selected} onSelect={onSelect} />
              </li>
            ))}
          </ul>
        </div>
      </div>
      <p className="small muted">
        Each card is an agent under the one it reports to: its load (running of its concurrency) and success rate, live. Select one
        for its details; drag, the wheel, + and − move the chart, 0 fits it.
      </p>
    </div>
  );
}
