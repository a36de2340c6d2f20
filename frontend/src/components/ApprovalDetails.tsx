// The parts of an approval request that the inbox's cards and the node panel's Approval
// section both show: where it stands (what it asks, its state, the level it waits at and
// whose it is, the approvers, the approvals given against those required, the deadline, who
// asked and when), every level it may climb, the decisions made on it (who — or the
// timeout's default —, what: approved, rejected, retried, retried with which terms, skipped,
// failed —, at which level, when, the comment, from where), the result an `after` request
// holds for the approver to accept (clipped), the failure an escalation puts to a person
// (its class in words, its error clipped, the attempts made), and the plan a plan approval
// holds (its project, components, success criteria, and the children it placed).
import type { ApprovalView } from '../api/types';
import {
  approversText,
  clippedJson,
  clippedText,
  currentLevel,
  deadlineText,
  decisionText,
  ESCALATION,
  escalationOf,
  heldResult,
  kindQuestion,
  letsGoOn,
  levelText,
  planApprovalOf,
  progressText,
  readRetryTerms,
  relativeTime,
  stateText,
  timeoutText,
} from '../app/approvals';
import { formatTime } from '../app/format';
import { classText } from '../app/recovery';
import { NodeLink } from './NodeLink';

/** The state as a word coloured by state (always with the word); an escalation's says what its decision did. */
export function ApprovalState({ state, kind }: { state: string; kind?: string }) {
  return (
    <span className={`badge approval-state approval-state-${state}`} data-testid="approval-state" data-state={state}>
      {stateText(state, kind)}
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
        <ApprovalState state={approval.state} kind={approval.kind} />
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
      {approval.kind !== ESCALATION && (
        <>
          <dt>Approvals</dt>
          <dd data-testid="approval-progress">{progressText(approval)}</dd>
        </>
      )}
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
            {level && level.timeout_s !== null && ` (${timeoutText(level, approval.kind)})`}
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
            {levelText(level, approval.kind)}
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
  // The terms a `retry_with` gave are kept as the request's input.
  const terms = readRetryTerms(approval.input);
  return (
    <ol className="approval-decisions" aria-label="Decisions">
      {approval.decisions.map((d, i) => (
        <li key={`${i}-${d.at}`} data-decision={d.decision} data-by={d.by ?? ''}>
          <span className={letsGoOn(d.decision) ? 'approval-state-approved' : 'approval-state-rejected'} aria-hidden="true">
            {letsGoOn(d.decision) ? '✓' : '✗'}
          </span>{' '}
          <span data-testid="decision-text">{decisionText(d, d.decision === 'retry_with' ? terms : null)}</span>,{' '}
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

/** The failure an escalation puts to a person: its class in words, the attempts made, its error (clipped); nothing for another kind. */
export function ApprovalFailure({ approval, headingLevel = 3 }: { approval: ApprovalView; headingLevel?: 3 | 4 }) {
  const failure = escalationOf(approval);
  if (!failure) return null;
  const Heading = headingLevel === 3 ? 'h3' : 'h4';
  return (
    <>
      <Heading>What failed</Heading>
      <dl className="facts escalation-failure">
        <dt>Class</dt>
        <dd data-testid="escalation-class">{failure.class ? classText(failure.class) : 'not given'}</dd>
        <dt>Attempts</dt>
        <dd data-testid="escalation-attempts">{failure.attempts ?? '—'}</dd>
        <dt>Error</dt>
        <dd className="error-text" data-testid="escalation-error">
          {failure.error ? clippedText(failure.error) : '—'}
        </dd>
      </dl>
    </>
  );
}

export interface ApprovalPlanProps {
  approval: ApprovalView;
  headingLevel?: 3 | 4;
  /** The id of the node a placed child's name stands for, when the tree holds it. */
  find?: (name: string) => string | undefined;
  /** Selects a node (names shown as plain text without it). */
  onSelect?: (nodeId: string) => void;
}

/**
 * The plan a plan approval holds: its project, its components (name and type), its success
 * criteria, and the children it placed (a manager with its agents); nothing for another kind.
 */
export function ApprovalPlan({ approval, headingLevel = 3, find, onSelect }: ApprovalPlanProps) {
  const held = planApprovalOf(approval);
  if (!held) return null;
  const Heading = headingLevel === 3 ? 'h3' : 'h4';
  const { plan, assignments, children } = held;
  const components = plan?.components ?? [];
  const criteria = plan?.success_criteria ?? [];
  const agentsOf = (name: string) => assignments.find((g) => g.manager === name)?.agents.map((a) => a.agent) ?? [];
  return (
    <>
      <Heading>Plan to approve</Heading>
      <dl className="facts approval-plan" data-testid="approval-plan">
        <dt>Project</dt>
        <dd data-testid="approval-plan-project">{plan?.project_name ?? <span className="muted">not named</span>}</dd>
        <dt>Components</dt>
        <dd>
          {components.length === 0 ? (
            <span className="muted">none given</span>
          ) : (
            <ul aria-label="Components" data-testid="approval-plan-components">
              {components.map((c, i) => (
                <li key={i}>
                  <strong>{c.name ?? '?'}</strong>
                  {c.type && <span className="muted"> ({c.type})</span>}
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Success criteria</dt>
        <dd>
          {criteria.length === 0 ? (
            <span className="muted">none given</span>
          ) : (
            <ul aria-label="Success criteria" data-testid="approval-plan-criteria">
              {criteria.map((c, i) => (
                <li key={i}>{c}</li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Places</dt>
        <dd>
          {children.length === 0 ? (
            <span className="muted">no children</span>
          ) : (
            <ul aria-label="Children it places" data-testid="approval-plan-children">
              {children.map((name) => {
                const agents = agentsOf(name);
                return (
                  <li key={name} data-child={name}>
                    <NodeLink name={name} nodeId={find?.(name)} onSelect={onSelect} />
                    {agents.length > 0 && <span className="muted"> (agents: {agents.join(', ')})</span>}
                  </li>
                );
              })}
            </ul>
          )}
        </dd>
      </dl>
    </>
  );
}
