// The overview of a job: the whole tree in one SVG, scaled to fit the panel, one circle per
// node coloured by status (pending ones hollow), with d3-zoom (wheel, drag, buttons, keys), a
// Fit button to come back, click to select, and live repaint from the tree model.
import { useEffect, useMemo, useRef, type KeyboardEvent } from 'react';
import { StatusLegend } from '../components/StatusLegend';
import { useElementSize } from '../components/useElementSize';
import type { TreeModel } from '../tree/model';
import { useModelChanges } from '../tree/useModelChanges';
import { drawOverview, paintOverview } from './draw';
import { chooseOrientation, FIT_PADDING, fitTransform } from './fit';
import { layoutOverview, spreadDepths, turnRight } from './layout';
import { useOverviewZoom, ZOOM_STEP, zoomKey } from './useOverviewZoom';

const PERCENT = 100;
/** Size assumed before the panel is measured. */
const UNMEASURED = { width: 800, height: 500 };

export interface OverviewProps {
  model: TreeModel;
  label: string;
  selectedId?: string | null;
  onSelect?: (id: string) => void;
}

export function Overview({ model, label, selectedId = null, onSelect }: OverviewProps) {
  const version = useModelChanges(model);
  const frame = useRef<HTMLDivElement | null>(null);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const groupRef = useRef<SVGGElement | null>(null);
  const size = useElementSize(frame, UNMEASURED);
  const down = useMemo(() => layoutOverview(model), [model]);
  const orientation = chooseOrientation(down.bounds, size.width, size.height);
  const layout = useMemo(() => {
    const room = { width: size.width - 2 * FIT_PADDING, height: size.height - 2 * FIT_PADDING };
    if (orientation === 'down') return spreadDepths(down, room.width, room.height);
    return turnRight(spreadDepths(down, room.height, room.width));
  }, [down, orientation, size]);
  const target = useMemo(() => fitTransform(layout.bounds, size.width, size.height), [layout, size]);
  const view = useOverviewZoom(svgRef, groupRef, size, target);
  const pick = useRef(onSelect);
  useEffect(() => {
    pick.current = onSelect;
  });

  useEffect(() => {
    if (groupRef.current) drawOverview(groupRef.current, layout, (id) => pick.current?.(id));
  }, [layout]);
  useEffect(() => {
    if (groupRef.current) paintOverview(groupRef.current, selectedId);
  }, [layout, version, selectedId]);

  // eslint-disable-next-line react-hooks/exhaustive-deps
  const totals = useMemo(() => model.totals(), [model, version]);

  const onKeyDown = (e: KeyboardEvent<SVGSVGElement>) => {
    if (zoomKey(view, e.key)) e.preventDefault();
  };

  return (
    <div className="overview">
      <div className="tree-toolbar" role="group" aria-label={`${label} controls`}>
        <button type="button" onClick={() => view.zoomBy(1 / ZOOM_STEP)} aria-label="Zoom out">
          −
        </button>
        <button type="button" onClick={() => view.zoomBy(ZOOM_STEP)} aria-label="Zoom in">
          +
        </button>
        <button type="button" onClick={view.fit} data-fitted={!view.moved} data-testid="overview-fit">
          Fit
        </button>
        <span className="tree-count" data-testid="overview-scale">
          {model.size} nodes · {Math.round(view.scale * PERCENT)}%
        </span>
      </div>
      <StatusLegend counts={totals} label={`${label}: nodes by status`} />
      <div className="overview-frame" ref={frame}>
        <svg
          ref={svgRef}
          className="overview-svg"
          width={size.width}
          height={size.height}
          role="img"
          aria-label={`${label}: ${model.size} nodes. Drag to pan, wheel or + and − to zoom, 0 to fit.`}
          tabIndex={0}
          onKeyDown={onKeyDown}
          data-orientation={layout.orientation}
        >
          <g ref={groupRef} className="ov-viewport">
            <path className="ov-links" />
            <g className="ov-nodes" />
          </g>
        </svg>
      </div>
      <p className="small muted">Click a node to see it in the side panel; the Tree view lists every node for the keyboard.</p>
    </div>
  );
}
