// Collects stream frames and hands them over in one batch per animation frame, so a burst
// of events costs one model update and one repaint.
import type { EventFrame } from './events';

export type Schedule = (fn: () => void) => void;

const FALLBACK_FRAME_MS = 16;

export const nextFrame: Schedule = (fn) => {
  if (typeof window !== 'undefined' && typeof window.requestAnimationFrame === 'function') {
    window.requestAnimationFrame(() => fn());
  } else {
    setTimeout(fn, FALLBACK_FRAME_MS);
  }
};

export class FrameBatcher {
  private pending: EventFrame[] = [];
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly flush: (frames: EventFrame[]) => void,
    private readonly schedule: Schedule = nextFrame,
  ) {}

  push(frame: EventFrame): void {
    if (this.closed) return;
    this.pending.push(frame);
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => {
      this.scheduled = false;
      if (this.closed) return;
      const frames = this.pending;
      this.pending = [];
      if (frames.length > 0) this.flush(frames);
    });
  }

  close(): void {
    this.closed = true;
    this.pending = [];
  }
}
