//! Checks a [`JobSpec`] against the rules of SPEC §2 and the server's limits.
//!
//! Every problem is reported with the path of the offending field (`plan.children[1].name`),
//! so a client can point at it. Validation never stops at the first error, but it does stop
//! collecting after [`MAX_REPORTED_ERRORS`] so a huge broken plan gets a bounded answer.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::decompose::DecomposeSpec;
use super::spec::{ExecutorSpec, JobSpec, NodeSpec, RetrySpec};
use super::{PlanLimits, DEPTHS, HARD_MAX_DEPTH};

/// Errors past this many are dropped from the report.
pub const MAX_REPORTED_ERRORS: usize = 100;
const MAX_REQUEST_CHARS: usize = 10_000;
const MAX_NAME_CHARS: usize = 64;
const MAX_KEY_CHARS: usize = 200;
const MAX_LABEL_VALUE_CHARS: usize = 256;
const MAX_ATTEMPTS_LIMIT: u32 = 100;
const MAX_SLEEP_MS: u64 = 24 * 3600 * 1000;

/// One problem found in a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Where the problem is, as a dotted path with indices (`plan.children[0].run`).
    pub path: String,
    /// What is wrong, in words.
    pub message: String,
}

/// What validation learned about a submission.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct Validation {
    /// Problems that refuse the job.
    pub errors: Vec<FieldError>,
    /// Things worth knowing that do not refuse it.
    pub warnings: Vec<FieldError>,
    /// The size and shape of the tree.
    pub estimate: Estimate,
}

/// The size and shape of a plan.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct Estimate {
    /// Nodes in the tree.
    pub nodes: usize,
    /// Workers (leaves).
    pub leaves: usize,
    /// Deepest depth.
    pub max_depth: u8,
    /// Workers per depth (`"2": 9`).
    pub workers_by_depth: BTreeMap<String, usize>,
}

impl Validation {
    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(FieldError { path: path.into(), message: message.into() });
        }
    }

    fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        if self.warnings.len() < MAX_REPORTED_ERRORS {
            self.warnings.push(FieldError { path: path.into(), message: message.into() });
        }
    }
}

/// Validates a whole submission.
pub fn validate(spec: &JobSpec, limits: &PlanLimits) -> Validation {
    let mut v = Validation::default();
    check_request(spec, &mut v);
    let max_depth = check_config(spec, limits, &mut v);
    if let Some(workspace) = &spec.workspace {
        v.errors.extend(super::workspace::problems(workspace, spec.plan.as_ref()));
    }
    let (budget_errors, budget_warnings) = super::budget::check(spec);
    v.errors.extend(budget_errors);
    v.warnings.extend(budget_warnings);
    match &spec.plan {
        None => v.error("plan", "required: this server has no decomposer configured"),
        Some(root) => {
            if !root.depends_on.is_empty() {
                v.error("plan.depends_on", "the root has no siblings to depend on");
            }
            check_node(root, "plan", 0, max_depth, &mut v);
            let roots = [("plan".to_string(), root)];
            v.errors.extend(super::validate_llm::unknown_providers(&roots, &limits.providers));
            v.errors.extend(super::validate_decompose::problems(&roots, limits));
            v.errors.extend(super::staffing::unmanaged(root, "plan"));
            if v.estimate.nodes > limits.max_nodes {
                v.error(
                    "plan",
                    format!("{} nodes, more than the limit of {} nodes per job", v.estimate.nodes, limits.max_nodes),
                );
            }
        }
    }
    v
}

fn check_request(spec: &JobSpec, v: &mut Validation) {
    let chars = spec.request.chars().count();
    if spec.request.trim().is_empty() {
        v.error("request", "must not be empty");
    } else if chars > MAX_REQUEST_CHARS {
        v.error("request", format!("{chars} characters, more than {MAX_REQUEST_CHARS}"));
    }
    if let Some(key) = &spec.idempotency_key {
        if key.is_empty() || key.len() > MAX_KEY_CHARS {
            v.error("idempotency_key", format!("must be 1–{MAX_KEY_CHARS} characters"));
        }
    }
    for (key, value) in &spec.labels {
        if !is_valid_name(key) {
            v.error(format!("labels.{key}"), "label keys must match [A-Za-z0-9_.-]{1,64}");
        }
        if value.chars().count() > MAX_LABEL_VALUE_CHARS {
            v.error(format!("labels.{key}"), format!("longer than {MAX_LABEL_VALUE_CHARS}"));
        }
    }
}

