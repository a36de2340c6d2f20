// A live list of approval requests (`GET /approvals`, through `useLiveList`): fetched again
// after an approval frame of a job it covers and on a resync of the stream, with its next page
// on demand and a request replaced in place by what a decision answered.
import { useCallback } from 'react';
import type { ApprovalView } from '../api/types';
import { isApprovalEvent } from './approvals';
import { useServices } from './services';
import { useLiveList, type LiveList } from './useLiveList';

export interface ApprovalsFilter {
  /** Only requests in this state (all states when absent). */
  state?: string;
  /** Only this job's. */
  jobId?: string;
  /** Only those the key may decide now (the server's default: true for pending ones). */
  mine?: boolean;
  limit?: number;
}

export type LiveApprovals = Omit<LiveList<ApprovalView>, 'items'> & {
  /** Null until the first page is read. */
  approvals: readonly ApprovalView[] | null;
};

export function useApprovals({ state, jobId, mine, limit }: ApprovalsFilter): LiveApprovals {
  const { api } = useServices();
  const read = useCallback(
    (cursor?: string) =>
      api.listApprovals({ state, jobId, mine, limit, cursor }).then((answer) => ({ items: answer.approvals ?? [], next: answer.next_cursor ?? null })),
    [api, state, jobId, mine, limit],
  );
  const { items, ...list } = useLiveList({ read, isEvent: isApprovalEvent, jobId });
  return { approvals: items, ...list };
}
