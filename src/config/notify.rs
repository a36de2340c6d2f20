//! `[[notify.webhooks]]`: where cadre posts the events people act on (approvals, alerts), and
//! how each delivery is signed, timed and retried. The file names the environment variable
//! that holds a webhook's signing secret, never the secret: it is read once, at start, by
//! [`WebhookConfig::read_secret`] (here, because this module is the one that reads the
//! environment), so a server never runs a webhook it cannot sign for.
//!
//! Everything else is checked when the configuration loads ([`NotifyConfig::problem`]), and
//! no message here repeats a URL: one may carry a token (Slack's do, in the path).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::events::EventKind;

/// The kinds a webhook gets when it names none: what a person is waiting to hear about.
pub const DEFAULT_WEBHOOK_EVENTS: [&str; 4] = ["approval_requested", "approval_escalated", "approval_decided", "alert"];
/// Kinds accepted besides [`EventKind::ALL`]: `alert` is being added to the engine, and a
/// webhook configured for it now must keep loading once it is.
const PENDING_KINDS: [&str; 1] = ["alert"];

/// Notifications sent out of cadre.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Signed webhooks (`[[notify.webhooks]]`), each with a delivery task of its own.
    pub webhooks: Vec<WebhookConfig>,
}

/// One webhook.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Unique, `[A-Za-z0-9_.-]`: the key of its stored cursor and its metrics' label.
    pub name: String,
    /// Where events are posted (`http://` or `https://`).
    pub url: String,
    /// The event kinds delivered.
    #[serde(default = "default_events")]
    pub events: Vec<String>,
    /// The name of the environment variable holding the signing secret.
    pub secret_env: String,
    /// Limit of one attempt (connect, send, answer), in seconds.
    #[serde(default = "default_timeout_s")]
    pub timeout_s: u64,
    /// Attempts at one event, the first included, before it is given up.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// The first back-off between attempts, doubled each time (at most 60 s).
    #[serde(default = "default_retry_initial_ms")]
    pub retry_initial_ms: u64,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a token; the secret is not here at all.
        f.debug_struct("WebhookConfig")
            .field("name", &self.name)
            .field("url", &redacted_url(&self.url))
            .field("events", &self.events)
            .field("secret_env", &self.secret_env)
            .field("timeout_s", &self.timeout_s)
            .field("max_attempts", &self.max_attempts)
            .field("retry_initial_ms", &self.retry_initial_ms)
            .finish()
    }
}

fn default_events() -> Vec<String> {
    DEFAULT_WEBHOOK_EVENTS.iter().map(|k| k.to_string()).collect()
}

fn default_timeout_s() -> u64 {
    10
}

fn default_max_attempts() -> u32 {
    8
}

fn default_retry_initial_ms() -> u64 {
    1000
}

impl NotifyConfig {
    /// The first thing wrong with the webhooks as written, if any.
    pub fn problem(&self) -> Option<String> {
        let mut names = HashSet::new();
        self.webhooks.iter().enumerate().find_map(|(i, hook)| {
            if !names.insert(hook.name.as_str()) {
                return Some(format!("notify.webhooks[{i}]: the name {:?} is used twice", hook.name));
            }
            hook.problem().map(|problem| format!("notify.webhooks[{i}] ({:?}): {problem}", hook.name))
        })
    }
}

impl WebhookConfig {
    /// The signing secret, from the variable `secret_env` names; an error naming the variable
    /// (never its value) when it is unset or empty.
    pub fn read_secret(&self) -> Result<String, ConfigError> {
        match std::env::var(&self.secret_env) {
            Ok(secret) if !secret.is_empty() => Ok(secret),
            _ => Err(ConfigError::Invalid(format!(
                "webhook {:?}: the environment variable {} (its secret_env) is not set or is empty",
                self.name, self.secret_env
            ))),
        }
    }

    /// Whether events of this kind are delivered.
    pub fn wants(&self, kind: &str) -> bool {
        self.events.iter().any(|k| k == kind)
    }

    fn problem(&self) -> Option<String> {
        let checks: [fn(&Self) -> Option<String>; 4] =
            [Self::name_problem, Self::url_problem, Self::events_problem, Self::limits_problem];
        checks.iter().find_map(|check| check(self))
    }

    fn name_problem(&self) -> Option<String> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
        (self.name.is_empty() || !self.name.chars().all(allowed))
            .then(|| "name must be non-empty and made of A-Z, a-z, 0-9, `_`, `.` and `-`".into())
    }

    fn url_problem(&self) -> Option<String> {
        let usable = reqwest::Url::parse(&self.url)
            .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty()));
        (!usable).then(|| "url must be an absolute http:// or https:// URL".into())
    }

    fn events_problem(&self) -> Option<String> {
        if self.events.is_empty() {
            return Some("events must name at least one event kind".into());
        }
        let unknown = self.events.iter().find(|kind| !is_known_kind(kind))?;
        let mut known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).chain(PENDING_KINDS).collect();
        known.sort_unstable();
        known.dedup();
        Some(format!("events: {unknown:?} is not an event kind (known: {})", known.join(", ")))
    }

    fn limits_problem(&self) -> Option<String> {
        if self.secret_env.is_empty() {
            return Some("secret_env must name the environment variable that holds the signing secret".into());
        }
        (self.timeout_s == 0 || self.max_attempts == 0).then(|| "timeout_s and max_attempts must be at least 1".into())
    }
}

