//! What `cadre messages` prints in words, from the API's JSON: a received message (its
//! priority, sender, thread, deliveries, and body below), a job's messages or its dead letters
//! as a table (recipients by name where the job's tree names them), and a line for a send, an
//! acknowledgement or a message given back. Pure functions of the answers, so a field the
//! server leaves out reads as `-` rather than failing.

use std::collections::HashMap;

use serde_json::Value;

use super::agents_render::table;

/// How many characters of a body a table shows.
const BODY_WIDTH: usize = 60;

/// A text field, or `-`.
fn text(value: &Value, field: &str) -> String {
    value[field].as_str().unwrap_or("-").to_string()
}

/// A number field, or `-`.
fn number(value: &Value, field: &str) -> String {
    value[field].as_i64().map_or_else(|| "-".into(), |n| n.to_string())
}

/// A body as it reads: a JSON string as its text, anything else as compact JSON.
pub(super) fn body(body: &Value) -> String {
    match body {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A body on one line of at most [`BODY_WIDTH`] characters.
fn short_body(value: &Value) -> String {
    let whole = body(value).replace('\n', " ");
    if whole.chars().count() <= BODY_WIDTH {
        return whole;
    }
    let cut: String = whole.chars().take(BODY_WIDTH - 1).collect();
    format!("{cut}…")
}

/// The recipient by name when the tree named it, by id otherwise.
fn recipient(message: &Value, names: &HashMap<String, String>) -> String {
    let id = text(message, "to");
    names.get(&id).cloned().unwrap_or(id)
}

/// `cadre messages receive`: a header line and the body indented below it.
pub(super) fn message_lines(message: &Value) -> Vec<String> {
    let header = format!(
        "message {} · priority {} · from {} · thread {} · delivery {}",
        text(message, "id"),
        number(message, "priority"),
        text(message, "sender"),
        text(message, "thread_id"),
        number(message, "deliveries"),
    );
    let lines = body(&message["body"]);
    std::iter::once(header).chain(lines.lines().map(|line| format!("  {line}"))).collect()
}

/// `cadre messages send`: what was stored, and for whom.
pub(super) fn sent_line(message: &Value, to: &str) -> String {
    format!(
        "message {} to {to} [{}] · priority {}",
        text(message, "id"),
        text(message, "state"),
        number(message, "priority")
    )
}

/// `cadre messages ack|nack`: the message's state now.
pub(super) fn settled_line(message: &Value) -> String {
    format!("message {} {} · deliveries {}", text(message, "id"), text(message, "state"), number(message, "deliveries"))
}

/// `cadre messages list`: a header and a message a row.
pub(super) fn message_table(messages: &[Value], names: &HashMap<String, String>) -> Vec<String> {
    if messages.is_empty() {
        return vec!["no messages".into()];
    }
    let header = ["ID", "STATE", "PRIORITY", "TO", "SENDER", "THREAD", "DELIVERIES", "BODY"];
    let mut rows = vec![header.map(String::from).to_vec()];
    rows.extend(messages.iter().map(|m| {
        vec![
            text(m, "id"),
            text(m, "state"),
            number(m, "priority"),
            recipient(m, names),
            text(m, "sender"),
            text(m, "thread_id"),
            number(m, "deliveries"),
            short_body(&m["body"]),
        ]
    }));
    table(&rows)
}

/// `cadre messages dead`: the dead letters, with why each died.
pub(super) fn dead_table(messages: &[Value], names: &HashMap<String, String>) -> Vec<String> {
    if messages.is_empty() {
        return vec!["no dead letters".into()];
    }
    let header = ["ID", "TO", "REASON", "DELIVERIES", "SENDER", "BODY"];
    let mut rows = vec![header.map(String::from).to_vec()];
    rows.extend(messages.iter().map(|m| {
        vec![
            text(m, "id"),
            recipient(m, names),
            text(m, "dead_reason"),
            number(m, "deliveries"),
            text(m, "sender"),
            short_body(&m["body"]),
        ]
    }));
    table(&rows)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message(id: &str, priority: i64, body: Value) -> Value {
        json!({"id": id, "to": "n1", "sender": "admin", "thread_id": null, "priority": priority,
               "body": body, "state": "delivered", "deliveries": 1, "dead_reason": null})
    }

    #[test]
    fn a_received_message_shows_its_header_and_its_body_indented() {
        let mut m = message("m1", 9, json!({"text": "hi"}));
        m["thread_id"] = json!("t1");
        assert_eq!(
            message_lines(&m),
            ["message m1 · priority 9 · from admin · thread t1 · delivery 1", r#"  {"text":"hi"}"#]
        );
        let lines = message_lines(&message("m2", 1, json!("two\nlines")));
        assert_eq!(lines[0], "message m2 · priority 1 · from admin · thread - · delivery 1");
        assert_eq!(lines[1..], ["  two", "  lines"]);
    }

    #[test]
    fn a_list_names_recipients_and_cuts_long_bodies() {
        let names = HashMap::from([("n1".to_string(), "worker".to_string())]);
        let mut other = message("m2", 5, json!("x".repeat(100)));
        other["to"] = json!("n9");
        let rows = message_table(&[message("m1", 9, json!("hi")), other], &names);
        assert_eq!(rows[0], "ID  STATE      PRIORITY  TO      SENDER  THREAD  DELIVERIES  BODY");
        assert_eq!(rows[1], "m1  delivered  9         worker  admin   -       1           hi");
        assert!(rows[2].contains("  n9  ") && rows[2].ends_with(&format!("{}…", "x".repeat(59))), "{}", rows[2]);
        assert_eq!(message_table(&[], &names), ["no messages"]);
    }

    #[test]
    fn dead_letters_say_why_they_died() {
        let mut dead = message("m1", 5, json!({"ask": "schema?"}));
        (dead["state"], dead["dead_reason"], dead["deliveries"]) = (json!("dead"), json!("max_deliveries"), json!(3));
        let rows = dead_table(&[dead], &HashMap::new());
        assert_eq!(rows[0], "ID  TO  REASON          DELIVERIES  SENDER  BODY");
        assert_eq!(rows[1], r#"m1  n1  max_deliveries  3           admin   {"ask":"schema?"}"#);
        assert_eq!(dead_table(&[], &HashMap::new()), ["no dead letters"]);
    }

    #[test]
    fn a_send_and_a_settlement_are_one_line() {
        let mut m = message("m1", 9, json!(1));
        m["state"] = json!("pending");
        assert_eq!(sent_line(&m, "worker"), "message m1 to worker [pending] · priority 9");
        m["deliveries"] = json!(2);
        assert_eq!(settled_line(&m), "message m1 pending · deliveries 2");
    }
}
