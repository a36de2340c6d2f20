//! The life-cycle states of jobs and nodes (SPEC §1) and their stored spelling.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Accepted, waiting for admission (running-job limit reached).
    Queued,
    /// Its tree is being worked on.
    Running,
    /// Nothing can move until a person answers (a question the decomposer asked) or
    /// decides (an approval).
    Paused,
    /// A cancel was asked for and the tree is being stopped.
    Cancelling,
    /// The root succeeded.
    Succeeded,
    /// The root failed, or the job timed out.
    Failed,
    /// The job was cancelled.
    Cancelled,
}

/// Where a node is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NodeStatus {
    /// Created, waiting for dependencies, a quota slot or its parent.
    Pending,
    /// Doing its own work, or (orchestrator) waiting for its children.
    Running,
    /// Between two attempts.
    Retrying,
    /// Waiting for a person to approve its start or accept its result (holds no slot).
    AwaitingApproval,
    /// Done, successfully.
    Succeeded,
    /// Done, unsuccessfully after its last attempt.
    Failed,
    /// Stopped before it finished, or never started.
    Cancelled,
}

macro_rules! stored_names {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every state, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The spelling used in the store, the API and events.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }

            /// Parses the stored spelling.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($name => Some($ty::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_names!(JobStatus {
    Queued => "queued",
    Running => "running",
    Paused => "paused",
    Cancelling => "cancelling",
    Succeeded => "succeeded",
    Failed => "failed",
    Cancelled => "cancelled",
});

stored_names!(NodeStatus {
    Pending => "pending",
    Running => "running",
    Retrying => "retrying",
    AwaitingApproval => "awaiting_approval",
    Succeeded => "succeeded",
    Failed => "failed",
    Cancelled => "cancelled",
});

impl JobStatus {
    /// True once the job can change no more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

impl NodeStatus {
    /// True once the node can change no more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_round_trip() {
        for status in NodeStatus::ALL {
            assert_eq!(NodeStatus::parse(status.as_str()), Some(*status));
        }
        for status in JobStatus::ALL {
            assert_eq!(JobStatus::parse(status.as_str()), Some(*status));
        }
        assert_eq!(NodeStatus::parse("bogus"), None);
    }
}
