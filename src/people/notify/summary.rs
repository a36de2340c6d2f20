//! The one-line `text` of a webhook body: what happened, to which node of which job, in
//! words a person reads in a chat channel. A Slack incoming webhook posts a body's `text`
//! (and ignores the other fields), so a webhook pointed at Slack works without an adapter;
//! hence Slack's emoji codes and its escaping of `&`, `<` and `>` in anything a user wrote.

use serde_json::Value;
use uuid::Uuid;

use crate::events::Event;

/// Characters of a prompt, comment or error quoted in the line.
const QUOTE_CHARS: usize = 200;

/// The summary of `event`.
pub fn text(event: &Event) -> String {
    let data: Value = serde_json::from_str(event.data.get()).unwrap_or(Value::Null);
    let target = target(&data, event.job_id);
    match event.kind.as_str() {
        "approval_requested" => asked(&data, &target, ":raising_hand: Approval needed".into()),
        "approval_escalated" => {
            let level = data["level"].as_u64().unwrap_or(0);
            asked(&data, &target, format!(":arrow_double_up: Approval escalated to level {level}"))
        }
        "approval_decided" => decided(&data, &target),
        "alert" => alert(&data, event.job_id),
        "alert_resolved" => resolved(&data, event.job_id),
        kind => other(kind, &data, &target),
    }
}

/// `deploy (job 01a2…)`: the node's name, if the event has one, and the job.
fn target(data: &Value, job_id: Option<Uuid>) -> String {
    let name = data["name"].as_str().map(escape);
    match (name, job_id) {
        (Some(name), Some(job)) => format!("{name} (job {job})"),
        (Some(name), None) => name,
        (None, Some(job)) => format!("job {job}"),
        (None, None) => "the server".into(),
    }
}

/// A request waiting for its approvers (asked, or asked again a level up).
fn asked(data: &Value, target: &str, head: String) -> String {
    let what = if data["kind"] == "after" { "the result of " } else { "" };
    let prompt = quoted(&data["prompt"]);
    let approvers: Vec<String> =
        data["approvers"].as_array().into_iter().flatten().filter_map(Value::as_str).map(escape).collect();
    let approvers = if approvers.is_empty() { "the job's owners".to_string() } else { approvers.join(", ") };
    let required = data["required"].as_u64().filter(|n| *n > 1).map(|n| format!(" ({n} needed)")).unwrap_or_default();
    format!("{head}: {what}{target}{prompt} — approvers {approvers}{required}")
}

fn decided(data: &Value, target: &str) -> String {
    let by = data["by"].as_str().map_or_else(|| "its timeout's default".to_string(), escape);
    let comment = quoted(&data["comment"]);
    match data["state"].as_str().unwrap_or_default() {
        "approved" => format!(":white_check_mark: Approved: {target} by {by}{comment}"),
        "rejected" => format!(":x: Rejected: {target} by {by}{comment}"),
        "cancelled" => format!(":heavy_minus_sign: Approval withdrawn: {target} (cancelled)"),
        _ => format!(":ballot_box_with_check: {by} approved {target}{comment} — more approvals needed"),
    }
}

/// An alert that fired: its rule and its message (`people::alerts`).
fn alert(data: &Value, job_id: Option<Uuid>) -> String {
    let rule = data["rule"].as_str().map(|r| format!(" ({})", escape(r))).unwrap_or_default();
    let message = ["message", "summary", "title", "text"]
        .iter()
        .find_map(|field| data[field].as_str())
        .map_or_else(|| "(no message)".to_string(), |m| one_line(m, QUOTE_CHARS));
    format!(":rotating_light: Alert{rule}: {message}{}", about_job(job_id))
}

fn resolved(data: &Value, job_id: Option<Uuid>) -> String {
    let rule = data["rule"].as_str().map(escape).unwrap_or_else(|| "alert".into());
    let by =
        data["resolved_by"].as_str().map_or_else(|| " (it passed)".to_string(), |by| format!(" by {}", escape(by)));
    format!(":large_green_circle: Alert resolved: {rule}{}{by}", about_job(job_id))
}

fn about_job(job_id: Option<Uuid>) -> String {
    job_id.map(|job| format!(" (job {job})")).unwrap_or_default()
}

