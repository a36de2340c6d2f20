//! A job's workspace as the client declares it (`workspace: {repo, base, merge, check}`
//! beside its `plan`), and the checks that need only its shape. Whether the repository and
//! the base branch exist is asked of git at submission, by the engine.

use std::path::{Component, Path};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::spec::{ExecutorSpec, NodeSpec};
use super::validate::FieldError;

/// Longest argv a check may have, and longest argument.
const MAX_CHECK_ARGS: usize = 64;
const MAX_TEXT: usize = 4096;

/// Each command worker runs in a git worktree of its own, on a branch of its own made from
/// its parent's branch; with `merge: up` each succeeded node's branch is merged into its
/// parent's, level by level, up to the job branch `cadre/<job>/job` (never `base` itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"repo": "/srv/repos/site", "base": "main", "merge": "up", "check": ["make", "test"]}))]
pub struct WorkspaceSpec {
    /// The repository: an absolute path to a git working tree on the server's machine.
    #[schema(min_length = 1, max_length = 4096)]
    pub repo: String,
    /// The branch the job branch is made from (it is never moved by cadre).
    #[schema(min_length = 1, max_length = 255)]
    pub base: String,
    /// `up` (default): merge each succeeded node into its parent's branch; `none`: leave
    /// every node's work on its own branch.
    #[serde(default)]
    pub merge: MergeMode,
    /// Run (argv, no shell) in the merged tree before each merge; a non-zero exit refuses
    /// the merge and fails the node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_items = 1, max_items = 64)]
    pub check: Option<Vec<String>>,
}

/// Whether succeeded nodes' branches are merged up the tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MergeMode {
    #[default]
    Up,
    None,
}

impl WorkspaceSpec {
    /// Merges go up the tree.
    pub fn merges_up(&self) -> bool {
        self.merge == MergeMode::Up
    }
}

/// What is wrong with a declared workspace (its shape only), with each field's path.
pub fn problems(spec: &WorkspaceSpec, plan: Option<&NodeSpec>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut error =
        |field: &str, message: String| errors.push(FieldError { path: format!("workspace.{field}"), message });
    if !Path::new(&spec.repo).is_absolute() || spec.repo.len() > MAX_TEXT {
        error("repo", "must be an absolute path to a git repository on the server".into());
    }
    if let Some(why) = branch_problem(&spec.base) {
        error("base", why);
    }
    if let Some(check) = &spec.check {
        if check.is_empty() || check[0].trim().is_empty() {
            error("check", "must name a program (an argv, no shell)".into());
        } else if check.len() > MAX_CHECK_ARGS || check.iter().any(|a| a.len() > MAX_TEXT) {
            error("check", format!("at most {MAX_CHECK_ARGS} arguments of {MAX_TEXT} bytes"));
        }
    }
    if let Some(root) = plan {
        errors.extend(cwd_problems(root, "plan"));
    }
    errors
}

/// Why `name` cannot be the base branch, if it cannot: a few of git's ref rules (git itself
/// is asked whether it exists), and none of cadre's own branches.
fn branch_problem(name: &str) -> Option<String> {
    let bad = name.is_empty()
        || name.len() > 255
        || name.starts_with(['-', '/'])
        || name.ends_with(['/', '.'])
        || name.ends_with(".lock")
        || name.contains("..")
        || name.contains("@{")
        || name.chars().any(|c| c.is_control() || " ~^:?*[\\".contains(c));
    if bad {
        return Some("is not a valid branch name".into());
    }
    name.starts_with("cadre/").then(|| "branches under cadre/ are cadre's own; name the branch to start from".into())
}

/// With a workspace, a command worker runs in its worktree: its `cwd`, if any, is a path
/// inside it (relative, never climbing out).
fn cwd_problems(root: &NodeSpec, path: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut stack = vec![(path.to_string(), root)];
    while let Some((path, node)) = stack.pop() {
        if let Some(ExecutorSpec::Command { cwd: Some(cwd), .. }) = &node.run {
            if !stays_inside(cwd) {
                errors.push(FieldError {
                    path: format!("{path}.run.cwd"),
                    message:
                        "in a job with a workspace a worker runs in its worktree: cwd must be a relative path inside it"
                            .into(),
                });
            }
        }
        let children = node.children.iter().flatten().enumerate();
        stack.extend(children.map(|(i, child)| (format!("{path}.children[{i}]"), child)));
    }
    errors
}

/// Whether `cwd` is relative and does not climb out of the directory it is joined to.
pub fn stays_inside(cwd: &str) -> bool {
    Path::new(cwd).components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(repo: &str, base: &str) -> WorkspaceSpec {
        WorkspaceSpec { repo: repo.into(), base: base.into(), merge: MergeMode::Up, check: None }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.path.as_str()).collect()
    }

    #[test]
    fn repo_must_be_absolute_and_base_a_branch_of_the_users() {
        assert!(problems(&spec("/srv/repo", "main"), None).is_empty());
        assert!(problems(&spec("/srv/repo", "feature/x-1"), None).is_empty());
        assert_eq!(fields(&problems(&spec("repo", "main"), None)), ["workspace.repo"]);
        for base in ["", "a..b", "x.lock", "-x", "a b", "a~1", "cadre/abc/job", "x/"] {
            assert_eq!(fields(&problems(&spec("/r", base), None)), ["workspace.base"], "{base}");
        }
    }

    #[test]
    fn a_check_names_a_program() {
        let mut s = spec("/r", "main");
        s.check = Some(vec![]);
        assert_eq!(fields(&problems(&s, None)), ["workspace.check"]);
        s.check = Some(vec!["make".into(), "test".into()]);
        assert!(problems(&s, None).is_empty());
    }

    #[test]
    fn a_workers_cwd_stays_inside_its_worktree() {
        assert!(stays_inside("src") && stays_inside("./a/b"));
        assert!(!stays_inside("/tmp") && !stays_inside("../x") && !stays_inside("a/../../b"));
        let plan: NodeSpec = serde_json::from_value(serde_json::json!({"name": "t", "children": [
            {"name": "a", "run": {"type": "command", "argv": ["true"], "cwd": "sub"}},
            {"name": "b", "run": {"type": "command", "argv": ["true"], "cwd": "/etc"}}
        ]}))
        .unwrap();
        assert_eq!(fields(&problems(&spec("/r", "main"), Some(&plan))), ["plan.children[1].run.cwd"]);
    }
}
