// Types of the cadre REST API (/api/v1) as the dashboard reads them (see openapi.json).

/** Statuses a node can be in (`awaiting_approval`: a person approves its start, accepts its result or decides what follows its failure; it holds no slot). */
export type NodeStatus = 'pending' | 'running' | 'retrying' | 'awaiting_approval' | 'succeeded' | 'failed' | 'cancelled';

/** Statuses a job can be in. */
export type JobStatus = 'queued' | 'running' | 'paused' | 'cancelling' | 'succeeded' | 'failed' | 'cancelled';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What model calls spent: tokens (cached ones are part of the input), cost at the configured prices, calls. */
export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  cost: number;
  calls: number;
}

/** Cost (in the providers' currency) and tokens (input and output together) of a budget. */
export interface BudgetFigures {
  /** In `allocated`, null is an unlimited dimension. */
  cost: number | null;
  tokens: number | null;
}

/** What a node does when its envelope cannot cover a call. */
export type OnBudgetExhausted = 'fail' | 'ask_parent' | 'ask_human';

/** A node's budget envelope (the root's is the job's): issue 14. */
export interface BudgetView {
  /** What it was given (top-ups included); null dimensions are unlimited. */
  allocated: BudgetFigures;
  /** What calls in flight have reserved. */
  reserved: BudgetFigures;
  /** What its whole subtree has spent. */
  spent: BudgetFigures;
  /** What it gave back to its parent when its node ended. */
  returned: BudgetFigures;
  /** An `OnBudgetExhausted` (kept a string, so that a value a newer server adds still reads). */
  on_exhausted: string;
  /** Spent over allocated in the most spent dimension (above 1 when a report took it over); null when nothing is limited. */
  used: number | null;
}

/** The data of a `budget_warning` frame: `node_id`'s envelope crossed `percent`, by the spending of `by`. */
export interface BudgetWarningData {
  node_id: string;
  name: string;
  by: string;
  percent: number;
  allocated: BudgetFigures;
  spent: BudgetFigures;
}

/** What an attempt failed of, as the server classifies it (issue 15, docs/PEOPLE.md). */
export type FailureClass = 'timeout' | 'memory' | 'permission' | 'network' | 'launch' | 'budget' | 'validation' | 'process';

/** What follows a failed attempt: level 1 retry, 2 reallocate, 3 escalate, or fail. */
export type RecoveryAction = 'retry' | 'reallocate' | 'escalate' | 'fail';

/** The limits a reallocated attempt runs with (null: no limit of that kind). */
export interface RecoveryResources {
  memory_mb: number | null;
  cpu_seconds: number | null;
  timeout_s: number | null;
}

/** The recovery of a failed attempt (`result.recovery` of a node, `recovery` of a `node_retrying` frame). */
export interface RecoveryView {
  /** A `FailureClass` (kept a string, so that a class a newer server adds still reads). */
  class: string;
  /** A `RecoveryAction` (a string, likewise). */
  action: string;
  /** 1 retry, 2 reallocate, 3 escalate; 0 when nothing follows (the node failed). */
  level: number;
  /** What the next attempt gets, when it is reallocated (null otherwise, or a worker with no limits to raise). */
  resources: RecoveryResources | null;
  /** Why nothing follows, or why the action is not the policy's (an escalation with no one to ask). */
  note: string | null;
}

/** The data of a `node_retrying` frame: attempt `attempt` of `max_attempts` failed, the next starts after `delay_ms`. */
export interface NodeRetryingData {
  node_id: string;
  name: string;
  attempt: number;
  max_attempts: number | null;
  delay_ms: number | null;
  error: string | null;
  /** Null for an attempt cut short by a restart, or a server that does not classify failures. */
  recovery: RecoveryView | null;
}

// ---- approvals: people in the loop (issue 15, docs/PEOPLE.md) -------------------------------

/**
 * When in its node's life a request asks: before it starts, before its result is accepted,
 * — an escalation — after a failure its recovery policy escalates to a person, or — a plan
 * (`config.approve_plan`) — once a model has planned a decomposing node's work, before any
 * of its children runs.
 */
export type ApprovalKind = 'before' | 'after' | 'escalation' | 'plan';

/** Where a request stands (`cancelled`: withdrawn, its node was cancelled first). */
export type ApprovalState = 'pending' | 'approved' | 'rejected' | 'cancelled';

/** What a level does when its time runs out. */
export type OnTimeout = 'approve' | 'reject' | 'escalate';

