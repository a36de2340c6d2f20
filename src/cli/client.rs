//! The client commands: they read job files (JSON or YAML), call the REST API and print
//! what came back in plain words. A problem+json answer is shown as its detail and the
//! paths of the offending fields.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use serde_json::{json, Value};

use super::ServerArgs;
use crate::api::views::{JobView, NodeView, SubmitResponse};

pub(super) struct Client {
    http: reqwest::Client,
    base: String,
    key: Option<String>,
    server: ServerArgs,
}

/// `cadre watch`: follows the stream; with `--job`, exits with the job's outcome.
pub(super) async fn watch(server: &ServerArgs, watch: super::watch::Watch) -> Result<ExitCode, String> {
    let watched = super::watch::follow(server, &watch).await?;
    match watched {
        super::watch::Watched::JobEnded(status) if status != "succeeded" => Ok(ExitCode::FAILURE),
        super::watch::Watched::JobEnded(_) => Ok(ExitCode::SUCCESS),
        super::watch::Watched::Closed(why) => Err(format!("the event stream closed: {why}")),
    }
}

impl Client {
    pub(super) fn new(server: ServerArgs) -> Self {
        let base = format!("{}/api/v1", server.url.trim_end_matches('/'));
        Self { http: reqwest::Client::new(), base, key: server.api_key.clone(), server }
    }

    pub(super) async fn submit(&self, file: &Path, watch: bool) -> Result<ExitCode, String> {
        let body = read_job_file(file)?;
        let submitted: SubmitResponse = self.send(reqwest::Method::POST, "/recursion/job", Some(&body)).await?;
        println!("job {} {}", submitted.job_id, submitted.status);
        if !watch {
            return Ok(ExitCode::SUCCESS);
        }
        self.watch(&submitted.job_id.to_string()).await
    }

    /// Follows a job on the event stream (replayed from its start) until it ends.
    async fn watch(&self, job_id: &str) -> Result<ExitCode, String> {
        let query = vec![("job_id".to_string(), job_id.to_string()), ("since".to_string(), "0".to_string())];
        let watched = super::watch::follow(
            &self.server,
            &super::watch::Watch { query, json: false, until_job: Some(job_id.into()) },
        )
        .await?;
        let job: JobView =
            self.send(reqwest::Method::GET, &format!("/recursion/job/{job_id}?results=false"), None).await?;
        println!("{}", progress_line(&job));
        if let Some(error) = &job.error {
            println!("error: {error}");
        }
        match watched {
            super::watch::Watched::JobEnded(status) if status == "succeeded" => Ok(ExitCode::SUCCESS),
            super::watch::Watched::JobEnded(_) => Ok(ExitCode::FAILURE),
            super::watch::Watched::Closed(why) => Err(format!("the event stream closed: {why}")),
        }
    }

    pub(super) async fn status(&self, job_id: &str) -> Result<ExitCode, String> {
        let job: JobView = self.send(reqwest::Method::GET, &format!("/recursion/job/{job_id}"), None).await?;
        println!("job {} {} — {}", job.job_id, job.status, job.request);
        if let Some(error) = &job.error {
            println!("error: {error}");
        }
        if let Some(tree) = &job.tree {
            print_tree(tree, 0);
        }
        Ok(ExitCode::SUCCESS)
    }

    pub(super) async fn cancel(&self, job_id: &str) -> Result<ExitCode, String> {
        let job: Value = self.send(reqwest::Method::DELETE, &format!("/recursion/job/{job_id}"), None).await?;
        println!("job {job_id} {}", job["status"].as_str().unwrap_or("?"));
        Ok(ExitCode::SUCCESS)
    }

