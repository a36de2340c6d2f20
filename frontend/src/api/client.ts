// The REST client of /api/v1: bearer key, RFC 7807 problems as ApiError, pacing and 429
// Retry-After handling, and one typed method per route the dashboard uses.
import { RateGate } from './rateGate';
import type {
  Agent,
  AgentDetail,
  AgentList,
  AlertList,
  AnswerBody,
  ApprovalList,
  ApprovalView,
  ClusterView,
  DecisionBody,
  HierarchyNode,
  JobPage,
  JobSummary,
  JobView,
  LlmCalls,
  MessageList,
  MessageState,
  MessageView,
  NodeDiff,
  NodeLogs,
  OrgTree,
  Problem,
  SendMessageBody,
  Stats,
  SubmitResponse,
  ValidationReport,
} from './types';

export const API_PREFIX = '/api/v1';
/** How many times one call is retried after a 429 before giving up. */
const MAX_RATE_LIMIT_RETRIES = 3;
/** Pause used when a 429 carries no usable Retry-After. */
const DEFAULT_RETRY_AFTER_S = 1;
const HTTP_UNAUTHORIZED = 401;
const HTTP_TOO_MANY = 429;
const HTTP_NO_CONTENT = 204;

/** An error answer from the API, with its problem body when there is one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A short human sentence for any error thrown by a call. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const p = err.problem;
    return p ? `${p.title} (${p.status}): ${p.detail}` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

export interface JobsQuery {
  status?: string;
  /** `key=value` as typed by the user (sent as the server's `key:value`). */
  label?: string;
  limit?: number;
  cursor?: string | null;
}

export interface ApprovalsQuery {
  /** Only requests in this state (all states when absent). */
  state?: string;
  jobId?: string;
  /** Only those the calling key may decide now (the server's default: true for pending ones). */
  mine?: boolean;
  limit?: number;
  cursor?: string | null;
}

export interface AlertsQuery {
  jobId?: string;
  /** An `AlertRule`. */
  rule?: string;
  /** Only open (true) or resolved (false) alerts; both when absent. */
  open?: boolean;
  limit?: number;
  cursor?: string | null;
}

export interface ApiClientOptions {
  key: string;
  fetchImpl?: typeof fetch;
  gate?: RateGate;
  /** Called on a 401: the key is missing, wrong or revoked. */
  onUnauthorized?: () => void;
}

type Query = Record<string, string | number | boolean | null | undefined>;

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** The label filter as the server wants it: `key:value` (the UI accepts `key=value` too). */
export function labelParam(label: string | undefined): string | undefined {
  const text = label?.trim();
  if (!text) return undefined;
  const eq = text.indexOf('=');
  return eq > 0 && !text.includes(':') ? `${text.slice(0, eq)}:${text.slice(eq + 1)}` : text;
}

function parseRetryAfter(value: string | null): number {
  const n = value === null ? NaN : Number(value);
  return Number.isFinite(n) && n >= 0 ? n : DEFAULT_RETRY_AFTER_S;
}

async function readProblem(res: Response): Promise<Problem | null> {
  try {
    const body: unknown = await res.json();
    if (body && typeof body === 'object' && 'status' in body && 'title' in body) return body as Problem;
  } catch {
    // A non-JSON error body: the status line says enough.
  }
  return null;
}

export class ApiClient {
  private readonly fetchImpl: typeof fetch;
  private readonly gate: RateGate;

  constructor(private readonly options: ApiClientOptions) {
    this.fetchImpl = options.fetchImpl ?? ((input, init) => fetch(input, init));
    this.gate = options.gate ?? new RateGate();
  }

  get key(): string {
    return this.options.key;
  }

