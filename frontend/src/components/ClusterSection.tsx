// The Resources view's Cluster section: the server's replicas as the answering one sees them
// (a summary line, then a table of address, machine, pid, state, last heartbeat, start, the
// unfinished jobs it owns and its share of each depth's quota, live ones first, the answering
// one marked), or "Server" for a server on its own. It reads them again at each heartbeat and
// keeps the last answer, with a note, when a read fails.
import type { ReplicaView } from '../api/types';
import { clusterSummary, formatAge, formatAgo, formatShares, sharesTitle, replicaStateClass, replicaStateGlyph, replicaStateMeaning, sortReplicas } from '../app/cluster';
import { formatTime } from '../app/format';
import { useCluster } from '../app/useCluster';

const COLUMNS = ['Address', 'Host', 'PID', 'State', 'Last heartbeat', 'Started', 'Jobs', 'Quota shares'] as const;

/** A replica's state as glyph plus word, coloured by state, its meaning as a tooltip. */
export function ReplicaStateBadge({ state }: { state: string }) {
  return (
    <span className={`badge ${replicaStateClass(state)}`} data-replica-state={state} title={replicaStateMeaning(state)}>
      <span aria-hidden="true">{replicaStateGlyph(state)}</span> {state}
    </span>
  );
}

function ReplicaRow({ replica, now }: { replica: ReplicaView; now: number }) {
  return (
    <tr data-replica-id={replica.id} data-testid="replica-row">
      <td>
        <code>{replica.address}</code>
        {replica.this && <span className="muted"> (this replica)</span>}
      </td>
      <td>{replica.host}</td>
      <td>{replica.pid}</td>
      <td>
        <ReplicaStateBadge state={replica.state} />
      </td>
      <td>
        <time dateTime={replica.heartbeat_at} title={formatTime(replica.heartbeat_at)}>
          {formatAgo(replica.heartbeat_at, now)}
        </time>
      </td>
      <td>{formatTime(replica.started_at)}</td>
      <td>{replica.jobs ?? 0}</td>
      <td title={sharesTitle(replica)} data-testid="replica-shares">
        {formatShares(replica.shares)}
      </td>
    </tr>
  );
}

function ReplicaTable({ replicas, caption, now }: { replicas: readonly ReplicaView[]; caption: string; now: number }) {
  return (
    <div className="table-scroll">
      <table className="jobs-table cluster-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sortReplicas(replicas).map((r) => (
            <ReplicaRow key={r.id} replica={r} now={now} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ClusterSection() {
  const { view, answeredAt, error, now } = useCluster();
  const single = view !== null && !view.enabled;
  return (
    <section aria-labelledby="cluster-heading" data-testid="cluster">
      <h2 id="cluster-heading">{single ? 'Server' : 'Cluster'}</h2>
      {!view && !error && <p>Loading…</p>}
      {!view && error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {view && (
        <>
          <p data-testid="cluster-summary">{clusterSummary(view)}</p>
          <ReplicaTable replicas={view.replicas} caption={single ? 'This server' : 'Replicas, live first'} now={now} />
          {!single && (
            <p className="muted small">
              Heartbeat every {view.heartbeat_s} s; a replica lapses after {view.lease_s} s without one.
            </p>
          )}
        </>
      )}
      {view && error && (
        <p className="error small" data-testid="cluster-stale">
          Could not refresh ({error}); showing the answer from {formatAge(now - (answeredAt ?? now))}.
        </p>
      )}
    </section>
  );
}