/** How a `before` or `after` request is decided. */
export type ApprovalVerdict = 'approve' | 'reject';

/**
 * How an escalation is decided: run the node again (as it was, or with other terms), count
 * it as succeeded (`skip`, the input its result), or let the failure stand (`fail`).
 */
export type EscalationVerdict = 'retry' | 'retry_with' | 'skip' | 'fail';

/** Any decision: of an approval, or of an escalation. */
export type Verdict = ApprovalVerdict | EscalationVerdict;

/** What an escalation shows the person who decides it (its request's `context`). */
export interface EscalationContext {
  /** The failed attempt's error. */
  error: string | null;
  /** A `FailureClass` (kept a string, so that a class a newer server adds still reads); null when not given. */
  class: string | null;
  /** Attempts made so far; null when not given. */
  attempts: number | null;
}

/** What a plan approval shows (read it with `planApprovalOf`): the plan, who does what, and the children it placed. */
export interface PlanApprovalContext {
  /** Null when the model's record holds none. */
  plan: Plan | null;
  /** By manager, or one group of agents without a manager. */
  assignments: { manager: string | null; title: string | null; agents: AgentAssignment[] }[];
  /** The names of the children it placed (managers, or agents when flat), in order. */
  children: string[];
}

/**
 * A `retry_with` decision's input: at least one of a command's limits (integers of at least
 * 1), or an `llm` worker's provider (and model).
 */
export interface RetryTerms {
  memory_mb?: number;
  cpu_seconds?: number;
  timeout_s?: number;
  provider?: string;
  model?: string;
}

/** One level of approvers: a node's (its own or an ancestor's), or the job's owners. */
export interface ApprovalLevel {
  /** A node's name, or `job owners`. */
  owner: string;
  /** Key names, `group:NAME`, `scope:NAME`. */
  approvers: string[];
  required: number;
  /** How long it waits; null: until someone decides. */
  timeout_s: number | null;
  /** An `OnTimeout` (a string, so that a value a newer server adds still reads). */
  on_timeout: string;
}

/** One decision: a person's, or a timeout's default (`by` null). */
export interface ApprovalDecision {
  /** Any of the six verdicts (an escalation's too). */
  decision: Verdict;
  by: string | null;
  /** 1 for the first level. */
  level: number;
  at: string;
  comment: string | null;
  /** The client address it came from. */
  source: string | null;
}

/** An approval request (`GET /approvals`, `GET /approvals/{id}`, the answer of a decision). */
export interface ApprovalView {
  id: string;
  job_id: string;
  node_id: string;
  node_name: string;
  kind: ApprovalKind;
  state: ApprovalState;
  prompt: string | null;
  /** The level it waits at (or was decided at), 1 for the first. */
  level: number;
  levels: ApprovalLevel[];
  /** Approvals given at the current level so far. */
  approvals_at_level: number;
  /** When the current level's time runs out (null: no limit, or no longer pending). */
  deadline: string | null;
  /** The name of the key that submitted the job. */
  requested_by: string | null;
  created_at: string;
  decisions: ApprovalDecision[];
  /** A JSON Schema the approver's input must follow. */
  input_schema: JsonValue | null;
  /** The input the node was given (any JSON): an approver's, a `retry_with`'s terms, a `skip`'s result. */
  input: JsonValue | null;
  /**
   * What the approver is shown, an object (`{}` when nothing): for `after`, `{result,
   * attempts}`; for an escalation, `{error, class, attempts}` (read it with `escalationOf`);
   * for a plan, `{plan, assignments, children}` (read it with `planApprovalOf`).
   */
  context: JsonValue | null;
  /** Whether the calling key may decide it now (reject it, or let an escalation's failure stand, at least). */
  may_decide: boolean;
  /**
   * Whether it may also let it go on (approve; retry, retry with other terms or skip an
   * escalation): false for the submitting key on its own job's request without
   * `allow_self`, and for a key that already decided at this level.
   */
  may_approve: boolean;
}

export interface ApprovalList {
  approvals: ApprovalView[];
  next_cursor: string | null;
}

/**
 * `POST /approvals/{id}/decision`: `approve`/`reject` a `before`, `after` or `plan` request,
 * `retry`/`retry_with`/`skip`/`fail` an escalation (another verdict is a 422 at `decision`).
 */
