//! The data of the events a driver emits for every node, as typed structs of borrowed
//! fields: serialised straight to the stored text, with no map built and no id turned into
//! a string first. Fields are in alphabetical order, as a `json!` map would write them.

use serde::Serialize;
use uuid::Uuid;

/// `worker_started`.
#[derive(Serialize)]
pub(super) struct WorkerStarted<'a> {
    pub attempt: u32,
    pub depth: u8,
    pub name: &'a str,
    pub orchestrator_id: Option<Uuid>,
    pub worker_id: Uuid,
}

/// `node_completed`.
#[derive(Serialize)]
pub(super) struct NodeCompleted<'a> {
    pub error: Option<&'a str>,
    pub name: &'a str,
    pub node_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub status: &'a str,
}

/// `job_completed` and `job_cancelled`.
#[derive(Serialize)]
pub(super) struct JobEnded<'a> {
    pub error: Option<&'a str>,
    pub job_id: Uuid,
    pub result: Option<&'a serde_json::value::RawValue>,
    pub status: &'a str,
}

/// `orchestrator_spawned`.
#[derive(Serialize)]
pub(super) struct OrchestratorSpawned<'a> {
    pub children: usize,
    pub depth: u8,
    pub name: &'a str,
    pub orchestrator_id: Uuid,
    pub parent_id: Option<Uuid>,
}
