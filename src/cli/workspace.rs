//! `cadre workspace diff|remove`: a job's git workspace (issue 17) from a terminal, over
//! `GET /api/v1/recursion/job/{id}/nodes/{node_id}/diff` and `DELETE …/workspace`. `diff`
//! shows what one node changed on its own branch (the branches, the files, the unified diff);
//! `remove` deletes what an ended job kept (its worktrees and every branch it made). A node is
//! named by its id or by its name, looked up in the job's tree, which must hold exactly one node
//! of that name, as `cadre messages` does. `-o json` prints the server's answer as it came; the
//! words are `workspace_render.rs`'s.

use clap::Subcommand;
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use super::client::Client;
use super::http::describe_problem;
use super::messages::{id, node_named};
use super::out::Outcome;
use super::workspace_render as render;
use super::ServerArgs;

/// What to do with a job's workspace.
#[derive(Debug, Subcommand)]
pub enum WorkspaceAction {
    /// What a node changed on its own branch since it was made from its parent's: the
    /// branches, the changed files and the diff.
    Diff {
        job_id: String,
        /// A node id, or the name of one node of the job.
        node: String,
    },
    /// Remove an ended job's worktrees and every branch it made, the job branch included
    /// (merge or copy the job branch first to keep its work).
    Remove { job_id: String },
}

/// Runs a `workspace` command.
pub(super) async fn run(client: &Client, server: &ServerArgs, action: WorkspaceAction) -> Outcome {
    match action {
        WorkspaceAction::Diff { job_id, node } => diff(client, &job_id, &node).await,
        WorkspaceAction::Remove { job_id } => remove(client, server, &job_id).await,
    }
}

async fn diff(client: &Client, job_id: &str, node: &str) -> Outcome {
    let job_id = id(job_id, "job")?;
    let node_id = node_id(client, &job_id, node).await?;
    let path = format!("/recursion/job/{job_id}/nodes/{node_id}/diff");
    let answer = client.send(Method::GET, &path, None).await?;
    client.print_answer(&answer, render::diff_lines)
}

/// A 204 has no body for the client's JSON requests to read, so the request is made here
/// (as `cadre agents delete` does), and its refusal reads the same as theirs.
async fn remove(client: &Client, server: &ServerArgs, job_id: &str) -> Outcome {
    let job_id = id(job_id, "job")?;
    let base = format!("{}/api/v1", server.url.trim_end_matches('/'));
    let mut request = reqwest::Client::new().delete(format!("{base}/recursion/job/{job_id}/workspace"));
    if let Some(key) = &server.api_key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.map_err(|e| format!("cannot reach the server at {base}: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        return Err(describe_problem(status, &body, server.api_key.is_some(), None).into());
    }
    let removed = json!({"job_id": job_id, "removed": true});
    client
        .print_answer(&removed, |_| vec![format!("removed the workspace of job {job_id}: its worktrees and branches")])
}

/// A node's id: the one given, or that of the job's one node of that name.
async fn node_id(client: &Client, job_id: &str, node: &str) -> Result<String, String> {
    if Uuid::parse_str(node).is_ok() {
        return Ok(node.to_string());
    }
    // Without results: names and ids are all the lookup needs, and results can be large.
    let job = client.send(Method::GET, &format!("/recursion/job/{job_id}?results=false"), None).await?;
    node_named(&job["tree"], job_id, node)
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::Value;

    use super::*;
    use crate::cli::{Cli, Command};

    fn action(args: &[&str]) -> Result<WorkspaceAction, clap::Error> {
        match Cli::try_parse_from([&["cadre", "workspace"], args].concat())?.command {
            Command::Workspace { action } => Ok(action),
            other => panic!("not a workspace command: {other:?}"),
        }
    }

    #[test]
    fn diff_takes_a_job_and_a_node_and_remove_a_job() {
        let diff = action(&["diff", "J", "alice"]).expect("parses");
        assert!(matches!(diff, WorkspaceAction::Diff { ref job_id, ref node } if job_id == "J" && node == "alice"));
        assert!(action(&["diff", "J"]).is_err(), "a node is needed");
        assert!(matches!(action(&["remove", "J"]).expect("parses"), WorkspaceAction::Remove { .. }));
        assert!(action(&["remove", "J", "extra"]).is_err());
    }

    #[test]
    fn a_node_name_is_resolved_when_one_node_has_it() {
        let tree = json!({"id": "r", "name": "lead", "children": [
            {"id": "a", "name": "docs", "children": [{"id": "b", "name": "intro", "children": []}]},
            {"id": "c", "name": "intro", "children": []},
            {"id": "d", "name": "status", "children": []}]});
        assert_eq!(node_named(&tree, "J", "status").unwrap(), "d");
        assert_eq!(node_named(&tree, "J", "lead").unwrap(), "r");
        let many = node_named(&tree, "J", "intro").unwrap_err();
        assert_eq!(many, "2 nodes of job J are named 'intro'; give one's id: c, b");
        let none = node_named(&tree, "J", "nobody").unwrap_err();
        assert!(none.starts_with("job J has no node named 'nobody'"), "{none}");
        assert!(node_named(&Value::Null, "J", "x").is_err());
    }

    #[test]
    fn ids_are_checked_before_they_make_a_path() {
        assert!(id("01a23612-ff08-77a2-a677-312814e96909", "job").is_ok());
        assert_eq!(id("../keys", "job").unwrap_err(), "'../keys' is not a job id (a UUID)");
    }
}