/// The settings of a job whose plan a model makes.
/// The job's owners are approver entries; who submitted it is the server's to say.
fn check_owners(config: &super::spec::JobConfig, v: &mut Validation) {
    for (i, owner) in config.owners.iter().enumerate() {
        if let Err(why) = super::approval::check_approver(owner) {
            v.error(format!("config.owners[{i}]"), why);
        }
    }
    if config.owners.len() > super::approval::MAX_APPROVERS {
        v.error("config.owners", format!("at most {} owners", super::approval::MAX_APPROVERS));
    }
    if config.submitted_by.is_some() {
        v.error("config.submitted_by", "is set by the server from the submitting key");
    }
    if config.workspace.is_some() {
        v.error("config.workspace", "is set by the server from the job's top-level workspace");
    }
}

fn check_intent(spec: &JobSpec, v: &mut Validation) {
    if spec.config.clarify_timeout_s == Some(0) {
        v.error("config.clarify_timeout_s", "must be at least 1");
    }
    if spec.config.intent.is_some() && spec.plan.as_ref().is_some_and(|root| root.decompose.is_none()) {
        v.warn("config.intent", "applies to a job whose plan a model makes; this job brings its own plan");
    }
}

/// Checks `config` and returns the effective maximum depth.
fn check_config(spec: &JobSpec, limits: &PlanLimits, v: &mut Validation) -> u8 {
    let config = &spec.config;
    let max_depth = config.max_depth.unwrap_or(limits.default_max_depth);
    if max_depth > HARD_MAX_DEPTH {
        v.error("config.max_depth", format!("{max_depth} is beyond the hard cap of {HARD_MAX_DEPTH}"));
    }
    for (depth, cap) in &config.workers_by_depth {
        let path = format!("config.workers_by_depth.{depth}");
        match depth.parse::<usize>() {
            Ok(d) if d < DEPTHS => {
                if *cap == 0 {
                    v.error(path, "must be at least 1");
                } else if *cap > limits.quotas[d] {
                    let quota = limits.quotas[d];
                    v.warn(path, format!("{cap} is above the server quota {quota}; {quota} applies"));
                }
            }
            _ => v.error(path, format!("depth must be 0–{HARD_MAX_DEPTH}")),
        }
    }
    if let Some(retry) = &config.retry {
        check_retry(retry, "config.retry", v);
    }
    if config.timeout_s == Some(0) {
        v.error("config.timeout_s", "must be at least 1");
    }
    check_intent(spec, v);
    check_owners(&spec.config, v);
    max_depth.min(HARD_MAX_DEPTH)
}

fn check_node(node: &NodeSpec, path: &str, depth: u8, max_depth: u8, v: &mut Validation) {
    v.estimate.nodes += 1;
    v.estimate.max_depth = v.estimate.max_depth.max(depth);
    if !is_valid_name(&node.name) {
        v.error(format!("{path}.name"), "must match [A-Za-z0-9_.-]{1,64}");
    }
    if depth > max_depth {
        v.error(path.to_string(), format!("node '{}' is at depth {depth}, beyond max_depth {max_depth}", node.name));
    }
    if let Some(retry) = &node.retry {
        check_retry(retry, &format!("{path}.retry"), v);
    }
    if node.max_parallel == Some(0) {
        v.error(format!("{path}.max_parallel"), "must be at least 1");
    }
    let description = node.description.as_deref().map_or(0, |d| d.chars().count());
    if description > super::validate_llm::MAX_DESCRIPTION_CHARS {
        let limit = super::validate_llm::MAX_DESCRIPTION_CHARS;
        v.error(format!("{path}.description"), format!("{description} characters, more than {limit}"));
    }
    check_staffing(node, path, v);
    let staffed_leaf = node.is_staffed() && node.children.is_none() && node.decompose.is_none();
    if node.validate.is_some() && node.run.is_none() && !staffed_leaf {
        v.error(format!("{path}.validate"), "only a worker's result is validated: this node has no `run`");
    }
    for (field, message) in node.approval.iter().flat_map(super::approval::check) {
        v.error(format!("{path}.approval.{field}"), message);
    }
    match (&node.children, &node.run, &node.decompose) {
        (Some(children), None, None) => check_children(children, path, depth, max_depth, v),
        (None, Some(run), None) => check_worker(node, run, path, depth, v),
        (None, None, Some(decompose)) => check_decomposing(decompose, path, depth, max_depth, v),
        (None, None, None) if staffed_leaf => {
            v.estimate.leaves += 1;
            *v.estimate.workers_by_depth.entry(depth.to_string()).or_default() += 1;
        }
        (None, None, None) => v.error(path.to_string(), "a node needs `children`, `run`, `decompose` or an agent"),
        _ => v.error(path.to_string(), "a node has one of `children`, `run` and `decompose`, not several"),
    }
}

