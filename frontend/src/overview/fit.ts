// Fit-to-view: the zoom transform that shows a drawing's whole bounding box centred in a
// panel, and which way to lay a tree out (root on top or on the left) so it fits larger.

/** A bounding box in drawing units. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** A zoom transform: scale `k`, then translate by (`x`, `y`) pixels. */
export interface Fit {
  k: number;
  x: number;
  y: number;
}

/** Where the root goes: on top (children below it) or on the left (children to its right). */
export type Orientation = 'down' | 'right';

/** Pixels kept free around the fitted drawing. */
export const FIT_PADDING = 12;
/** A fitted small tree is not blown up beyond this. */
export const FIT_MAX_SCALE = 2.5;
/** No fit goes below this (a panel too small to show anything still gets a valid transform). */
export const FIT_MIN_SCALE = 0.001;

export function fitTransform(bounds: Box, width: number, height: number, padding = FIT_PADDING): Fit {
  const boxWidth = Math.max(bounds.x1 - bounds.x0, 1);
  const boxHeight = Math.max(bounds.y1 - bounds.y0, 1);
  const roomX = Math.max(width - 2 * padding, 1);
  const roomY = Math.max(height - 2 * padding, 1);
  const k = Math.max(FIT_MIN_SCALE, Math.min(roomX / boxWidth, roomY / boxHeight, FIT_MAX_SCALE));
  return {
    k,
    x: width / 2 - (k * (bounds.x0 + bounds.x1)) / 2,
    y: height / 2 - (k * (bounds.y0 + bounds.y1)) / 2,
  };
}

/** The box of the same drawing turned a quarter (x and y swapped). */
export function transpose(box: Box): Box {
  return { x0: box.y0, y0: box.x0, x1: box.y1, y1: box.x1 };
}

/** `down` unless laying the tree out sideways (`downBounds` transposed) fits it larger. */
export function chooseOrientation(downBounds: Box, width: number, height: number): Orientation {
  const down = fitTransform(downBounds, width, height).k;
  const right = fitTransform(transpose(downBounds), width, height).k;
  return right > down ? 'right' : 'down';
}
