// Resources view: per-depth quota bars (flashing on resource_warning), job counts, the
// 24-hour usage chart and the server's replicas; stats are polled while shown and refreshed
// on worker frames.
import { useEffect, useRef, useState } from 'react';
import { describeError } from '../api/client';
import type { Stats } from '../api/types';
import { useServices, useStreamEvents } from '../app/services';
import { ClusterSection } from '../components/ClusterSection';
import { HistoryChart } from '../components/HistoryChart';
import { ResourceBar } from '../components/ResourceBar';
import type { EventFrame } from '../live/events';

/** Poll interval while the view is shown (the rate limit is 10 req/s per key). */
export const STATS_POLL_MS = 3000;
/** At most one event-triggered refresh per this many ms. */
export const STATS_EVENT_THROTTLE_MS = 1000;
/** How long a depth's bar flashes after a resource_warning. */
export const FLASH_MS = 4000;

const REFRESHING_TYPES: ReadonlySet<string> = new Set(['worker_started', 'node_completed', 'job_completed', 'job_cancelled']);

export function Resources() {
  const { api } = useServices();
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [flashing, setFlashing] = useState<ReadonlySet<number>>(new Set());
  const inFlight = useRef(false);
  const lastEventRefresh = useRef(0);
  const throttleTimer = useRef<number | null>(null);
  const flashTimers = useRef(new Map<number, number>());

  const poll = useRef<() => void>(() => undefined);

  useEffect(() => {
    let alive = true;
    const load = () => {
      if (inFlight.current) return;
      inFlight.current = true;
      api
        .stats()
        .then((next) => {
          if (!alive) return;
          setStats(next);
          setError(null);
        })
        .catch((err: unknown) => alive && setError(describeError(err)))
        .finally(() => {
          inFlight.current = false;
        });
    };
    poll.current = load;
    load();
    const id = window.setInterval(load, STATS_POLL_MS);
    const timers = flashTimers.current;
    return () => {
      alive = false;
      poll.current = () => undefined;
      window.clearInterval(id);
      if (throttleTimer.current !== null) window.clearTimeout(throttleTimer.current);
      for (const t of timers.values()) window.clearTimeout(t);
    };
  }, [api]);

  const flash = (depth: number) => {
    setFlashing((s) => new Set([...s, depth]));
    const old = flashTimers.current.get(depth);
    if (old !== undefined) window.clearTimeout(old);
    flashTimers.current.set(
      depth,
      window.setTimeout(() => {
        flashTimers.current.delete(depth);
        setFlashing((s) => new Set([...s].filter((d) => d !== depth)));
      }, FLASH_MS),
    );
  };

  useStreamEvents((frame: EventFrame) => {
    if (frame.type === 'resource_warning') {
      const depth = typeof frame.data.depth === 'number' ? frame.data.depth : frame.depth;
      if (depth !== null) flash(depth);
    }
    if (!REFRESHING_TYPES.has(frame.type) || throttleTimer.current !== null) return;
    const wait = Math.max(0, lastEventRefresh.current + STATS_EVENT_THROTTLE_MS - Date.now());
    throttleTimer.current = window.setTimeout(() => {
      throttleTimer.current = null;
      lastEventRefresh.current = Date.now();
      poll.current();
    }, wait);
  });

  return (
    <>
      <h1 tabIndex={-1}>Resources</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {!stats && !error && <p>Loading…</p>}
      {stats && (
        <>
          <section aria-labelledby="quota-heading">
            <h2 id="quota-heading">Slots by depth</h2>
            <div className="resource-list">
              {stats.by_depth.map((d) => (
                <ResourceBar key={d.depth} stats={d} flashing={flashing.has(d.depth)} />
              ))}
            </div>
            <p className="muted small">Marks at 80 % and 90 % of each quota.</p>
          </section>
          <section aria-labelledby="jobs-heading">
            <h2 id="jobs-heading">Jobs</h2>
            <p>
              {Object.entries(stats.jobs.by_status)
                .map(([s, n]) => `${n} ${s}`)
                .join(' · ') || 'No jobs yet'}{' '}
              · {stats.event_stream_connections} stream connection{stats.event_stream_connections === 1 ? '' : 's'}
            </p>
          </section>
          <section aria-labelledby="history-heading">
            <h2 id="history-heading">Slots in use, last 24 hours</h2>
            <HistoryChart history={stats.history} />
          </section>
        </>
      )}
      <ClusterSection />
    </>
  );
}
