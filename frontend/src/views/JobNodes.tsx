// The nodes part of the Job detail view: the Tree / Overview / Timeline tabs (the choice is in
// the URL, `?view=`) over the job's live tree model, all three selecting into the side panel.
import { jobHash, replaceHash, type JobViewName } from '../app/route';
import { ViewTabs, type TabChoice } from '../components/ViewTabs';
import { Overview } from '../overview/Overview';
import { Timeline } from '../timeline/Timeline';
import type { TreeModel } from '../tree/model';
import { TreeView } from '../tree/TreeView';

const TABS: readonly TabChoice<JobViewName>[] = [
  { value: 'tree', text: 'Tree' },
  { value: 'overview', text: 'Overview' },
  { value: 'timeline', text: 'Timeline' },
];

export interface JobNodesProps {
  jobId: string;
  model: TreeModel | null;
  view: JobViewName;
  selectedId: string | null;
  onSelect: (id: string) => void;
}

function Shown({ jobId, model, view, selectedId, onSelect }: JobNodesProps & { model: TreeModel }) {
  const props = { model, selectedId, onSelect };
  switch (view) {
    case 'overview':
      return <Overview {...props} label={`Overview of job ${jobId}`} />;
    case 'timeline':
      return <Timeline {...props} label={`Timeline of job ${jobId}`} />;
    default:
      return <TreeView {...props} label={`Tree of job ${jobId}`} />;
  }
}

export function JobNodes(props: JobNodesProps) {
  const { jobId, model, view } = props;
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
        label="Show the nodes as"
        tabs={TABS}
        current={view}
        onChange={(v) => replaceHash(jobHash(jobId, v))}
      >
        {model && <Shown {...props} model={model} />}
      </ViewTabs>
    </section>
  );
}
