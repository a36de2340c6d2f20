// The standing workforce (issue 16) for display: an agent's status, load and success rate in
// words, its executor, a delegated node's agent line, and which stream frames change the
// organisation chart (a delegation, an agent created, changed or deleted, a node starting or
// ending, which moves its agent's load and figures).
import type { AgentRun, DelegationView, OrgNode } from '../api/types';
import { formatDuration } from './format';

/** Statuses an agent can be in: `paused` takes no new work, `retired` none ever again. */
export const AGENT_STATUSES = ['active', 'paused', 'retired'] as const;

const GLYPHS: Record<string, string> = { active: '●', paused: '‖', retired: '⊘' };

const PERCENT = 100;

/** The frames after which the chart (and the agent shown) are read again. */
const ORG_EVENTS: ReadonlySet<string> = new Set([
  'delegation',
  'agent_changed',
  'worker_started',
  'node_retrying',
  'node_completed',
  'job_completed',
  'job_cancelled',
]);

export function isOrgEvent(type: string): boolean {
  return ORG_EVENTS.has(type);
}

export function agentStatusGlyph(status: string): string {
  return GLYPHS[status] ?? '?';
}

/** The CSS class colouring an agent's status (`agent-status-paused`, …). */
export function agentStatusClass(status: string): string {
  return `agent-status-${GLYPHS[status] ? status : 'unknown'}`;
}

/** Load as the card shows it: "1/2". */
export function formatLoad(running: number, concurrency: number): string {
  return `${running}/${concurrency}`;
}

/** The share of its slots an agent uses, 0..1 (full when it has none and runs something). */
export function loadShare(running: number, concurrency: number): number {
  if (concurrency <= 0) return running > 0 ? 1 : 0;
  return Math.min(1, Math.max(0, running / concurrency));
}

/** A success rate (0..1) as a whole percentage, "—" before anything finished. */
export function formatSuccessRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '—';
  return `${Math.round(rate * PERCENT)} %`;
}

/** A duration in milliseconds, "—" when unknown. */
export function formatMs(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : formatDuration(ms);
}

/**
 * What a card reads out, its visible words in their order (so its name holds what it shows):
 * "Chief Executive, ceo, active, board, load 1/2, success 100 %".
 */
export function orgCardLabel(node: OrgNode): string {
  const parts = node.title ? [node.title, node.name] : [node.name];
  parts.push(node.status);
  if (node.department) parts.push(node.department);
  parts.push(`load ${formatLoad(node.running, node.concurrency)}`, `success ${formatSuccessRate(node.success_rate)}`);
  return parts.join(', ');
}

function strings(v: unknown): string[] | null {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : null;
}

/** How an agent runs its work, in a line: "command: sleep 1", "llm: scripted", "http: https://…". */
export function executorText(run: AgentRun): string {
  const argv = strings(run.argv);
  if (run.type === 'command' && argv) return `command: ${argv.join(' ')}`;
  if (run.type === 'http' && typeof run.url === 'string') return `http: ${run.url}`;
  if (run.type === 'llm') {
    const said = [run.provider, run.model].filter((x): x is string => typeof x === 'string');
    return said.length > 0 ? `llm: ${said.join(' / ')}` : 'llm';
  }
  return run.type;
}

/** A delegation's state in words. */
export function delegationStateText(state: string): string {
  switch (state) {
    case 'waiting':
      return 'waiting for an agent';
    case 'assigned':
      return 'assigned';
    case 'timed_out':
      return 'timed out waiting for an agent';
    default:
      return state.replaceAll('_', ' ');
  }
}

/** Reads a node's `delegation` from a job view or a frame; null when it has none. */
export function readDelegation(v: unknown): DelegationView | null {
  if (!v || typeof v !== 'object') return null;
  const d = v as Record<string, unknown>;
  if (typeof d.state !== 'string') return null;
  return {
    state: d.state,
    agent: typeof d.agent === 'string' ? d.agent : null,
    reason: typeof d.reason === 'string' ? d.reason : '',
    requested_ms: typeof d.requested_ms === 'number' ? d.requested_ms : 0,
    assigned_ms: typeof d.assigned_ms === 'number' ? d.assigned_ms : null,
  };
}

/**
 * A `delegation` frame applied to what a node showed: the frame's `outcome` is the new state,
 * its agent and reason replace the old ones, and the times are kept (a frame has none).
 */
export function delegationFromFrame(data: Record<string, unknown>, ts: string, old: DelegationView | null): DelegationView | null {
  const state = typeof data.outcome === 'string' ? data.outcome : null;
  if (!state) return old;
  const at = Date.parse(ts);
  const when = Number.isNaN(at) ? null : at;
  return {
    state,
    agent: typeof data.agent === 'string' ? data.agent : state === 'assigned' ? (old?.agent ?? null) : null,
    reason: typeof data.reason === 'string' ? data.reason : (old?.reason ?? ''),
    requested_ms: old?.requested_ms ?? when ?? 0,
    assigned_ms: state === 'assigned' ? (old?.assigned_ms ?? when) : null,
  };
}