/// A node's `agent` or `delegate`: one of them, on a node without its own `run`.
fn check_staffing(node: &NodeSpec, path: &str, v: &mut Validation) {
    if node.agent.is_some() && node.delegate.is_some() {
        v.error(format!("{path}.delegate"), "a node names an `agent` or asks for one (`delegate`), not both");
    }
    if node.is_staffed() && node.run.is_some() {
        v.error(format!("{path}.run"), "a node done by an agent takes its executor from the agent: remove `run`");
    }
    if node.agent.as_deref().is_some_and(|name| !super::staffing::is_label(name)) {
        v.error(format!("{path}.agent"), "an agent's name is 1–64 of [a-z0-9_.-]");
    }
    for (field, message) in node.delegate.iter().flat_map(super::staffing::check) {
        let at = if field.is_empty() { String::new() } else { format!(".{field}") };
        v.error(format!("{path}.delegate{at}"), message);
    }
}

/// A node whose children a model plans: there must be room below it for them.
fn check_decomposing(decompose: &DecomposeSpec, path: &str, depth: u8, max_depth: u8, v: &mut Validation) {
    if depth >= max_depth {
        let message =
            format!("a node at depth {depth} cannot decompose: max_depth {max_depth} leaves no room for children");
        v.error(format!("{path}.decompose"), message);
    }
    if let Some(agent) = &decompose.agent {
        check_executor(agent, &format!("{path}.decompose.agent"), v);
    }
}

fn check_children(children: &[NodeSpec], path: &str, depth: u8, max_depth: u8, v: &mut Validation) {
    if children.is_empty() {
        v.error(children_path(path), "an orchestrator needs at least one child");
        return;
    }
    let mut seen = HashMap::new();
    for (i, child) in children.iter().enumerate() {
        if seen.insert(child.name.as_str(), i).is_some() {
            v.error(format!("{}[{i}].name", children_path(path)), format!("duplicate sibling name '{}'", child.name));
        }
    }
    for (i, child) in children.iter().enumerate() {
        for (j, dep) in child.depends_on.iter().enumerate() {
            if !seen.contains_key(dep.as_str()) {
                v.error(format!("{}[{i}].depends_on[{j}]", children_path(path)), format!("no sibling named '{dep}'"));
            }
        }
    }
    if let Some(cycle) = find_cycle(children) {
        v.error(children_path(path), format!("dependency cycle: {}", cycle.join(" -> ")));
    }
    for (i, child) in children.iter().enumerate() {
        check_node(child, &format!("{}[{i}]", children_path(path)), depth + 1, max_depth, v);
    }
}

/// Where a node's children are: `plan.children`, or just `children` for a spawn request.
fn children_path(path: &str) -> String {
    if path.is_empty() {
        "children".to_string()
    } else {
        format!("{path}.children")
    }
}

/// Validates children spawned at run time under a node at `parent_depth`; `siblings` are the
/// names the parent's children already have.
pub fn validate_spawn(
    children: &[NodeSpec],
    (parent_depth, max_depth): (u8, u8),
    siblings: &[&str],
    limits: &PlanLimits,
) -> Validation {
    let mut v = Validation::default();
    check_children(children, "", parent_depth, max_depth, &mut v);
    let roots: Vec<(String, &NodeSpec)> =
        children.iter().enumerate().map(|(i, child)| (format!("children[{i}]"), child)).collect();
    v.errors.extend(super::validate_llm::unknown_providers(&roots, &limits.providers));
    v.errors.extend(super::validate_decompose::problems(&roots, limits));
    let (budget_errors, budget_warnings) = super::budget::check_nodes(roots, None);
    v.errors.extend(budget_errors);
    v.warnings.extend(budget_warnings);
    for (i, child) in children.iter().enumerate() {
        if siblings.contains(&child.name.as_str()) {
            v.error(format!("children[{i}].name"), format!("the parent already has a child named '{}'", child.name));
        }
    }
    v
}

fn check_worker(node: &NodeSpec, run: &ExecutorSpec, path: &str, depth: u8, v: &mut Validation) {
    v.estimate.leaves += 1;
    *v.estimate.workers_by_depth.entry(depth.to_string()).or_default() += 1;
    let run_path = format!("{path}.run");
    check_executor(run, &run_path, v);
    if node.aggregate.is_some() || node.on_child_failure.is_some() || node.max_parallel.is_some() {
        v.warn(path.to_string(), "aggregate, on_child_failure and max_parallel apply to orchestrators only");
    }
    if node.resources.is_some() && !matches!(run, ExecutorSpec::Command { .. }) {
        v.warn(format!("{path}.resources"), "process limits apply to `command` workers only");
    }
}

