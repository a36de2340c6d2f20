// The current time, ticking every `intervalMs` while `active` (a running job's bars grow) and
// standing still otherwise.
import { useEffect, useState } from 'react';

/** How often open bars grow. */
export const NOW_TICK_MS = 500;

export function useNow(active: boolean, intervalMs = NOW_TICK_MS): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [active, intervalMs]);
  return now;
}
