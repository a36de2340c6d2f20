// Which tasks a decomposing node gave to which manager and agent: managers as a list, each
// with its agents and their tasks (agents alone when the depth cap left no room for managers).
// Names the tree holds select their node.
import type { AgentAssignment } from '../api/types';
import type { AssignmentGroup } from './decomposition';
import { NodeLink } from './NodeLink';

export interface AssignmentsProps {
  groups: AssignmentGroup[];
  /** The id of the node a name stands for, when the tree holds it. */
  find: (name: string) => string | undefined;
  onSelect?: (nodeId: string) => void;
}

type Linking = Pick<AssignmentsProps, 'find' | 'onSelect'>;

function Agent({ agent, find, onSelect }: { agent: AgentAssignment } & Linking) {
  const tasks = agent.tasks ?? [];
  return (
    <li data-agent={agent.agent}>
      <NodeLink name={agent.agent} nodeId={find(agent.agent)} onSelect={onSelect} />
      {agent.title && agent.title !== agent.agent && <span className="muted"> {agent.title}</span>}
      {tasks.length > 0 && (
        <ul className="plan-tasks" aria-label={`Tasks of ${agent.agent}`}>
          {tasks.map((task, i) => (
            <li key={i}>{task}</li>
          ))}
        </ul>
      )}
    </li>
  );
}

function Agents({ agents, label, ...linking }: { agents: AgentAssignment[]; label: string } & Linking) {
  if (agents.length === 0) return <p className="muted">No agents.</p>;
  return (
    <ul className="plan-agents" aria-label={label}>
      {agents.map((a) => (
        <Agent key={a.agent} agent={a} {...linking} />
      ))}
    </ul>
  );
}

function Group({ group, ...linking }: { group: AssignmentGroup } & Linking) {
  if (group.manager === null) return <Agents agents={group.agents} label="Agents" {...linking} />;
  return (
    <li data-manager={group.manager}>
      <NodeLink name={group.manager} nodeId={linking.find(group.manager)} onSelect={linking.onSelect} />
      {group.title && <span className="muted"> {group.title}</span>}
      <Agents agents={group.agents} label={`Agents of ${group.manager}`} {...linking} />
    </li>
  );
}

export function Assignments({ groups, find, onSelect }: AssignmentsProps) {
  const managed = groups.filter((g) => g.manager !== null);
  const loose = groups.filter((g) => g.manager === null);
  return (
    <>
      <h4>Assignments</h4>
      {managed.length > 0 && (
        <ul className="plan-managers" aria-label="Managers">
          {managed.map((g) => (
            <Group key={g.manager} group={g} find={find} onSelect={onSelect} />
          ))}
        </ul>
      )}
      {loose.map((g, i) => (
        <Group key={i} group={g} find={find} onSelect={onSelect} />
      ))}
    </>
  );
}
