// An agent's performance over the last 24 hours and all time, as a small table: tasks
// started, succeeded and failed, the success rate, the median and 95th percentile durations,
// the tokens and cost of its model calls.
import { useId } from 'react';
import type { AgentPerf } from '../api/types';
import { formatMs, formatSuccessRate } from '../app/agents';
import { formatCost, formatCount } from '../app/usage';

const ROWS: readonly { text: string; cell: (p: AgentPerf) => string }[] = [
  { text: 'Started', cell: (p) => formatCount(p.started) },
  { text: 'Succeeded', cell: (p) => formatCount(p.succeeded) },
  { text: 'Failed', cell: (p) => formatCount(p.failed) },
  { text: 'Success rate', cell: (p) => formatSuccessRate(p.success_rate) },
  { text: 'p50', cell: (p) => formatMs(p.p50_ms) },
  { text: 'p95', cell: (p) => formatMs(p.p95_ms) },
  { text: 'Tokens', cell: (p) => formatCount(p.tokens) },
  { text: 'Cost', cell: (p) => formatCost(p.cost) },
];

export function AgentPerformance({ day, all }: { day: AgentPerf; all: AgentPerf }) {
  const headingId = useId();
  return (
    <section aria-labelledby={headingId}>
      <h3 id={headingId}>Performance</h3>
      <table className="budget-table agent-perf" data-testid="agent-perf">
        <thead>
          <tr>
            <th scope="col">
              <span className="visually-hidden">Figure</span>
            </th>
            <th scope="col">24 h</th>
            <th scope="col">All time</th>
          </tr>
        </thead>
        <tbody>
          {ROWS.map((r) => (
            <tr key={r.text}>
              <th scope="row">{r.text}</th>
              <td>{r.cell(day)}</td>
              <td>{r.cell(all)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {all.running > 0 && <p className="small muted">{formatCount(all.running)} running now.</p>}
    </section>
  );
}