export interface DecisionBody {
  decision: Verdict;
  comment?: string;
  /** Approving: checked against `input_schema`; `retry_with`: its `RetryTerms` (required); `skip`: the node's result. */
  input?: JsonValue;
}

// ---- alerts: rules that watch jobs and the server (issue 15, docs/PEOPLE.md) -------------

/**
 * What fired: too many of a job's finished workers failed, a node ran far longer than its
 * siblings, a depth's quota stayed busy, a budget ran low.
 */
export type AlertRule = 'failure_rate' | 'straggler' | 'quota_busy' | 'budget' | 'silent_worker';

/** An alert (`GET /alerts`), open until resolved — by a person (resuming a held job) or by its condition passing. */
export interface AlertView {
  id: string;
  /** The job it concerns; null for the server's (a busy quota). */
  job_id: string | null;
  /** The node it concerns (a straggler), if any. */
  node_id: string | null;
  /** An `AlertRule` (kept a string, so that a rule a newer server adds still reads). */
  rule: string;
  message: string;
  /**
   * What the rule saw: for `failure_rate` `{finished, failed, rate, threshold, held}` (rate
   * and threshold fractions; `held`: the job's new starts are held until someone resumes it),
   * for `straggler` `{elapsed_ms, median_ms, factor}`, for `quota_busy` `{depth, in_use,
   * quota, percent, for_s}`, for `budget` `{node, percent, …}`.
   */
  data: { [key: string]: JsonValue } | null;
  created_at: string;
  resolved_at: string | null;
  /** The key that resolved it; null while open, or when its condition passed. */
  resolved_by: string | null;
  open: boolean;
}

export interface AlertList {
  alerts: AlertView[];
  next_cursor: string | null;
}

/** One node of a job's tree (`GET /recursion/job/{id}`). */
export interface NodeView {
  id: string;
  name: string;
  title: string;
  role: string;
  depth: number;
  kind: string;
  status: string;
  attempts: number;
  slots?: number;
  started_at?: string | null;
  finished_at?: string | null;
  result?: JsonValue;
  error?: string | null;
  child_count: number;
  children: NodeView[];
  truncated?: boolean;
  /** The node's own model calls (absent from servers without LLM workers). */
  usage?: Usage | null;
  /** The node and all its descendants. */
  subtree_usage?: Usage | null;
  /** Its budget envelope, when it has one (absent from servers without budgets). */
  budget?: BudgetView | null;
  /** Who does its work when the workforce does (a node that names or asks for an agent). */
  delegation?: DelegationView | null;
}

export interface Counts {
  by_status: Record<string, number>;
  by_depth: Record<string, number>;
}

/** A job with its tree. */
export interface JobView {
  job_id: string;
  status: string;
  request: string;
  labels: Record<string, string>;
  created_at: string;
  started_at?: string | null;
  finished_at?: string | null;
  counts: Counts;
  result?: JsonValue;
  error?: string | null;
  tree?: NodeView | null;
  /** Every model call of the job. */
  usage?: Usage | null;
  /** The job's budget (its root's envelope); null when it has none. */
  budget?: BudgetView | null;
  /** The git repository its command workers work in, a branch each (absent or null: none declared). */
  workspace?: WorkspaceView | null;
}

/** A job without its tree (`GET /recursion/jobs`). */
export interface JobSummary {
  job_id: string;
  status: string;
  request: string;
  labels: Record<string, string>;
  node_count: number;
  created_at: string;
  started_at?: string | null;
  finished_at?: string | null;
  duration_ms?: number | null;
  error?: string | null;
}

export interface JobPage {
  jobs: JobSummary[];
  next_cursor?: string | null;
}

/** One node of the D3-ready hierarchy (`GET /recursion/hierarchy`); the top is synthetic. */
export interface HierarchyNode {
  name: string;
  id?: string | null;
  job_id?: string | null;
  depth: number;
  role?: string | null;
  title?: string | null;
  kind?: string | null;
  status?: string | null;
  attempts?: number | null;
  /** Slots held now, and the share of its own envelope spent (null without one). */
  usage?: { slots: number; budget_used?: number | null } | null;
  /** Its budget envelope, when it has one. */
  budget?: BudgetView | null;
  child_counts: Record<string, number>;
  children: HierarchyNode[];
}

