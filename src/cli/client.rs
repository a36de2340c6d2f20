//! The client commands: they read job files (JSON or YAML), call the REST API and print
//! what came back, in plain words or (`--output json`) as the server's JSON, one document a
//! line. Watching a job ends with its summary, and the exit status says whether it
//! succeeded.

use std::path::Path;
use std::process::ExitCode;

use serde_json::{json, Value};

use super::http::Api;
use super::jobfile::JobFile;
use super::out::{Fail, Out, Outcome};
use super::status::StatusJob;
use super::stream::{self, Watch, Watched};
use super::view::Viewer;
use super::{render, Format, JobsArgs, KeysAction, ServerArgs, WatchArgs};

pub(super) struct Client {
    api: Api,
    server: ServerArgs,
    format: Format,
    out: Out,
}

impl Client {
    pub(super) fn new(server: &ServerArgs, format: Format) -> Self {
        Self { api: Api::new(server), server: server.clone(), format, out: Out::new() }
    }

    async fn call(&self, method: reqwest::Method, path: &str, file: Option<&JobFile>) -> Result<Value, String> {
        self.api.send(method, path, file.map(|f| &f.body), file).await
    }

    /// A call with an optional JSON body.
    pub(super) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, String> {
        self.api.send(method, path, body, None).await
    }

    /// An answer as one line of JSON (`-o json`), or the lines `words` makes of it.
    pub(super) fn print_answer(&self, answer: &Value, words: impl FnOnce(&Value) -> Vec<String>) -> Outcome {
        if self.format == Format::Json {
            self.out.json(answer)?;
            return Ok(ExitCode::SUCCESS);
        }
        for line in words(answer) {
            self.out.line(&line)?;
        }
        Ok(ExitCode::SUCCESS)
    }

    pub(super) fn format(&self) -> Format {
        self.format
    }

    pub(super) fn out(&self) -> &Out {
        &self.out
    }

    pub(super) async fn submit(&self, file: &Path, watch: bool) -> Outcome {
        let job = JobFile::read(file)?;
        let submitted = self.call(reqwest::Method::POST, "/recursion/job", Some(&job)).await?;
        let job_id = submitted["job_id"].as_str().unwrap_or_default().to_string();
        match self.format {
            Format::Json => self.out.json(&submitted)?,
            Format::Text => self.out.line(&format!("job {job_id} {}", submitted["status"].as_str().unwrap_or("?")))?,
        }
        if !watch {
            return Ok(ExitCode::SUCCESS);
        }
        // From the job's first event: the stream keeps them, so none is missed between the
        // submission and the subscription.
        let query = vec![("job_id".to_string(), job_id.clone()), ("since".to_string(), "0".to_string())];
        self.follow(&Watch { query, until_job: Some(job_id) }, self.format, true).await
    }

