// Approvals inbox (issue 15, docs/PEOPLE.md): the requests of plan nodes that wait for a
// person — to start, to have their result accepted, to have a model's plan approved before
// any of it runs, or (escalations) to be told what follows a failure; by default those the key may decide now, or every pending one, or the decided
// ones with their decisions — as cards with one-click Approve and Reject (Retry and Fail, and
// Retry with… and Skip, for an escalation). The list is read
// again after each approval frame (debounced) and on a resync, and kept in the URL
// (`?show=`); a decision's outcome is announced.
import { useState } from 'react';
import type { ApprovalView, Verdict } from '../api/types';
import { decidedNotice } from '../app/approvals';
import { approvalsHash, type ApprovalListName } from '../app/route';
import { useApprovals, type ApprovalsFilter } from '../app/useApprovals';
import { APPROVAL_CLOCK_MS } from '../components/ApprovalSection';
import { ApprovalCard } from '../components/ApprovalCard';
import { ListViewFrame, type ListChoice } from '../components/ListViewFrame';
import { useNow } from '../timeline/useNow';

/** Requests read per page. */
export const APPROVALS_PAGE = 50;

const LISTS: readonly ListChoice<ApprovalListName>[] = [
  { value: 'mine', text: 'Yours to decide' },
  { value: 'pending', text: 'All pending' },
  { value: 'decided', text: 'Decided' },
];

/** What each list asks the server (the decided list leaves out the pending requests it reads). */
const FILTERS: Record<ApprovalListName, ApprovalsFilter> = {
  mine: { state: 'pending', mine: true },
  pending: { state: 'pending', mine: false },
  decided: { mine: false },
};

const INTROS: Record<ApprovalListName, string> = {
  mine: 'Requests waiting for a decision this key may give now, newest first.',
  pending: 'Every request still waiting, newest first, including those other people decide.',
  decided: 'Requests approved, rejected or withdrawn, and escalations decided, newest first, with who decided what and when.',
};

const EMPTY: Record<ApprovalListName, string> = {
  mine: 'Nothing waits for your decision.',
  pending: 'No request is waiting.',
  decided: 'No request has been decided yet.',
};

export function Approvals({ show = 'mine' }: { show?: ApprovalListName }) {
  const { approvals, more, error, loadMore, replace } = useApprovals({ ...FILTERS[show], limit: APPROVALS_PAGE });
  const [notice, setNotice] = useState<string | null>(null);
  const now = useNow(true, APPROVAL_CLOCK_MS);
  const shown = show === 'decided' ? approvals?.filter((a) => a.state !== 'pending') : approvals;

  const onDecided = (view: ApprovalView, verdict: Verdict) => {
    replace(view);
    setNotice(decidedNotice(view, verdict));
  };

  return (
    <ListViewFrame
      title="Approvals"
      choicesLabel="Requests shown"
      choices={LISTS}
      show={show}
      hashOf={approvalsHash}
      intro={INTROS[show]}
      notice={notice}
      error={error}
      items={shown}
      empty={EMPTY[show]}
      emptyTestId="approvals-empty"
      listTestId="approval-list"
      renderItem={(a) => <ApprovalCard approval={a} now={now} onDecided={onDecided} />}
      more={more}
      loadMore={loadMore}
    />
  );
}
