// A live list of alerts (`GET /alerts`, through `useLiveList`): changed at once by each alert
// frame it covers (a fired alert joins it, a resolved one is marked or leaves it) and fetched
// again after it and on a resync of the stream, with its next page on demand.
import { useCallback } from 'react';
import type { AlertView } from '../api/types';
import type { EventFrame } from '../live/events';
import { applyAlertFrame, isAlertEvent, type AlertsFilter } from './alerts';
import { useServices } from './services';
import { useLiveList, type LiveList } from './useLiveList';

export type LiveAlerts = Omit<LiveList<AlertView>, 'items' | 'replace'> & {
  /** Null until the first page is read. */
  alerts: readonly AlertView[] | null;
};

export function useAlerts({ jobId, rule, open, limit }: AlertsFilter): LiveAlerts {
  const { api } = useServices();
  const read = useCallback(
    (cursor?: string) =>
      api.listAlerts({ jobId, rule, open, limit, cursor }).then((answer) => ({ items: answer.alerts ?? [], next: answer.next_cursor ?? null })),
    [api, jobId, rule, open, limit],
  );
  const applyFrame = useCallback(
    (alerts: readonly AlertView[], frame: EventFrame) => applyAlertFrame(alerts, frame, { jobId, rule, open }),
    [jobId, rule, open],
  );
  const { items, more, error, loadMore, refresh } = useLiveList({ read, isEvent: isAlertEvent, jobId, applyFrame });
  return { alerts: items, more, error, loadMore, refresh };
}
