// d3-zoom on a drawing's frame (the overview's SVG, the organisation chart's box): wheel, drag
// and double-click zoom and pan the drawing's group (an SVG group's transform, or an HTML
// element's CSS transform); the view follows the fit (on open, resize, new layout) until the
// user moves it, and `fit()` goes back to it. `zoomKey` gives the keys their moves.
import { select, zoom, zoomIdentity, type D3ZoomEvent, type ZoomBehavior, type ZoomTransform } from 'd3';
import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import type { Size } from '../components/useElementSize';
import type { Fit } from './fit';

/** The furthest one can zoom in. */
export const ZOOM_MAX = 16;
/** How much further out than the fit one can zoom. */
const ZOOM_OUT_BEYOND_FIT = 2;
/** Zoom factor of one button press or key. */
export const ZOOM_STEP = 1.5;
/** Pixels one arrow key pans. */
const PAN_STEP = 60;

const PAN_KEYS: Record<string, [number, number]> = {
  ArrowLeft: [PAN_STEP, 0],
  ArrowRight: [-PAN_STEP, 0],
  ArrowUp: [0, PAN_STEP],
  ArrowDown: [0, -PAN_STEP],
};

export interface OverviewZoom {
  /** The scale shown now. */
  scale: number;
  /** True once the user has zoomed or panned away from the fit. */
  moved: boolean;
  zoomBy: (factor: number) => void;
  panBy: (dx: number, dy: number) => void;
  fit: () => void;
}

/** Moves `view` for a key (arrows pan, `+` and `-` zoom, `0` fits); false for other keys. */
export function zoomKey(view: OverviewZoom, key: string): boolean {
  const pan = PAN_KEYS[key];
  if (pan) view.panBy(pan[0], pan[1]);
  else if (key === '+' || key === '=') view.zoomBy(ZOOM_STEP);
  else if (key === '-') view.zoomBy(1 / ZOOM_STEP);
  else if (key === '0') view.fit();
  else return false;
  return true;
}

function toTransform(f: Fit) {
  return zoomIdentity.translate(f.x, f.y).scale(f.k);
}

/** Shows the drawing moved by `t`: an SVG group's transform attribute, an HTML element's style. */
function place(group: Element, t: ZoomTransform): void {
  if (group instanceof HTMLElement) group.style.transform = `translate(${t.x}px, ${t.y}px) scale(${t.k})`;
  else group.setAttribute('transform', t.toString());
}

export function useOverviewZoom<E extends Element>(
  svgRef: RefObject<E | null>,
  groupRef: RefObject<Element | null>,
  size: Size,
  target: Fit,
): OverviewZoom {
  const behaviour = useRef<ZoomBehavior<E, unknown> | null>(null);
  const [scale, setScale] = useState(target.k);
  const [moved, setMoved] = useState(false);

  useEffect(() => {
    const svg = svgRef.current;
    const group = groupRef.current;
    if (!svg || !group) return;
    const z = zoom<E, unknown>().on('zoom', (event: D3ZoomEvent<E, unknown>) => {
      place(group, event.transform);
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