/// Any other kind: its name, what it is about, and its status and error if it has them.
fn other(kind: &str, data: &Value, target: &str) -> String {
    let status = data["status"].as_str().map(|s| format!(" — {}", escape(s))).unwrap_or_default();
    let error = data["error"].as_str().map(|e| format!(": {}", one_line(e, QUOTE_CHARS))).unwrap_or_default();
    format!(":information_source: {kind}: {target}{status}{error}")
}

/// ` — "text"` for a string, nothing for anything else.
fn quoted(value: &Value) -> String {
    value.as_str().filter(|s| !s.is_empty()).map(|s| format!(" — \"{}\"", one_line(s, QUOTE_CHARS))).unwrap_or_default()
}

/// On one line, at most `chars` characters (then `…`), escaped.
fn one_line(text: &str, chars: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = flat.chars().take(chars).collect();
    let ellipsis = if cut.len() < flat.len() { "…" } else { "" };
    format!("{}{ellipsis}", escape(&cut))
}

/// Slack's escaping: `&`, `<` and `>` would otherwise be read as markup (`<!channel>`).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::EventRow;

    const JOB: &str = "01a233fc-5bc3-72ba-bb0d-2758238c22b1";

    fn line(kind: &str, data: Value) -> String {
        let row = EventRow {
            seq: 1,
            ts_ms: 0,
            kind: kind.into(),
            job_id: Some(JOB.parse().expect("uuid")),
            depth: Some(1),
            data: data.to_string(),
        };
        text(&Event::from_row(&row))
    }

    #[test]
    fn a_request_names_the_node_the_job_the_prompt_and_the_approvers() {
        let data = json!({"name": "deploy", "kind": "before", "prompt": "Ship it?", "approvers": ["group:release"], "required": 1});
        assert_eq!(
            line("approval_requested", data),
            format!(":raising_hand: Approval needed: deploy (job {JOB}) — \"Ship it?\" — approvers group:release")
        );
        let data = json!({"name": "deploy", "kind": "after", "prompt": null, "approvers": ["a", "b"], "required": 2, "level": 2});
        assert_eq!(
            line("approval_escalated", data),
            format!(":arrow_double_up: Approval escalated to level 2: the result of deploy (job {JOB}) — approvers a, b (2 needed)")
        );
    }

    #[test]
    fn a_decision_says_who_and_how() {
        let approved = json!({"name": "deploy", "state": "approved", "by": "lead", "comment": "go"});
        assert_eq!(
            line("approval_decided", approved),
            format!(":white_check_mark: Approved: deploy (job {JOB}) by lead — \"go\"")
        );
        let timed_out = json!({"name": "deploy", "state": "rejected", "by": null});
        assert!(line("approval_decided", timed_out).starts_with(":x: Rejected: deploy"));
        let one_of_two = json!({"name": "deploy", "state": "pending", "by": "alice"});
        assert!(line("approval_decided", one_of_two).ends_with("more approvals needed"));
        let withdrawn = json!({"name": "deploy", "state": "cancelled"});
        assert!(line("approval_decided", withdrawn).contains("withdrawn"));
    }

    #[test]
    fn what_people_wrote_is_escaped_and_kept_to_one_short_line() {
        let data =
            json!({"name": "a<b>", "prompt": format!("<!channel> & {}\nmore", "x".repeat(300)), "approvers": []});
        let text = line("approval_requested", data);
        assert!(text.contains("a&lt;b&gt;") && text.contains("&lt;!channel&gt; &amp; "), "{text}");
        assert!(!text.contains('\n') && text.contains("…\""), "{text}");
        assert!(text.ends_with("approvers the job's owners"), "{text}");
    }

    #[test]
    fn alerts_and_other_kinds_have_a_line_too() {
        let fired = line("alert", json!({"rule": "failure_rate", "message": "40 % of workers failed"}));
        assert_eq!(fired, format!(":rotating_light: Alert (failure_rate): 40 % of workers failed (job {JOB})"));
        let resolved = line("alert_resolved", json!({"rule": "failure_rate", "resolved_by": "ops"}));
        assert_eq!(resolved, format!(":large_green_circle: Alert resolved: failure_rate (job {JOB}) by ops"));
        assert_eq!(line("alert", json!({})), format!(":rotating_light: Alert: (no message) (job {JOB})"));
        let ended = line("job_completed", json!({"status": "failed", "error": "boom"}));
        assert_eq!(ended, format!(":information_source: job_completed: job {JOB} — failed: boom"));
    }
}