export interface DepthStats {
  depth: number;
  role: string;
  quota: number;
  /** What the answering server may hold of the quota: all of it alone, its share in a cluster. */
  share: number;
  in_use: number;
  peak_in_use: number;
  active: number;
  pending: number;
  waiting_for_slot: number;
  started_24h: number;
  succeeded_24h: number;
  failed_24h: number;
  p50_ms: number;
  p95_ms: number;
}

export interface HistoryPoint {
  ts: string;
  depth: number;
  in_use: number;
  quota: number;
  pending: number;
}

export interface Stats {
  by_depth: DepthStats[];
  jobs: { by_status: Record<string, number>; running: number; queued: number };
  history: HistoryPoint[];
  api_latency: { p50_ms: number; p95_ms: number; p99_ms: number; samples: number };
  event_stream_connections: number;
  leaks_reclaimed: number;
}

export interface FieldError {
  path: string;
  message: string;
}

export interface Estimate {
  nodes: number;
  leaves: number;
  max_depth: number;
  workers_by_depth: Record<string, number>;
}

export interface ValidationReport {
  valid: boolean;
  errors: FieldError[];
  warnings: FieldError[];
  estimate: Estimate;
  capacity: { available_by_depth: Record<string, number> };
}

export interface SubmitResponse {
  job_id: string;
  status: string;
  root_node_id?: string | null;
  created_at: string;
}

/** Output tails of a `command` worker. */
export interface NodeLogs {
  node_id: string;
  status: string;
  available: boolean;
  stdout: string;
  stderr: string;
  exit_code: number | null;
}

/** An RFC 7807 problem body. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[] | null;
}

/** A block of a model message: text, a tool call, or a tool's answer. */
export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: JsonValue }
  | { type: 'tool_result'; id: string; content: string; is_error?: boolean };

export interface LlmMessage {
  role: string;
  /** Blocks; a bare string is read as one text block. */
  content: ContentBlock[] | string;
}

/** The request of a model call, as stored (a string when it was cut at the size limit). */
export interface LlmRequest {
  model?: string;
  /** Anthropic's protocol: blocks of text; OpenAI's puts it in a first `system` message. */
  system?: string | { text?: string }[] | null;
  messages?: LlmMessage[];
  tools?: JsonValue;
  output_schema?: JsonValue;
  max_tokens?: number | null;
  temperature?: number | null;
}

/** One model call of a node (`GET …/nodes/{node_id}/llm-calls`). */
export interface LlmCall {
  id: string;
  attempt: number;
  turn: number;
  /** `execute`, `repair`, `report`, … */
  purpose: string;
  provider: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  cost: number;
  latency_ms: number;
  http_status: number | null;
  error: string | null;
  tries: number;
  request: LlmRequest | string | null;
  request_truncated: boolean;
  response: JsonValue;
  response_truncated: boolean;
  /** What the conversation gained before this call, in one form whatever the protocol. */
  input?: LlmMessage[] | null;
  reply: ContentBlock[] | null;
  created_at: string;
}

export interface LlmCalls {
  calls: LlmCall[];
}

// ---- planning and decomposition by a model (issue 13) --------------------------------------

/** One part of a planned project and what it must do. */
export interface PlanComponent {
  type?: string;
  name?: string;
  specific_requirements?: string[];
}

/** The project a decomposing node planned. */
export interface Plan {
  project_name?: string;
  components?: PlanComponent[];
  technical_constraints?: string[];
  success_criteria?: string[];
}

/** One agent (a worker) and the tasks bundled into its work. */
export interface AgentAssignment {
  agent: string;
  title?: string;
  tasks?: string[];
}

/** A manager (an orchestrator) and its agents. */
export interface ManagerAssignment {
  manager: string;
  title?: string;
  agents?: AgentAssignment[];
}

/** What the request was taken for, and how sure the model was. */
export interface Intent {
  intent?: string;
  confidence?: number;
  reason?: string;
  question?: string;
  agent?: string;
}

/** A question the decomposer asked the requester; `answer` absent while it waits. */
export interface Clarification {
  question: string;
  answer?: string | null;
  asked_ms?: number | null;
}

/** The result of a decomposing orchestrator (every key optional). */
export interface DecompositionResult {
  plan?: Plan;
  /** By manager, or flat (agents only) when the depth cap left no room for managers. */
  assignments?: ManagerAssignment[] | AgentAssignment[];
  intent?: Intent;
  clarifications?: Clarification[];
  /** The children's aggregated results, once it ended. */
  delivered?: JsonValue;
}