fn is_known_kind(kind: &str) -> bool {
    EventKind::ALL.iter().any(|k| k.as_str() == kind) || PENDING_KINDS.contains(&kind)
}

/// A URL as it may be shown: scheme, host and port, and the first path segment; the
/// user-info, the rest of the path and the query, where tokens live (`https://user:pw@…`,
/// Slack's `/services/T…/B…/secret`, `?token=…`), become `redacted` or `…`.
pub fn redacted_url(url: &str) -> String {
    let Ok(parsed) = reqwest::Url::parse(url) else { return "(not a URL)".into() };
    let userinfo = if parsed.username().is_empty() && parsed.password().is_none() { "" } else { "redacted@" };
    let host = parsed.host_str().unwrap_or_default();
    let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    let mut segments = parsed.path_segments().into_iter().flatten().filter(|s| !s.is_empty());
    let first = segments.next().map(|s| format!("/{s}")).unwrap_or_default();
    let rest = if segments.next().is_some() { "/…" } else { "" };
    let query = if parsed.query().is_some() { "?redacted" } else { "" };
    format!("{}://{userinfo}{host}{port}{first}{rest}{query}", parsed.scheme())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webhooks(text: &str) -> Result<NotifyConfig, String> {
        let config: NotifyConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        config.problem().map_or(Ok(config), Err)
    }

    const ONE: &str = r#"
        [[webhooks]]
        name = "release-chat"
        url = "https://hooks.example.com/services/T0/B0/abc"
        secret_env = "RELEASE_HOOK_SECRET"
    "#;

    #[test]
    fn a_webhook_reads_with_its_defaults() {
        let config = webhooks(ONE).expect("valid");
        let hook = &config.webhooks[0];
        assert_eq!(hook.events, DEFAULT_WEBHOOK_EVENTS.map(String::from));
        assert_eq!((hook.timeout_s, hook.max_attempts, hook.retry_initial_ms), (10, 8, 1000));
        assert!(hook.wants("approval_decided") && !hook.wants("node_completed"));
        assert!(!format!("{hook:?}").contains("abc"), "Debug hides the URL's token");
    }

    #[test]
    fn names_and_urls_are_checked() {
        let two = format!("{ONE}{ONE}");
        assert!(webhooks(&two).unwrap_err().contains("used twice"));
        let bad_name = ONE.replace("release-chat", "release chat");
        assert!(webhooks(&bad_name).unwrap_err().contains("name must be"));
        let ftp = ONE.replace("https://", "ftp://");
        assert!(webhooks(&ftp).unwrap_err().contains("url must be"));
        let relative = ONE.replace("https://hooks.example.com", "");
        assert!(webhooks(&relative).unwrap_err().contains("url must be"));
        let typo = format!("{ONE}secret = \"x\"");
        assert!(webhooks(&typo).is_err(), "a misspelt key is an error");
    }

    #[test]
    fn kinds_and_limits_are_checked() {
        let unknown = format!("{ONE}events = [\"approval_requested\", \"aproval_decided\"]");
        let err = webhooks(&unknown).unwrap_err();
        assert!(err.contains("\"aproval_decided\" is not an event kind") && err.contains("job_completed"), "{err}");
        let none = format!("{ONE}events = []");
        assert!(webhooks(&none).unwrap_err().contains("at least one"));
        let alert = format!("{ONE}events = [\"alert\", \"job_completed\"]");
        assert!(webhooks(&alert).is_ok(), "`alert` and any stored kind are accepted");
        let no_env = ONE.replace("RELEASE_HOOK_SECRET", "");
        assert!(webhooks(&no_env).unwrap_err().contains("secret_env"));
        let zero = format!("{ONE}max_attempts = 0");
        assert!(webhooks(&zero).unwrap_err().contains("max_attempts"));
    }

    #[test]
    fn an_unset_secret_is_an_error_that_names_the_variable() {
        let mut hook = webhooks(ONE).expect("valid").webhooks.remove(0);
        hook.secret_env = "CADRE_UNIT_TEST_WEBHOOK_SECRET_THAT_IS_NEVER_SET".into();
        let err = hook.read_secret().unwrap_err().to_string();
        assert!(
            err.contains("CADRE_UNIT_TEST_WEBHOOK_SECRET_THAT_IS_NEVER_SET") && err.contains("release-chat"),
            "{err}"
        );
    }

    #[test]
    fn urls_are_shown_without_their_secrets() {
        assert_eq!(redacted_url("http://127.0.0.1:9000/hook"), "http://127.0.0.1:9000/hook");
        assert_eq!(redacted_url("https://hooks.slack.com/services/T0/B0/xyz"), "https://hooks.slack.com/services/…");
        assert_eq!(redacted_url("https://u:pw@example.com/in?token=t0p"), "https://redacted@example.com/in?redacted");
        assert_eq!(redacted_url("https://example.com"), "https://example.com");
        assert_eq!(redacted_url("not a url"), "(not a URL)");
    }
}
