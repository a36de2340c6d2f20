// The node panel's Plan section for a decomposing orchestrator: what the request was taken
// for, the questions asked and their answers, the planned project (components with their
// requirements, constraints, success criteria) and which tasks went to which manager and agent.
import type { Clarification, Intent, JsonValue, Plan, PlanComponent } from '../api/types';
import { Assignments } from './Assignments';
import { readAssignments, readClarifications, readIntent, readPlan } from './decomposition';
import { TextList } from './TextList';

export interface PlanSectionProps {
  result: JsonValue | undefined;
  /** The id of the node a manager's or agent's name stands for, when the tree holds it. */
  find?: (name: string) => string | undefined;
  /** Selects a node (names shown as plain text without it). */
  onSelect?: (nodeId: string) => void;
}

const CONFIDENCE_DIGITS = 2;

function IntentLine({ intent }: { intent: Intent }) {
  return (
    <p data-testid="plan-intent">
      <strong>Intent:</strong> {intent.intent ?? '?'}
      {intent.confidence !== undefined && ` (confidence ${intent.confidence.toFixed(CONFIDENCE_DIGITS)})`}
      {intent.reason && ` — ${intent.reason}`}
    </p>
  );
}

function Questions({ items }: { items: Clarification[] }) {
  return (
    <>
      <h4>Questions</h4>
      <ol className="plan-questions">
        {items.map((c, i) => (
          <li key={i}>
            <p>
              <strong>Q:</strong> {c.question}
            </p>
            <p>
              <strong>A:</strong> {c.answer ? c.answer : <span className="muted">waiting for an answer</span>}
            </p>
          </li>
        ))}
      </ol>
    </>
  );
}

function ComponentItem({ part }: { part: PlanComponent }) {
  const requirements = part.specific_requirements ?? [];
  return (
    <li>
      <strong>{part.name ?? '?'}</strong>
      {part.type && <span className="muted"> ({part.type})</span>}
      {requirements.length > 0 && (
        <ul>
          {requirements.map((r, i) => (
            <li key={i}>{r}</li>
          ))}
        </ul>
      )}
    </li>
  );
}

function PlanBody({ plan }: { plan: Plan }) {
  const parts = plan.components ?? [];
  return (
    <>
      {plan.project_name && (
        <p>
          <strong>Project:</strong> {plan.project_name}
        </p>
      )}
      {parts.length > 0 && (
        <>
          <h4>Components</h4>
          <ul aria-label="Components" className="plan-components">
            {parts.map((part, i) => (
              <ComponentItem key={i} part={part} />
            ))}
          </ul>
        </>
      )}
      <TextList heading="Technical constraints" items={plan.technical_constraints} />
      <TextList heading="Success criteria" items={plan.success_criteria} />
    </>
  );
}

const nothing = (): undefined => undefined;

export function PlanSection({ result, find = nothing, onSelect }: PlanSectionProps) {
  const plan = readPlan(result);
  const groups = readAssignments(result);
  const intent = readIntent(result);
  const questions = readClarifications(result);
  return (
    <section className="plan" aria-labelledby="plan-heading" data-testid="node-plan">
      <h3 id="plan-heading">Plan</h3>
      {intent && <IntentLine intent={intent} />}
      {questions.length > 0 && <Questions items={questions} />}
      {plan && <PlanBody plan={plan} />}
      {!plan && <p className="muted">No plan yet.</p>}
      {groups.length > 0 && <Assignments groups={groups} find={find} onSelect={onSelect} />}
    </section>
  );
}