    pub(super) async fn validate(&self, file: &Path) -> Result<ExitCode, String> {
        let body = read_job_file(file)?;
        let report: Value = self.send(reqwest::Method::POST, "/recursion/validate", Some(&body)).await?;
        for (label, key) in [("error", "errors"), ("warning", "warnings")] {
            for item in report[key].as_array().into_iter().flatten() {
                println!(
                    "{label}: {}: {}",
                    item["path"].as_str().unwrap_or(""),
                    item["message"].as_str().unwrap_or("")
                );
            }
        }
        let estimate = &report["estimate"];
        println!("{} nodes, {} workers, depth {}", estimate["nodes"], estimate["leaves"], estimate["max_depth"]);
        let valid = report["valid"].as_bool().unwrap_or(false);
        println!("{}", if valid { "valid" } else { "invalid" });
        Ok(if valid { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    }

    pub(super) async fn keys(&self, action: super::KeysAction) -> Result<ExitCode, String> {
        match action {
            super::KeysAction::Create { name, scopes, expires_in_s, rate, burst } => {
                let rate_limit =
                    rate.zip(burst).map(|(per_second, burst)| json!({"per_second": per_second, "burst": burst}));
                let body =
                    json!({"name": name, "scopes": scopes, "expires_in_s": expires_in_s, "rate_limit": rate_limit});
                let created: Value = self.send(reqwest::Method::POST, "/keys", Some(&body)).await?;
                println!("key {} created with scopes {}", created["id"].as_str().unwrap_or("?"), created["scopes"]);
                println!("secret (shown once, store it now): {}", created["key"].as_str().unwrap_or("?"));
            }
            super::KeysAction::List => {
                let list: Value = self.send(reqwest::Method::GET, "/keys", None).await?;
                for key in list["keys"].as_array().into_iter().flatten() {
                    print_key(key);
                }
            }
            super::KeysAction::Revoke { id } => {
                let revoked: Value = self.send(reqwest::Method::DELETE, &format!("/keys/{id}"), None).await?;
                println!("key {} revoked", revoked["id"].as_str().unwrap_or("?"));
            }
        }
        Ok(ExitCode::SUCCESS)
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, String> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| format!("cannot reach the server at {}: {e}", self.base))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(describe_problem(status, &text));
        }
        serde_json::from_str(&text).map_err(|e| format!("unexpected answer from the server: {e}"))
    }
}

/// Reads a job file; `.yaml`/`.yml` as YAML, anything else as JSON.
pub fn read_job_file(file: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let is_yaml = file.extension().and_then(|e| e.to_str()).is_some_and(|e| e == "yaml" || e == "yml");
    if is_yaml {
        serde_norway::from_str(&text).map_err(|e| format!("{}: not valid YAML: {e}", file.display()))
    } else {
        serde_json::from_str(&text).map_err(|e| format!("{}: not valid JSON: {e}", file.display()))
    }
}

fn describe_problem(status: reqwest::StatusCode, body: &str) -> String {
    let Ok(problem) = serde_json::from_str::<Value>(body) else { return format!("{status}: {body}") };
    let mut text = format!("{status}: {}", problem["detail"].as_str().unwrap_or(""));
    for item in problem["errors"].as_array().into_iter().flatten() {
        let path = item["path"].as_str().unwrap_or("");
        text.push_str(&format!("\n  {path}: {}", item["message"].as_str().unwrap_or("")));
    }
    text
}

fn print_key(key: &Value) {
    let state = if key["revoked_at"].is_string() { "revoked" } else { "active" };
    let scopes: Vec<&str> = key["scopes"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    println!(
        "{}  {:<20} {:<16} {:<7} {}…  last used {}",
        key["id"].as_str().unwrap_or("?"),
        key["name"].as_str().unwrap_or("?"),
        scopes.join(","),
        state,
        key["prefix"].as_str().unwrap_or(""),
        key["last_used_at"].as_str().unwrap_or("never"),
    );
}

fn progress_line(job: &JobView) -> String {
    let counts: BTreeMap<&str, usize> = job.counts.by_status.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let parts: Vec<String> = counts.iter().map(|(status, n)| format!("{status} {n}")).collect();
    format!("[{}] {}", job.status, parts.join(" · "))
}

fn print_tree(node: &NodeView, indent: usize) {
    let error = node.error.as_deref().map(|e| format!(" — {e}")).unwrap_or_default();
    println!(
        "{:indent$}{} [{}] {} (attempts {}){error}",
        "",
        node.name,
        node.status,
        node.role,
        node.attempts,
        indent = indent * 2
    );
    for child in &node.children {
        print_tree(child, indent + 1);
    }
}
