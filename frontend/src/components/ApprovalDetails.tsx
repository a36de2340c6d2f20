// The parts of an approval request that the inbox's cards and the node panel's Approval
// section both show: where it stands (what it asks, its state, the level it waits at and
// whose it is, the approvers, the approvals given against those required, the deadline, who
// asked and when), every level it may climb, the decisions made on it (who — or the
// timeout's default —, at which level, when, the comment, from where), and the result an
// `after` request holds for the approver to accept (clipped).
import type { ApprovalView } from '../api/types';
import {
  approversText,
  clippedJson,
  currentLevel,
  deadlineText,
  decisionText,
  heldResult,
  kindQuestion,
  levelText,
  progressText,
  relativeTime,
  stateText,
  timeoutText,
} from '../app/approvals';
import { formatTime } from '../app/format';

/** The state as a word coloured by state (always with the word). */
export function ApprovalState({ state }: { state: string }) {
  return (
    <span className={`badge approval-state approval-state-${state}`} data-testid="approval-state" data-state={state}>
      {stateText(state)}
    </span>
  );
}

export function ApprovalFacts({ approval, now }: { approval: ApprovalView; now: number }) {
  const level = currentLevel(approval);
  const pending = approval.state === 'pending';
  return (
    <dl className="facts approval-facts">
      <dt>Asks</dt>
      <dd>{kindQuestion(approval.kind)}</dd>
      <dt>State</dt>
      <dd>
        <ApprovalState state={approval.state} />
      </dd>
      <dt>Level</dt>
      <dd data-testid="approval-level">
        {approval.level} of {approval.levels.length}
        {level && `: ${level.owner}`}
      </dd>
      {level && (
        <>
          <dt>Approvers</dt>
          <dd data-testid="approval-approvers">{approversText(level.approvers)}</dd>
        </>
      )}
      <dt>Approvals</dt>
      <dd data-testid="approval-progress">{progressText(approval)}</dd>
      {pending && (
        <>
          <dt>Deadline</dt>
          <dd data-testid="approval-deadline">
            {approval.deadline ? (
              <time dateTime={approval.deadline} title={formatTime(approval.deadline)}>
                {deadlineText(approval.deadline, now)}
              </time>
            ) : (
              'none'
            )}
            {level && level.timeout_s !== null && ` (${timeoutText(level)})`}
          </dd>
        </>
      )}
      <dt>Requested by</dt>
      <dd data-testid="approval-requested-by">{approval.requested_by ?? '—'}</dd>
      <dt>Requested</dt>
      <dd>
        <time dateTime={approval.created_at} title={formatTime(approval.created_at)}>
          {relativeTime(approval.created_at, now)}
        </time>
      </dd>
    </dl>
  );
}

/** Every level the request may climb, the one it is at marked. */
export function ApprovalLevels({ approval }: { approval: ApprovalView }) {
  return (
    <ol className="approval-levels" aria-label="Levels">
      {approval.levels.map((level, i) => {
        const current = i + 1 === approval.level;
        return (
          <li key={`${i}-${level.owner}`} aria-current={current ? 'step' : undefined}>
            {levelText(level)}
            {current && <strong> (current)</strong>}
          </li>
        );
      })}
    </ol>
  );
}

/** The decisions made on the request, oldest first; says so when there are none. */
export function ApprovalDecisions({ approval, now }: { approval: ApprovalView; now: number }) {
  if (approval.decisions.length === 0) return <p className="muted">No decisions yet.</p>;
  return (
    <ol className="approval-decisions" aria-label="Decisions">
      {approval.decisions.map((d, i) => (
        <li key={`${i}-${d.at}`} data-decision={d.decision} data-by={d.by ?? ''}>
          <span className={d.decision === 'approve' ? 'approval-state-approved' : 'approval-state-rejected'} aria-hidden="true">
            {d.decision === 'approve' ? '✓' : '✗'}
          </span>{' '}
          <span data-testid="decision-text">{decisionText(d)}</span>,{' '}
          <time dateTime={d.at} title={formatTime(d.at)}>
            {relativeTime(d.at, now)}
          </time>
          {d.source && <span className="muted"> (from {d.source})</span>}
          {d.comment && <q className="decision-comment">{d.comment}</q>}
        </li>
      ))}
    </ol>
  );
}

/** The result an `after` request holds, pretty and clipped; nothing for a `before` one. */
export function ApprovalResult({ approval, headingLevel = 3 }: { approval: ApprovalView; headingLevel?: 3 | 4 }) {
  const result = heldResult(approval);
  if (result === undefined) return null;
  const Heading = headingLevel === 3 ? 'h3' : 'h4';
  const c = approval.context;
  const attempts = c && typeof c === 'object' && !Array.isArray(c) && typeof c.attempts === 'number' ? c.attempts : null;
  return (
    <>
      <Heading>Result to accept{attempts !== null && <span className="muted"> (after {attempts} attempt{attempts === 1 ? '' : 's'})</span>}</Heading>
      <pre className="json" tabIndex={0} data-testid="approval-result">
        {clippedJson(result)}
      </pre>
    </>
  );
}