/** The verdict on a worker's result (`result.validation`). */
export interface ResultValidation {
  passed: boolean;
  issues?: string[];
  suggestions?: string[];
  /** Who judged: a model or a command. */
  by?: 'llm' | 'command' | string;
}

/** `POST /recursion/job/{id}/answer`. */
export interface AnswerBody {
  answer: string;
}

// ---- the standing workforce: the agent registry (issue 16, docs/AGENTS.md) ------------------

/** Where an agent stands: `paused` takes no new work, `retired` none ever again. */
export type AgentStatus = 'active' | 'paused' | 'retired';

/** How an agent runs the work it is given (the rest of the object depends on the type). */
export interface AgentRun {
  /** `llm`, `command` or `http` (kept a string, so that a type a newer server adds still reads). */
  type: string;
  [key: string]: JsonValue | undefined;
}

/** How much an agent runs now, against how much it may at once. */
export interface AgentLoad {
  /** Tasks it holds on the answering server. */
  running: number;
  concurrency: number;
  /** In a cluster, the places of its concurrency the answering replica may fill now; absent on a server on its own. */
  share?: number;
}

/** A registered agent (`GET /agents`). */
export interface Agent {
  name: string;
  title?: string | null;
  role?: string | null;
  department?: string | null;
  /** The agent it reports to; null or absent for a root of the organisation. */
  reports_to?: string | null;
  /** `label` or `label=value` (`lang=rust`, `sql`, `level=3`). */
  capabilities: string[];
  run: AgentRun;
  concurrency: number;
  budget?: { cost?: number | null; tokens?: number | null } | null;
  /** An `AgentStatus` (a string, likewise). */
  status: string;
  created_ms: number;
  updated_ms: number;
  load: AgentLoad;
}

export interface AgentList {
  agents: Agent[];
}

/** What an agent did over a period. */
export interface AgentPerf {
  started: number;
  succeeded: number;
  failed: number;
  running: number;
  /** Succeeded over finished, 0..1; null before any finished. */
  success_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  tokens: number;
  cost: number;
}

/** A node an agent was given. */
export interface AgentTask {
  job_id: string;
  node_id: string;
  node_name: string;
  status: string;
  assigned_ms: number;
  started_ms: number | null;
  finished_ms: number | null;
  reason: string;
}

/** One agent with how it performs (the last 24 h and all time) and its latest tasks (`GET /agents/{name}`). */
export interface AgentDetail extends Agent {
  performance: { day: AgentPerf; all: AgentPerf };
  recent_tasks: AgentTask[];
  /** Whether the caller's key may change the agent (an admin key): Pause and Resume are offered by it. */
  may_manage: boolean;
  /** The agent's own mailbox (`/agents/{name}/messages`): messages not yet acknowledged or dead. */
  mailbox: { open: number };
}

/** One agent in the organisation chart (`GET /agents/org`). */
export interface OrgNode {
  name: string;
  title: string | null;
  role: string | null;
  department: string | null;
  status: string;
  running: number;
  concurrency: number;
  success_rate: number | null;
  /** Tasks it finished (succeeded or failed). */
  finished: number;
  children: OrgNode[];
}

/** The organisation, D3-ready: a synthetic top whose children are the agents reporting to no one. */
export interface OrgTree {
  name: string;
  children: OrgNode[];
}

/** Who a delegated node waits for or was given to (`delegation` of a node in a job view). */
export interface DelegationView {
  /** `waiting`, `assigned` or `timed_out`. */
  state: string;
  agent: string | null;
  reason: string;
  requested_ms: number;
  assigned_ms: number | null;
}

/** Where a message stands (issue 17, docs/MAIL.md): `dead` ones are the job's dead letters. */
export type MessageState = 'pending' | 'delivered' | 'acknowledged' | 'dead';

/** A message to a node of a job (`GET|POST /recursion/job/{id}/messages`). */
export interface MessageView {
  id: string;
  job_id: string;
  /** The recipient node. */
  to: string;
  /** The sending node; null when a key (or cadre itself) sent it. */
  from: string | null;
  /** A key's name, `node:<id>` for a worker, `cadre` for a notice. */
  sender: string;
  thread_id: string | null;
  /** 0–9, 9 the most urgent. */
  priority: number;
  body: JsonValue;
  /** A `MessageState` (a string, so that a state a newer server adds still reads). */
  state: string;
  deliveries: number;
  created_ms: number;
  expires_ms: number | null;
  /** Why it went to the dead letters: `ttl` or `max_deliveries`. */
  dead_reason: string | null;
}

