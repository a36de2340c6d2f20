// Organisation (issue 16): the standing workforce as a chart, each agent a card under the one
// it reports to (CEO, C-suite, managers, agents), with its status, load and success rate,
// kept live from the event stream; the selected agent (kept in the URL, `?agent=`) in a side
// panel. Without agents, how to register one.
import { useState } from 'react';
import type { Agent } from '../api/types';
import { orgHash, replaceHash } from '../app/route';
import { AgentPanel } from '../org/AgentPanel';
import { OrgChart } from '../org/OrgChart';
import { useOrg } from '../org/useOrg';

export function Org({ agent }: { agent?: string }) {
  const { org, error, version, refresh } = useOrg();
  const [notice, setNotice] = useState<string | null>(null);
  const selected = agent ?? null;
  const select = (name: string) => replaceHash(orgHash(name));
  const onChanged = (a: Agent) => {
    setNotice(`Agent ${a.name} is ${a.status}.`);
    refresh();
  };

  return (
    <>
      <h1 tabIndex={-1}>Organisation</h1>
      <p className="muted">The registered agents, under those they report to: what each runs now against how much it may at once, and how often it succeeds.</p>
      <p role="status" className="list-notice">
        {notice}
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {!org && !error && <p>Loading…</p>}
      {org && org.children.length === 0 && (
        <p data-testid="org-empty">
          No agents registered — <code>POST /api/v1/agents</code> or <code>cadre agents create</code>.
        </p>
      )}
      {org && org.children.length > 0 && (
        <div className="detail-grid">
          <OrgChart org={org} selected={selected} onSelect={select} />
          <aside aria-label="Selected agent" className="detail-panel">
            {selected ? (
              <AgentPanel key={selected} name={selected} version={version} onChanged={onChanged} />
            ) : (
              <p className="muted">Select an agent (click, or Enter) to see its capabilities, performance and recent tasks.</p>
            )}
          </aside>
        </div>
      )}
    </>
  );
}
