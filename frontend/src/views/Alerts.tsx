// Alerts (issue 15, docs/PEOPLE.md): what the rules that watch jobs and the server saw — a
// job whose finished workers failed too often (by default its new starts are held until
// someone resumes it), a straggling node, a busy quota, a budget running low —, the open ones
// by default or the resolved ones (kept in the URL, `?show=`), newest first, as cards; a held
// job's card has Resume job. The list is changed by each alert frame and read again after
// it (debounced) and on a resync; a resume is announced.
import { useState } from 'react';
import type { AlertView, JobSummary } from '../api/types';
import { alertsHash, type AlertListName } from '../app/route';
import { useAlerts } from '../app/useAlerts';
import { AlertCard } from '../components/AlertCard';
import { APPROVAL_CLOCK_MS } from '../components/ApprovalSection';
import { ListViewFrame, type ListChoice } from '../components/ListViewFrame';
import { useNow } from '../timeline/useNow';

/** Alerts read per page. */
export const ALERTS_PAGE = 50;

const LISTS: readonly ListChoice<AlertListName>[] = [
  { value: 'open', text: 'Open' },
  { value: 'resolved', text: 'Resolved' },
];

const INTROS: Record<AlertListName, string> = {
  open: 'Alerts still open, newest first. A job held by its failure rate starts nothing new until someone resumes it.',
  resolved: 'Alerts resolved, newest first: by whom (resuming a held job), or on their own once their condition passed.',
};

const EMPTY: Record<AlertListName, string> = {
  open: 'No alert is open.',
  resolved: 'No alert has been resolved yet.',
};

export function Alerts({ show = 'open' }: { show?: AlertListName }) {
  const { alerts, more, error, loadMore, refresh } = useAlerts({ open: show === 'open', limit: ALERTS_PAGE });
  const [notice, setNotice] = useState<string | null>(null);
  const now = useNow(true, APPROVAL_CLOCK_MS);

  const onResumed = (alert: AlertView, summary: JobSummary) => {
    setNotice(`You resumed job ${alert.job_id ?? summary.job_id}: it is ${summary.status} and starts new nodes again.`);
    refresh();
  };

  return (
    <ListViewFrame
      title="Alerts"
      choicesLabel="Alerts shown"
      choices={LISTS}
      show={show}
      hashOf={alertsHash}
      intro={INTROS[show]}
      notice={notice}
      error={error}
      items={alerts}
      empty={EMPTY[show]}
      emptyTestId="alerts-empty"
      listTestId="alert-list"
      renderItem={(a) => <AlertCard alert={a} now={now} onResumed={onResumed} />}
      more={more}
      loadMore={loadMore}
    />
  );
}
