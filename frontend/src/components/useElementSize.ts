// The content size of an element, kept current with a ResizeObserver (or window resizes where
// there is none); `fallback` stands in while the element is unmeasured (0 × 0, as in jsdom).
import { useEffect, useState, type RefObject } from 'react';

export interface Size {
  width: number;
  height: number;
}

function measure(el: HTMLElement, fallback: Size): Size {
  const width = el.clientWidth || fallback.width;
  const height = el.clientHeight || fallback.height;
  return { width, height };
}

function sameSize(a: Size, b: Size): boolean {
  return a.width === b.width && a.height === b.height;
}

export function useElementSize(ref: RefObject<HTMLElement | null>, fallback: Size): Size {
  const [size, setSize] = useState<Size>(fallback);
  const { width: fallbackWidth, height: fallbackHeight } = fallback;
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const stand = { width: fallbackWidth, height: fallbackHeight };
    const update = () => setSize((old) => {
      const next = measure(el, stand);
      return sameSize(old, next) ? old : next;
    });
    update();
    if (typeof ResizeObserver === 'undefined') {
      window.addEventListener('resize', update);
      return () => window.removeEventListener('resize', update);
    }
    const observer = new ResizeObserver(update);
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref, fallbackWidth, fallbackHeight]);
  return size;
}