export interface MessageList {
  messages: MessageView[];
}

/** A message to send (`POST /recursion/job/{id}/messages`). */
export interface SendMessageBody {
  to: string;
  thread_id?: string;
  priority?: number;
  body: JsonValue;
  ttl_s?: number;
}

// ---- workspaces: a job's git repository, a branch per node (issue 17) ----------------------

/** How a node's branch goes back: `up` merges it into its parent's once its check passes, `none` keeps it apart. */
export type WorkspaceMerge = 'up' | 'none';

/** A job's workspace (`workspace` of a job view). */
export interface WorkspaceView {
  /** The repository's absolute path on the server. */
  repo: string;
  /** The branch (or ref) the job's branch was made from. */
  base: string;
  /** A `WorkspaceMerge` (kept a string, so that a mode a newer server adds still reads). */
  merge: string;
  /** The command run on a merge before it is kept (argv); null when none. */
  check: string[] | null;
  /** `cadre/<job id hex>/job`: the branch the top nodes merge into. */
  job_branch: string;
}

/** A file a node's branch changed, with git's status letter (`A`, `M`, `D`, `R`, …). */
export interface WorkspaceFile {
  path: string;
  status: string;
}

/** What a node's branch changed (`GET /recursion/job/{id}/nodes/{node_id}/diff`). */
export interface NodeDiff {
  job_id: string;
  node_id: string;
  /** `cadre/<job>/<name>-<8 hex>`. */
  branch: string;
  /** The job's branch, or its parent node's. */
  parent_branch: string;
  /** The commit the branch was made from. */
  base: string;
  /** The commit at the branch's tip. */
  head: string;
  files: WorkspaceFile[];
  /** Unified diff text of `base`..`head`. */
  diff: string;
}

/** The data of a `workspace_created` frame: a command worker's worktree was made for an attempt. */
export interface WorkspaceCreatedData {
  node_id: string;
  name: string;
  branch: string;
  parent_branch: string;
  path: string;
}

/** The data of a `workspace_merged` frame: the node's branch went into `into` at `sha`, its check passed. */
export interface WorkspaceMergedData {
  node_id: string;
  name: string;
  branch: string;
  into: string;
  sha: string;
}

/** Why a merge was not kept. */
export type MergeFailure = 'conflict' | 'check_failed';

/** The data of a `workspace_merge_failed` frame. */
export interface WorkspaceMergeFailedData {
  node_id: string;
  name: string;
  branch: string;
  into: string;
  /** A `MergeFailure` (a string, so that an outcome a newer server adds still reads). */
  outcome: string;
  /** The conflicting files (a conflict). */
  files: string[];
  /** The check's exit code (null: none, or it did not exit). */
  exit_code: number | null;
  output_tail: string;
}

/**
 * How the answering replica sees another: `live` renews its heartbeat, `lapsed` is registered
 * but its heartbeat is older than the lease (probably dead, not yet taken over), `left`
 * stopped of its own accord, `dead` was declared gone by another replica.
 */
export type ReplicaState = 'live' | 'lapsed' | 'left' | 'dead';

/** One server replica (`GET /cluster`). */
export interface ReplicaView {
  id: string;
  /** Where it is reached (`cluster.address`, else its public URL). */
  address: string;
  /** The machine it runs on. */
  host: string;
  pid: number;
  started_at: string;
  /** Its last stored heartbeat. */
  heartbeat_at: string;
  /** When it left or was declared gone. */
  ended_at: string | null;
  /** A `ReplicaState` (a string, so that a state a newer server adds still reads). */
  state: string;
  /** This is the replica that answered. */
  this: boolean;
  /** Unfinished jobs it owns (drives or queues). */
  jobs: number;
  /** Per depth, the slots it may hold at once: its share of the depth's quota. */
  shares: number[];
  /** Per depth, the slots it held or waited for when it last settled its shares. */
  demand: number[];
}

/** The replicas serving the API as the answering one sees them (`GET /cluster`). */
export interface ClusterView {
  /** False for a server on its own: it is the only replica. */
  enabled: boolean;
  /** The replica that answered. */
  replica_id: string;
  /** Seconds between heartbeats. */
  heartbeat_s: number;
  /** A heartbeat older than this lapses a replica. */
  lease_s: number;
  /** Live replicas and those that ended in the last hour, oldest first. */
  replicas: ReplicaView[];
}
