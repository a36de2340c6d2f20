//! `[mail]`: how messages between nodes are delivered (issue 17).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// A delivered message not acknowledged within this many seconds is delivered again.
    pub visibility_timeout_s: u64,
    /// Deliveries after which an unacknowledged message goes to the dead letters.
    pub max_deliveries: u32,
    /// The largest message body, in bytes of JSON.
    pub max_body_bytes: usize,
    /// The longest a receive may wait for a message (`wait_s`), in seconds; below
    /// `server.request_timeout_s`, which would cut the wait short.
    pub max_wait_s: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self { visibility_timeout_s: 30, max_deliveries: 5, max_body_bytes: 65_536, max_wait_s: 20 }
    }
}

impl MailConfig {
    pub(super) fn problem(&self) -> Option<String> {
        let zero = [
            ("visibility_timeout_s", self.visibility_timeout_s == 0),
            ("max_deliveries", self.max_deliveries == 0),
            ("max_body_bytes", self.max_body_bytes == 0),
        ];
        zero.iter().find(|(_, is)| *is).map(|(name, _)| format!("mail.{name} must be at least 1"))
    }
}
