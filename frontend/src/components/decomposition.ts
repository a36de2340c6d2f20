// Reading what a decomposing orchestrator and a validated worker keep in their results (issue
// 13): the plan, the assignments by manager and agent, the intent, the questions and answers,
// and a worker's validation verdict. Every reader takes any JSON and keeps what is well formed.
import type {
  AgentAssignment,
  Clarification,
  Intent,
  JsonValue,
  Plan,
  PlanComponent,
  ResultValidation,
} from '../api/types';

type JsonObject = { [key: string]: JsonValue };

/** A manager and its agents; `manager` null for agents placed without one (a flat list). */
export interface AssignmentGroup {
  manager: string | null;
  title: string | null;
  agents: AgentAssignment[];
}

function asObject(value: JsonValue | undefined): JsonObject | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
}

function asArray(value: JsonValue | undefined): JsonValue[] {
  return Array.isArray(value) ? value : [];
}

function text(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function strings(value: JsonValue | undefined): string[] {
  return asArray(value).filter((v): v is string => typeof v === 'string');
}

function component(value: JsonValue): PlanComponent | null {
  const o = asObject(value);
  if (!o) return null;
  return { type: text(o.type), name: text(o.name), specific_requirements: strings(o.specific_requirements) };
}

/** The plan, or null when the result holds none. */
export function readPlan(result: JsonValue | undefined): Plan | null {
  const plan = asObject(asObject(result)?.plan);
  if (!plan) return null;
  return {
    project_name: text(plan.project_name),
    components: asArray(plan.components)
      .map(component)
      .filter((c): c is PlanComponent => c !== null),
    technical_constraints: strings(plan.technical_constraints),
    success_criteria: strings(plan.success_criteria),
  };
}

function agent(value: JsonValue): AgentAssignment | null {
  const o = asObject(value);
  const name = text(o?.agent);
  if (!o || !name) return null;
  return { agent: name, title: text(o.title), tasks: strings(o.tasks) };
}

function agents(values: JsonValue[]): AgentAssignment[] {
  return values.map(agent).filter((a): a is AgentAssignment => a !== null);
}

/** The assignments by manager; a flat list of agents becomes one group without a manager. */
export function readAssignments(result: JsonValue | undefined): AssignmentGroup[] {
  const items = asArray(asObject(result)?.assignments);
  const groups: AssignmentGroup[] = [];
  const loose = agents(items.filter((i) => typeof asObject(i)?.agent === 'string'));
  for (const item of items) {
    const o = asObject(item);
    const manager = text(o?.manager);
    if (o && manager) groups.push({ manager, title: text(o.title) ?? null, agents: agents(asArray(o.agents)) });
  }
  if (loose.length > 0) groups.push({ manager: null, title: null, agents: loose });
  return groups;
}

/** What the request was taken for, or null. */
export function readIntent(result: JsonValue | undefined): Intent | null {
  const o = asObject(asObject(result)?.intent);
  if (!o) return null;
  const confidence = o.confidence;
  return {
    intent: text(o.intent),
    confidence: typeof confidence === 'number' ? confidence : undefined,
    reason: text(o.reason),
    question: text(o.question),
    agent: text(o.agent),
  };
}

/** The questions asked, oldest first, with their answers when given. */
export function readClarifications(result: JsonValue | undefined): Clarification[] {
  const out: Clarification[] = [];
  for (const item of asArray(asObject(result)?.clarifications)) {
    const o = asObject(item);
    const question = text(o?.question);
    if (!o || question === undefined) continue;
    const asked = o.asked_ms;
    out.push({ question, answer: text(o.answer) ?? null, asked_ms: typeof asked === 'number' ? asked : null });
  }
  return out;
}

/** The question still waiting for an answer (the last one without), or null. */
export function pendingQuestion(result: JsonValue | undefined): string | null {
  const last = readClarifications(result).at(-1);
  return last && !last.answer ? last.question : null;
}

/** True when the result is a decomposing node's: a plan, assignments, an intent or questions. */
export function hasDecomposition(result: JsonValue | undefined): boolean {
  return (
    readPlan(result) !== null ||
    readAssignments(result).length > 0 ||
    readIntent(result) !== null ||
    readClarifications(result).length > 0
  );
}

/** A worker's validation verdict, or null when its result was not checked. */
export function readValidation(result: JsonValue | undefined): ResultValidation | null {
  const o = asObject(asObject(result)?.validation);
  if (!o || typeof o.passed !== 'boolean') return null;
  return { passed: o.passed, issues: strings(o.issues), suggestions: strings(o.suggestions), by: text(o.by) };
}
