//! Requests to the REST API, and how its refusals read to a person: a problem+json answer
//! becomes its detail and the offending fields (at their line and column when they came
//! from a job file), and a 401 says which variable or flag supplies a key.

use serde::Deserialize;
use serde_json::Value;

use super::jobfile::JobFile;
use super::spend::Spend;
use super::ServerArgs;
use crate::api::views::JobView;

/// The REST API of one server, with the caller's key.
pub(super) struct Api {
    http: reqwest::Client,
    /// `…/api/v1`.
    base: String,
    key: Option<String>,
}

impl Api {
    pub(super) fn new(server: &ServerArgs) -> Self {
        let base = format!("{}/api/v1", server.url.trim_end_matches('/'));
        Self { http: reqwest::Client::new(), base, key: server.api_key.clone() }
    }

    /// Sends a request; `file` is the job file the body came from, if any, so that field
    /// errors point into it.
    pub(super) async fn send<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        file: Option<&JobFile>,
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
            return Err(describe_problem(status, &text, self.key.is_some(), file));
        }
        serde_json::from_str(&text).map_err(|e| format!("unexpected answer from the server: {e}"))
    }

    /// A text answer (the Markdown report).
    pub(super) async fn text(&self, path: &str) -> Result<String, String> {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(|e| format!("cannot reach the server at {}: {e}", self.base))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(describe_problem(status, &text, self.key.is_some(), None));
        }
        Ok(text)
    }

    /// A job with its tree, without results (names, depths and statuses are all a watcher
    /// needs, and results can be large), and what its model calls spent (None from a server
    /// that does not say, or for a job that made none).
    pub(super) async fn job(&self, job_id: &str) -> Result<(JobView, Option<Spend>), String> {
        let value: Value =
            self.send(reqwest::Method::GET, &format!("/recursion/job/{job_id}?results=false"), None, None).await?;
        let view = JobView::deserialize(&value).map_err(|e| format!("unexpected answer from the server: {e}"))?;
        Ok((view, Spend::from_value(&value["usage"])))
    }
}

/// How a refused request reads.
pub(super) fn describe_problem(
    status: reqwest::StatusCode,
    body: &str,
    key_given: bool,
    file: Option<&JobFile>,
) -> String {
    let problem: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let detail = problem["detail"].as_str().map_or_else(|| body.trim().to_string(), str::to_string);
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return unauthorized(&detail, key_given);
    }
    let mut text = format!("{status}: {detail}");
    for item in problem["errors"].as_array().into_iter().flatten() {
        let (path, message) = (item["path"].as_str().unwrap_or(""), item["message"].as_str().unwrap_or(""));
        let line = match file {
            Some(file) => file.field_error(path, message),
            None => format!("{path}: {message}"),
        };
        text.push_str(&format!("\n  {line}"));
    }
    text
}

/// A 401, saying whether a key was sent at all and where one comes from.
pub(super) fn unauthorized(detail: &str, key_given: bool) -> String {
    let detail = if detail.is_empty() { String::new() } else { format!(": {detail}") };
    if key_given {
        format!("the server refused the API key (401{detail}); set CADRE_API_KEY or pass --api-key with a valid key")
    } else {
        format!("the server needs an API key (401{detail}); set CADRE_API_KEY or pass --api-key")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_401_names_the_variable_and_the_flag_and_says_whether_a_key_was_sent() {
        let body = r#"{"status": 401, "detail": "a valid API key is required"}"#;
        let refused = describe_problem(reqwest::StatusCode::UNAUTHORIZED, body, true, None);
        assert_eq!(
            refused,
            "the server refused the API key (401: a valid API key is required); \
             set CADRE_API_KEY or pass --api-key with a valid key"
        );
        let missing = describe_problem(reqwest::StatusCode::UNAUTHORIZED, "", false, None);
        assert_eq!(missing, "the server needs an API key (401); set CADRE_API_KEY or pass --api-key");
    }

    #[test]
    fn field_errors_are_listed_under_the_detail() {
        let body = r#"{"detail": "the request is invalid", "errors": [{"path": "plan.name", "message": "bad"}]}"#;
        let text = describe_problem(reqwest::StatusCode::UNPROCESSABLE_ENTITY, body, true, None);
        assert_eq!(text, "422 Unprocessable Entity: the request is invalid\n  plan.name: bad");
    }
}
