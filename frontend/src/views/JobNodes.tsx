// The nodes part of the Job detail view: the Tree / Overview / Timeline tabs over the job's live
// tree model, all three selecting into the side panel, and the Dead letters tab (its count as
// a badge; a dead letter's recipient selects its node). The choice is in the URL, `?view=`.
import { useCallback } from 'react';
import { jobHash, replaceHash, type JobViewName } from '../app/route';
import { useMessages, type LiveMessages } from '../app/useMessages';
import { DeadLetters } from '../components/DeadLetters';
import { ViewTabs, type TabChoice } from '../components/ViewTabs';
import { Overview } from '../overview/Overview';
import { Timeline } from '../timeline/Timeline';
import type { TreeModel } from '../tree/model';
import { TreeView } from '../tree/TreeView';

const TABS: readonly TabChoice<JobViewName>[] = [
  { value: 'tree', text: 'Tree' },
  { value: 'overview', text: 'Overview' },
  { value: 'timeline', text: 'Timeline' },
  { value: 'dead-letters', text: 'Dead letters' },
];

export interface JobNodesProps {
  jobId: string;
  model: TreeModel | null;
  view: JobViewName;
  selectedId: string | null;
  onSelect: (id: string) => void;
}

function Shown({ jobId, model, view, selectedId, onSelect, dead }: JobNodesProps & { model: TreeModel; dead: LiveMessages }) {
  const props = { model, selectedId, onSelect };
  const nameOf = useCallback((id: string) => model.get(id)?.name, [model]);
  switch (view) {
    case 'overview':
      return <Overview {...props} label={`Overview of job ${jobId}`} />;
    case 'timeline':
      return <Timeline {...props} label={`Timeline of job ${jobId}`} />;
    case 'dead-letters':
      return <DeadLetters messages={dead.messages} error={dead.error} nameOf={nameOf} onSelect={onSelect} />;
    default:
      return <TreeView {...props} label={`Tree of job ${jobId}`} />;
  }
}

export function JobNodes(props: JobNodesProps) {
  const { jobId, model, view } = props;
  const dead = useMessages({ jobId, state: 'dead' });
  const count = dead.messages?.length ?? 0;
  const tabs = TABS.map((t) => (t.value === 'dead-letters' ? { ...t, badge: count } : t));
  return (
    <section aria-labelledby="job-nodes-heading" className="detail-tree">
      <div className="nodes-heading">
        <h2 id="job-nodes-heading">Nodes</h2>
        <a className="small" href={`#/?job=${encodeURIComponent(jobId)}`}>
          Open in the hierarchy view
        </a>
      </div>
      <ViewTabs
        idPrefix="job-nodes"
        label="Show the nodes as, or the dead letters"
        tabs={tabs}
        current={view}
        onChange={(v) => replaceHash(jobHash(jobId, v))}
      >
        {model && <Shown {...props} model={model} dead={dead} />}
      </ViewTabs>
    </section>
  );
}