fn check_executor(run: &ExecutorSpec, path: &str, v: &mut Validation) {
    match run {
        ExecutorSpec::Sleep { ms } if *ms > MAX_SLEEP_MS => {
            v.error(format!("{path}.ms"), format!("at most {MAX_SLEEP_MS} ms"));
        }
        ExecutorSpec::Command { argv, timeout_s, .. } => {
            if argv.first().is_none_or(|program| program.is_empty()) {
                v.error(format!("{path}.argv"), "needs at least the program to run");
            }
            if *timeout_s == Some(0) {
                v.error(format!("{path}.timeout_s"), "must be at least 1");
            }
        }
        ExecutorSpec::Http { url, method, timeout_s, .. } => {
            check_http(url, method.as_deref(), path, v);
            if *timeout_s == Some(0) {
                v.error(format!("{path}.timeout_s"), "must be at least 1");
            }
        }
        ExecutorSpec::Llm(run) => {
            for (field, message) in super::validate_llm::check_run(run) {
                v.error(format!("{path}.{field}"), message);
            }
        }
        _ => {}
    }
}

fn check_http(url: &str, method: Option<&str>, path: &str, v: &mut Validation) {
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
        Ok(parsed) => v.error(
            format!("{path}.url"),
            format!("scheme '{}' is not supported: use http:// or https://", parsed.scheme()),
        ),
        Err(err) => v.error(format!("{path}.url"), format!("not a URL: {err}")),
    }
    if let Some(method) = method {
        if reqwest::Method::from_bytes(method.as_bytes()).is_err() {
            v.error(format!("{path}.method"), format!("'{method}' is not an HTTP method"));
        }
    }
}

fn check_retry(retry: &RetrySpec, path: &str, v: &mut Validation) {
    if let Some(attempts) = retry.max_attempts {
        if attempts == 0 || attempts > MAX_ATTEMPTS_LIMIT {
            v.error(format!("{path}.max_attempts"), format!("must be 1–{MAX_ATTEMPTS_LIMIT}"));
        }
    }
    if let Some(multiplier) = retry.multiplier {
        if !multiplier.is_finite() || multiplier < 1.0 {
            v.error(format!("{path}.multiplier"), "must be a finite number ≥ 1.0");
        }
    }
    if let (Some(initial), Some(max)) = (retry.initial_backoff_ms, retry.max_backoff_ms) {
        if initial > max {
            v.error(format!("{path}.initial_backoff_ms"), "must not exceed max_backoff_ms");
        }
    }
}

/// True for names matching `[A-Za-z0-9_.-]{1,64}`.
pub fn is_valid_name(name: &str) -> bool {
    (1..=MAX_NAME_CHARS).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Finds a cycle in the siblings' `depends_on` graph and spells it out (`a -> b -> a`).
fn find_cycle(children: &[NodeSpec]) -> Option<Vec<String>> {
    let index: HashMap<&str, usize> = children.iter().enumerate().map(|(i, c)| (c.name.as_str(), i)).collect();
    let edges: Vec<Vec<usize>> =
        children.iter().map(|c| c.depends_on.iter().filter_map(|d| index.get(d.as_str()).copied()).collect()).collect();
    let mut colour = vec![Colour::White; children.len()];
    let mut stack = Vec::new();
    (0..children.len())
        .find_map(|start| visit(start, &edges, &mut colour, &mut stack))
        .map(|cycle| cycle.into_iter().map(|i| children[i].name.clone()).collect())
}

#[derive(Clone, Copy, PartialEq)]
enum Colour {
    White,
    Grey,
    Black,
}

fn visit(node: usize, edges: &[Vec<usize>], colour: &mut [Colour], stack: &mut Vec<usize>) -> Option<Vec<usize>> {
    match colour[node] {
        Colour::Black => return None,
        Colour::Grey => {
            let from = stack.iter().position(|&n| n == node).unwrap_or(0);
            let mut cycle = stack[from..].to_vec();
            cycle.push(node);
            return Some(cycle);
        }
        Colour::White => {}
    }
    colour[node] = Colour::Grey;
    stack.push(node);
    for &next in &edges[node] {
        if let Some(cycle) = visit(next, edges, colour, stack) {
            return Some(cycle);
        }
    }
    stack.pop();
    colour[node] = Colour::Black;
    None
}
