//! `cadre approvals list|show|approve|reject`: the inbox from a terminal. `list` shows what
//! the key may decide now (`--all` for every request), one line each: its id, the node and
//! job, what it asks, the level and its approvers; `approve`/`reject` decide one, with a
//! comment and (approving) an input the node receives. And `cadre alerts` / `cadre resume`:
//! what the alert rules raised, and letting a held job go on.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::{json, Value};

use super::client::Client;
use super::out::Outcome;
use super::Format;

/// What to do with approval requests.
#[derive(Debug, Subcommand)]
pub enum ApprovalsAction {
    /// Requests waiting for a decision this key may make (`--all`: every request).
    List {
        /// Every request, decided ones too, whoever may decide them.
        #[arg(long)]
        all: bool,
        /// Only this job's.
        #[arg(long)]
        job: Option<String>,
    },
    /// One request, with its levels and decisions.
    Show { id: String },
    /// Approve a request.
    Approve {
        id: String,
        /// Why (kept with the decision).
        #[arg(long)]
        comment: Option<String>,
        /// A JSON value the node receives (checked against the request's input_schema).
        #[arg(long)]
        input: Option<String>,
    },
    /// Reject a request: its node fails.
    Reject {
        id: String,
        #[arg(long)]
        comment: Option<String>,
    },
}

impl Client {
    pub(super) async fn approvals(&self, action: ApprovalsAction) -> Outcome {
        let answer = match action {
            ApprovalsAction::List { all, job } => {
                let mut query = vec![("limit", "500".to_string())];
                query.push(if all { ("mine", "false".to_string()) } else { ("state", "pending".to_string()) });
                query.extend(job.map(|job| ("job_id", job)));
                let query = serde_urlencoded::to_string(query).map_err(|e| e.to_string())?;
                self.send(reqwest::Method::GET, &format!("/approvals?{query}"), None).await?
            }
            ApprovalsAction::Show { id } => self.send(reqwest::Method::GET, &format!("/approvals/{id}"), None).await?,
            ApprovalsAction::Approve { id, comment, input } => {
                let input = match input.as_deref().map(serde_json::from_str::<Value>) {
                    Some(Err(err)) => return Err(format!("--input is not JSON: {err}").into()),
                    Some(Ok(value)) => Some(value),
                    None => None,
                };
                let body = json!({"decision": "approve", "comment": comment, "input": input});
                self.send(reqwest::Method::POST, &format!("/approvals/{id}/decision"), Some(&body)).await?
            }
            ApprovalsAction::Reject { id, comment } => {
                let body = json!({"decision": "reject", "comment": comment});
                self.send(reqwest::Method::POST, &format!("/approvals/{id}/decision"), Some(&body)).await?
            }
        };
        if self.format() == Format::Json {
            self.out().json(&answer)?;
            return Ok(ExitCode::SUCCESS);
        }
        let requests = answer["approvals"].as_array().cloned().unwrap_or_else(|| vec![answer.clone()]);
        if requests.is_empty() {
            self.out().line("no approval requests")?;
        }
        for request in &requests {
            self.out().line(&line(request))?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

impl Client {
    pub(super) async fn alerts(&self, all: bool, job: Option<String>) -> Outcome {
        let mut query = vec![("limit", "500".to_string())];
        if !all {
            query.push(("open", "true".to_string()));
        }
        query.extend(job.map(|job| ("job_id", job)));
        let query = serde_urlencoded::to_string(query).map_err(|e| e.to_string())?;
        let page = self.send(reqwest::Method::GET, &format!("/alerts?{query}"), None).await?;
        if self.format() == Format::Json {
            self.out().json(&page)?;
            return Ok(ExitCode::SUCCESS);
        }
        let alerts = page["alerts"].as_array().cloned().unwrap_or_default();
        if alerts.is_empty() {
            self.out().line("no alerts")?;
        }
        for alert in &alerts {
            let text = |field: &str| alert[field].as_str().unwrap_or("-").to_string();
            let state = match alert["resolved_by"].as_str() {
                _ if alert["open"] == true => "open".to_string(),
                Some(by) => format!("resolved by {by}"),
                None => "resolved".to_string(),
            };
            self.out().line(&format!(
                "{} [{state}] {} (job {}): {}",
                text("id"),
                text("rule"),
                text("job_id"),
                text("message")
            ))?;
        }
        Ok(ExitCode::SUCCESS)
    }

    pub(super) async fn resume(&self, job_id: &str) -> Outcome {
        let job = self.send(reqwest::Method::POST, &format!("/recursion/job/{job_id}/resume"), None).await?;
        match self.format() {
            Format::Json => self.out().json(&job)?,
            Format::Text => self.out().line(&format!("job {job_id} {}", job["status"].as_str().unwrap_or("?")))?,
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// One request on a line: `ID [state] before 'deploy' (job J): "prompt" — level 1 (release): group:release, 1 of 2`.
pub(super) fn line(request: &Value) -> String {
    let text = |field: &str| request[field].as_str().unwrap_or("?").to_string();
    let level = request["level"].as_u64().unwrap_or(1);
    let current = &request["levels"][level.saturating_sub(1) as usize];
    let approvers: Vec<&str> =
        current["approvers"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let prompt = request["prompt"].as_str().map(|p| format!(": \"{p}\"")).unwrap_or_default();
    let by: Vec<String> = request["decisions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| format!("{} by {}", d["decision"].as_str().unwrap_or("?"), d["by"].as_str().unwrap_or("its timeout")))
        .collect();
    let decided = if by.is_empty() { String::new() } else { format!("; {}", by.join(", ")) };
    format!(
        "{} [{}] {} '{}' (job {}){prompt} — level {level} ({}): {}, {} of {}{decided}",
        text("id"),
        text("state"),
        text("kind"),
        text("node_name"),
        text("job_id"),
        current["owner"].as_str().unwrap_or("?"),
        approvers.join(", "),
        request["approvals_at_level"].as_u64().unwrap_or(0),
        current["required"].as_u64().unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_reads_on_one_line() {
        let request = json!({"id": "a1", "state": "pending", "kind": "before", "node_name": "deploy", "job_id": "j1",
            "prompt": "Ship it?", "level": 1, "approvals_at_level": 1,
            "levels": [{"owner": "release", "approvers": ["group:release"], "required": 2}],
            "decisions": [{"decision": "approve", "by": "alice"}]});
        assert_eq!(
            line(&request),
            "a1 [pending] before 'deploy' (job j1): \"Ship it?\" — level 1 (release): group:release, 1 of 2; approve by alice"
        );
    }
}