  /** Sends one call (paced, retried after a 429) and returns its successful response. */
  private async send(method: string, path: string, init: { query?: Query; body?: unknown; accept?: string }): Promise<Response> {
    const url = `${API_PREFIX}${path}${queryString(init.query)}`;
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.options.key}`,
      Accept: init.accept ?? 'application/json',
    };
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    for (let attempt = 0; ; attempt += 1) {
      await this.gate.take();
      const res = await this.fetchImpl(url, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      if (res.status === HTTP_TOO_MANY && attempt < MAX_RATE_LIMIT_RETRIES) {
        this.gate.pauseFor(parseRetryAfter(res.headers.get('Retry-After')));
        continue;
      }
      if (!res.ok) {
        const problem = await readProblem(res);
        if (res.status === HTTP_UNAUTHORIZED) this.options.onUnauthorized?.();
        throw new ApiError(res.status, problem, problem?.detail ?? `${method} ${path}: HTTP ${res.status}`);
      }
      return res;
    }
  }

  async request<T>(method: string, path: string, init: { query?: Query; body?: unknown } = {}): Promise<T> {
    const res = await this.send(method, path, init);
    if (res.status === HTTP_NO_CONTENT) return undefined as T;
    return (await res.json()) as T;
  }

  /** A call whose answer is text (Markdown, …) rather than JSON. */
  async requestText(method: string, path: string, accept: string): Promise<string> {
    const res = await this.send(method, path, { accept: `${accept}, application/problem+json` });
    return res.text();
  }

  listJobs(q: JobsQuery = {}): Promise<JobPage> {
    return this.request('GET', '/recursion/jobs', {
      query: { status: q.status, label: labelParam(q.label), limit: q.limit, cursor: q.cursor },
    });
  }

  getJob(id: string, opts: { results?: boolean; maxDepth?: number } = {}): Promise<JobView> {
    return this.request('GET', `/recursion/job/${encodeURIComponent(id)}`, {
      query: { results: opts.results ?? false, max_depth: opts.maxDepth },
    });
  }

  cancelJob(id: string): Promise<JobView> {
    return this.request('DELETE', `/recursion/job/${encodeURIComponent(id)}`);
  }

  cancelNode(id: string, nodeId: string): Promise<unknown> {
    return this.request('DELETE', `/recursion/job/${encodeURIComponent(id)}/nodes/${encodeURIComponent(nodeId)}`);
  }

  /** Answers the question a paused job asked (202: it goes on; 409: it is not waiting). */
  answerJob(id: string, answer: string): Promise<JobSummary> {
    return this.request('POST', `/recursion/job/${encodeURIComponent(id)}/answer`, { body: { answer } satisfies AnswerBody });
  }

  /** Lets a job held by its failure-rate alert start nodes again (202; 409: it is not held). */
  resumeJob(id: string): Promise<JobSummary> {
    return this.request('POST', `/recursion/job/${encodeURIComponent(id)}/resume`);
  }

  /** The job's final report, as Markdown. */
  jobReport(id: string): Promise<string> {
    return this.requestText('GET', `/recursion/job/${encodeURIComponent(id)}/report`, 'text/markdown');
  }

  nodeLogs(id: string, nodeId: string): Promise<NodeLogs> {
    return this.request('GET', `/recursion/job/${encodeURIComponent(id)}/nodes/${encodeURIComponent(nodeId)}/logs`);
  }

  /**
   * What a node's branch changed in the job's workspace (404: the job has no workspace, or
   * the node has no branch yet).
   */
  nodeDiff(id: string, nodeId: string): Promise<NodeDiff> {
    return this.request('GET', `/recursion/job/${encodeURIComponent(id)}/nodes/${encodeURIComponent(nodeId)}/diff`);
  }

  /** A node's model calls, oldest first: its conversation. */
  llmCalls(id: string, nodeId: string): Promise<LlmCalls> {
    return this.request('GET', `/recursion/job/${encodeURIComponent(id)}/nodes/${encodeURIComponent(nodeId)}/llm-calls`);
  }

  /**
   * A job's messages, oldest first (at most 1,000), in one state or all: only lists them.
   * (Receiving, `GET …/nodes/{node}/messages`, delivers them: the dashboard never calls it.)
   */
  listMessages(jobId: string, state?: MessageState): Promise<MessageList> {
    return this.request('GET', `/recursion/job/${encodeURIComponent(jobId)}/messages`, { query: { state } });
  }

  /** Sends a message to a node of a running job (a `write` key); answers it as stored. */
  sendMessage(jobId: string, body: SendMessageBody): Promise<MessageView> {
    return this.request('POST', `/recursion/job/${encodeURIComponent(jobId)}/messages`, { body });
  }

  hierarchy(jobId?: string): Promise<HierarchyNode> {
    return this.request('GET', '/recursion/hierarchy', { query: { job_id: jobId } });
  }

  stats(): Promise<Stats> {
    return this.request('GET', '/recursion/stats');
  }

  /** The server's replicas (one, itself, for a server on its own). */
  cluster(): Promise<ClusterView> {
    return this.request('GET', '/cluster');
  }

  validate(spec: unknown): Promise<ValidationReport> {
    return this.request('POST', '/recursion/validate', { body: spec });
  }

  submit(spec: unknown): Promise<SubmitResponse> {
    return this.request('POST', '/recursion/job', { body: spec });
  }

  /** Approval requests, newest first. */
  listApprovals(q: ApprovalsQuery = {}): Promise<ApprovalList> {
    return this.request('GET', '/approvals', {
      query: { state: q.state, job_id: q.jobId, mine: q.mine, limit: q.limit, cursor: q.cursor },
    });
  }

  getApproval(id: string): Promise<ApprovalView> {
    return this.request('GET', `/approvals/${encodeURIComponent(id)}`);
  }

  /** Approves or rejects a request; answers the request as it stands after the decision. */
  decideApproval(id: string, body: DecisionBody): Promise<ApprovalView> {
    return this.request('POST', `/approvals/${encodeURIComponent(id)}/decision`, { body });
  }

  /** Alerts, newest first. */
  listAlerts(q: AlertsQuery = {}): Promise<AlertList> {
    return this.request('GET', '/alerts', {
      query: { job_id: q.jobId, rule: q.rule, open: q.open, limit: q.limit, cursor: q.cursor },
    });
  }

  /** The registered agents. */
  listAgents(): Promise<AgentList> {
    return this.request('GET', '/agents');
  }

  /** One agent, with how it performs and its latest tasks. */
  getAgent(name: string): Promise<AgentDetail> {
    return this.request('GET', `/agents/${encodeURIComponent(name)}`);
  }

  /** The organisation chart: who reports to whom, with each agent's load and success rate. */
  agentOrg(): Promise<OrgTree> {
    return this.request('GET', '/agents/org');
  }

  /** Pauses (no new work) or resumes an agent; an admin key's. */
  setAgentStatus(name: string, status: 'active' | 'paused'): Promise<Agent> {
    return this.request('PATCH', `/agents/${encodeURIComponent(name)}`, { body: { status } });
  }
}