    /// `cadre watch`: with `--job`, until that job ends, with its outcome as the exit status.
    pub(super) async fn watch(&self, args: WatchArgs) -> Outcome {
        let filters = [
            ("job_id", args.job.clone()),
            ("depth", args.depth.map(|d| d.to_string())),
            ("min_depth", args.min_depth.map(|d| d.to_string())),
            ("max_depth", args.max_depth.map(|d| d.to_string())),
            ("types", args.types),
            ("since", args.since.map(|s| s.to_string())),
        ];
        let query = filters.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v))).collect();
        let format = if args.json { Format::Json } else { self.format };
        self.follow(&Watch { query, until_job: args.job }, format, args.since.is_some()).await
    }

    async fn follow(&self, watch: &Watch, format: Format, replaying: bool) -> Outcome {
        let mut viewer = Viewer::new(&self.api, &self.out, format, replaying, watch.until_job.is_none());
        let watched = stream::follow(&self.server, watch, &mut viewer).await;
        viewer.finish();
        match watched? {
            Watched::JobEnded(status) if format == Format::Json => Ok(exit_status(&status)),
            Watched::JobEnded(_) => self.conclude(watch.until_job.as_deref().unwrap_or_default()).await,
            Watched::Closed(why) => Err(Fail::Error(format!("the event stream closed: {why}"))),
        }
    }

    /// The summary of a job that ended and its report, with the exit status its outcome gives.
    async fn conclude(&self, job_id: &str) -> Outcome {
        let (job, spend) = self.api.job(job_id).await?;
        for line in render::summary(&job, spend.as_ref()) {
            self.out.line(&line)?;
        }
        // Then the job's report: what ran, failed and was recovered from, who decided what.
        let report = self.api.text(&format!("/recursion/job/{job_id}/report")).await?;
        self.out.line("")?;
        self.out.line(report.trim_end())?;
        Ok(exit_status(&job.status))
    }

    pub(super) async fn status(&self, job_id: &str) -> Outcome {
        let view = self.call(reqwest::Method::GET, &format!("/recursion/job/{job_id}"), None).await?;
        if self.format == Format::Json {
            self.out.json(&view)?;
            return Ok(ExitCode::SUCCESS);
        }
        for line in StatusJob::parse(&view)?.lines() {
            self.out.line(&line)?;
        }
        Ok(ExitCode::SUCCESS)
    }

    /// `cadre jobs`: a page of jobs, newest first, a line each.
    pub(super) async fn jobs(&self, args: JobsArgs) -> Outcome {
        // Escaped: a label may hold any character.
        let limit = args.limit.to_string();
        let filters = [("limit", Some(&limit)), ("status", args.status.as_ref()), ("label", args.label.as_ref())];
        let pairs: Vec<(&str, &String)> = filters.into_iter().filter_map(|(k, v)| Some((k, v?))).collect();
        let query = serde_urlencoded::to_string(pairs).map_err(|e| e.to_string())?;
        let path = format!("/recursion/jobs?{query}");
        let page = self.call(reqwest::Method::GET, &path, None).await?;
        if self.format == Format::Json {
            self.out.json(&page)?;
            return Ok(ExitCode::SUCCESS);
        }
        for job in page["jobs"].as_array().into_iter().flatten() {
            self.out.line(&render::job_line(job))?;
        }
        Ok(ExitCode::SUCCESS)
    }

    pub(super) async fn cancel(&self, job_id: &str) -> Outcome {
        let job = self.call(reqwest::Method::DELETE, &format!("/recursion/job/{job_id}"), None).await?;
        match self.format {
            Format::Json => self.out.json(&job)?,
            Format::Text => self.out.line(&format!("job {job_id} {}", job["status"].as_str().unwrap_or("?")))?,
        }
        Ok(ExitCode::SUCCESS)
    }

    /// Answers the question a paused job asked.
    pub(super) async fn answer(&self, job_id: &str, answer: &str) -> Outcome {
        let body = serde_json::json!({ "answer": answer });
        let path = format!("/recursion/job/{job_id}/answer");
        let job: Value = self.api.send(reqwest::Method::POST, &path, Some(&body), None).await?;
        match self.format {
            Format::Json => self.out.json(&job)?,
            Format::Text => self.out.line(&format!("job {job_id} {}", job["status"].as_str().unwrap_or("?")))?,
        }
        Ok(ExitCode::SUCCESS)
    }

    /// Prints a job's report in `format` (`markdown`, `json`, `junit`).
    pub(super) async fn report(&self, job_id: &str, format: &str) -> Outcome {
        let text = self.api.text(&format!("/recursion/job/{job_id}/report?format={format}")).await?;
        self.out.line(text.trim_end())?;
        Ok(ExitCode::SUCCESS)
    }

    pub(super) async fn validate(&self, file: &Path) -> Outcome {
        let job = JobFile::read(file)?;
        let report = self.call(reqwest::Method::POST, "/recursion/validate", Some(&job)).await?;
        let valid = report["valid"].as_bool().unwrap_or(false);
        if self.format == Format::Json {
            self.out.json(&report)?;
            return Ok(if valid { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
        for (label, key) in [("error", "errors"), ("warning", "warnings")] {
            for item in report[key].as_array().into_iter().flatten() {
                let (path, message) = (item["path"].as_str().unwrap_or(""), item["message"].as_str().unwrap_or(""));
                self.out.line(&format!("{label}: {}", job.field_error(path, message)))?;
            }
        }
        let estimate = &report["estimate"];
        self.out.line(&format!(
            "{} nodes, {} workers, depth {}",
            estimate["nodes"], estimate["leaves"], estimate["max_depth"]
        ))?;
        self.out.line(if valid { "valid" } else { "invalid" })?;
        Ok(if valid { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    }

    pub(super) async fn plan(&self, file: &Path) -> Outcome {
        let job = JobFile::read(file)?;
        let preview = self.call(reqwest::Method::POST, "/recursion/plan", Some(&job)).await?;
        match self.format {
            Format::Json => self.out.json(&preview)?,
            Format::Text => {
                for line in super::plan::lines(&preview) {
                    self.out.line(&line)?;
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }

    pub(super) async fn keys(&self, action: KeysAction) -> Outcome {
        let (method, path, body) = match &action {
            KeysAction::Create { name, scopes, expires_in_s, rate, burst, groups } => {
                let rate_limit =
                    rate.zip(*burst).map(|(per_second, burst)| json!({"per_second": per_second, "burst": burst}));
                let body = json!({"name": name, "scopes": scopes, "expires_in_s": expires_in_s,
                                  "rate_limit": rate_limit, "groups": groups});
                (reqwest::Method::POST, "/keys".to_string(), Some(body))
            }
            KeysAction::List => (reqwest::Method::GET, "/keys".to_string(), None),
            KeysAction::Revoke { id } => (reqwest::Method::DELETE, format!("/keys/{id}"), None),
        };
        let answer: Value = self.api.send(method, &path, body.as_ref(), None).await?;
        if self.format == Format::Json {
            self.out.json(&answer)?;
        } else {
            self.print_keys(&action, &answer)?;
        }
        Ok(ExitCode::SUCCESS)
    }

    fn print_keys(&self, action: &KeysAction, answer: &Value) -> Result<(), Fail> {
        let id = answer["id"].as_str().unwrap_or("?");
        match action {
            KeysAction::Create { .. } => {
                self.out.line(&format!("key {id} created with scopes {}", answer["scopes"]))?;
                let secret = answer["key"].as_str().unwrap_or("?");
                self.out.line(&format!("secret (shown once, store it now): {secret}"))
            }
            KeysAction::List => {
                answer["keys"].as_array().into_iter().flatten().try_for_each(|key| self.out.line(&key_line(key)))
            }
            KeysAction::Revoke { .. } => self.out.line(&format!("key {id} revoked")),
        }
    }
}

/// 0 only for a job that succeeded.
fn exit_status(job_status: &str) -> ExitCode {
    if job_status == "succeeded" {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn key_line(key: &Value) -> String {
    let state = if key["revoked_at"].is_string() { "revoked" } else { "active" };
    let scopes: Vec<&str> = key["scopes"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    format!(
        "{}  {:<20} {:<16} {:<7} {}…  last used {}",
        key["id"].as_str().unwrap_or("?"),
        key["name"].as_str().unwrap_or("?"),
        scopes.join(","),
        state,
        key["prefix"].as_str().unwrap_or(""),
        key["last_used_at"].as_str().unwrap_or("never"),
    )
}
