// d3-zoom on the overview's SVG: wheel, drag and double-click zoom and pan the drawing's group;
// the view follows the fit (on open, resize, new layout) until the user moves it, and `fit()`
// goes back to it.
import { select, zoom, zoomIdentity, type D3ZoomEvent, type ZoomBehavior } from 'd3';
import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import type { Size } from '../components/useElementSize';
import type { Fit } from './fit';

/** The furthest one can zoom in. */
export const ZOOM_MAX = 16;
/** How much further out than the fit one can zoom. */
const ZOOM_OUT_BEYOND_FIT = 2;

export interface OverviewZoom {
  /** The scale shown now. */
  scale: number;
  /** True once the user has zoomed or panned away from the fit. */
  moved: boolean;
  zoomBy: (factor: number) => void;
  panBy: (dx: number, dy: number) => void;
  fit: () => void;
}

type Behaviour = ZoomBehavior<SVGSVGElement, unknown>;

function toTransform(f: Fit) {
  return zoomIdentity.translate(f.x, f.y).scale(f.k);
}

export function useOverviewZoom(
  svgRef: RefObject<SVGSVGElement | null>,
  groupRef: RefObject<SVGGElement | null>,
  size: Size,
  target: Fit,
): OverviewZoom {
  const behaviour = useRef<Behaviour | null>(null);
  const [scale, setScale] = useState(target.k);
  const [moved, setMoved] = useState(false);

  useEffect(() => {
    const svg = svgRef.current;
    const group = groupRef.current;
    if (!svg || !group) return;
    const z: Behaviour = zoom<SVGSVGElement, unknown>().on('zoom', (event: D3ZoomEvent<SVGSVGElement, unknown>) => {
      group.setAttribute('transform', event.transform.toString());
      setScale(event.transform.k);
      // Only a gesture has a source event; the buttons and the fit set `moved` themselves.
      if (event.sourceEvent) setMoved(true);
    });
    const selection = select(svg);
    selection.call(z);
    behaviour.current = z;
    return () => {
      selection.on('.zoom', null);
      behaviour.current = null;
    };
  }, [svgRef, groupRef]);

  const apply = useCallback(
    (f: Fit) => {
      const svg = svgRef.current;
      if (svg && behaviour.current) select(svg).call(behaviour.current.transform, toTransform(f));
    },
    [svgRef],
  );

  useEffect(() => {
    behaviour.current
      ?.extent([
        [0, 0],
        [size.width, size.height],
      ])
      .scaleExtent([Math.min(target.k, 1) / ZOOM_OUT_BEYOND_FIT, ZOOM_MAX]);
  }, [size, target]);

  useEffect(() => {
    if (!moved) apply(target);
  }, [moved, target, apply]);

  const zoomBy = useCallback(
    (factor: number) => {
      const svg = svgRef.current;
      if (!svg || !behaviour.current) return;
      setMoved(true);
      select(svg).call(behaviour.current.scaleBy, factor);
    },
    [svgRef],
  );

  const panBy = useCallback(
    (dx: number, dy: number) => {
      const svg = svgRef.current;
      if (!svg || !behaviour.current) return;
      setMoved(true);
      select(svg).call(behaviour.current.translateBy, dx / scale, dy / scale);
    },
    [svgRef, scale],
  );

  const fit = useCallback(() => {
    setMoved(false);
    apply(target);
  }, [apply, target]);

  return { scale, moved, zoomBy, panBy, fit };
}
