//! Changes to the agent registry (issue 16): an agent registered (from a template or not),
//! changed by a JSON merge patch, or removed — each checked against the roster, stored
//! through the journal as an `agents` row with an `agent_changed` event, flushed, and only
//! then put into the roster the drivers delegate through. One change at a time, so two
//! registrations of one name, or two managers' changes that together make a cycle, cannot
//! both pass their checks.

use serde_json::{json, Value};

use super::{Engine, EngineError};
use crate::domain::FieldError;
use crate::events::{now_ms, EventDraft, EventKind};
use crate::store::AgentRow;
use crate::workforce::agent::{merge_patch, AgentSpec};
use crate::workforce::matching::Member;
use crate::workforce::Workforce;

impl Engine {
    /// The roster: registered agents and their load.
    pub fn workforce(&self) -> &Workforce {
        &self.inner.ctx.workforce
    }

    /// The agent templates.
    pub fn agent_templates(&self) -> &crate::workforce::templates::Templates {
        &self.inner.ctx.templates
    }

    /// Registers an agent: `body` is an agent, or `{from_template, …}` whose other fields
    /// replace the template's.
    pub async fn register_agent(&self, mut body: Value) -> Result<Member, EngineError> {
        self.inner.ensure_store_reachable()?;
        if let Some(template) = body.as_object_mut().and_then(|b| b.remove("from_template")) {
            let name = template.as_str().unwrap_or_default();
            body = self.inner.ctx.templates.instantiate(name, &body).map_err(|m| invalid("from_template", m))?;
        }
        let spec = AgentSpec::from_value(body).map_err(EngineError::Invalid)?;
        let _one_at_a_time = self.inner.ctx.registry_lock.lock().await;
        if self.workforce().member(&spec.name).is_some() {
            return Err(EngineError::Conflict(format!("an agent named '{}' is already registered", spec.name)));
        }
        self.store_agent(spec, None, "created").await
    }

    /// Changes an agent by a JSON merge patch (RFC 7396) over what is stored; its name stays.
    pub async fn change_agent(&self, name: &str, patch: &Value) -> Result<Member, EngineError> {
        self.inner.ensure_store_reachable()?;
        if !patch.is_object() {
            return Err(invalid("", "a merge patch is a JSON object".into()));
        }
        let _one_at_a_time = self.inner.ctx.registry_lock.lock().await;
        let member = self.workforce().member(name).ok_or_else(|| EngineError::NotFound(format!("agent '{name}'")))?;
        let mut value = serde_json::to_value(&*member.spec).unwrap_or(Value::Null);
        merge_patch(&mut value, patch);
        if value.get("name") != Some(&json!(name)) {
            return Err(invalid("name", "an agent's name cannot change: register a new agent".into()));
        }
        let spec = AgentSpec::from_value(value).map_err(EngineError::Invalid)?;
        self.store_agent(spec, Some(member.created_ms), "updated").await
    }

    /// Removes an agent that holds no task and has no one reporting to it.
    pub async fn remove_agent(&self, name: &str) -> Result<(), EngineError> {
        self.inner.ensure_store_reachable()?;
        let _one_at_a_time = self.inner.ctx.registry_lock.lock().await;
        let member = self.workforce().member(name).ok_or_else(|| EngineError::NotFound(format!("agent '{name}'")))?;
        if let Some(blocked) = self.workforce().removal_blocked(name) {
            return Err(EngineError::Conflict(blocked));
        }
        let mut row = agent_row(&member.spec, member.created_ms, now_ms());
        row.removed = true;
        self.inner.ctx.journal.agent(row);
        self.announce(name, "deleted", member.spec.status.as_str());
        self.inner.ctx.journal.flush().await?;
        self.workforce().remove(name);
        Ok(())
    }

    async fn store_agent(&self, spec: AgentSpec, created_ms: Option<i64>, change: &str) -> Result<Member, EngineError> {
        let problems = self.workforce().check(&spec, created_ms.is_none(), &self.inner.limits);
        if !problems.is_empty() {
            return Err(EngineError::Invalid(problems));
        }
        let now = now_ms();
        let created_ms = created_ms.unwrap_or(now);
        self.inner.ctx.journal.agent(agent_row(&spec, created_ms, now));
        self.announce(&spec.name, change, spec.status.as_str());
        self.inner.ctx.journal.flush().await?;
        let name = spec.name.clone();
        self.workforce().put(spec, created_ms, now);
        self.workforce().member(&name).ok_or_else(|| EngineError::NotFound(format!("agent '{name}'")))
    }

    /// Brings the roster up to the stored registry: in a cluster, the agents other replicas
    /// made, changed or removed (one at a time with this replica's own changes, so an older
    /// read never overwrites a newer change).
    pub async fn refresh_registry(&self) -> Result<(), EngineError> {
        let _one_at_a_time = self.inner.ctx.registry_lock.lock().await;
        load(self.store(), self.workforce()).await
    }

    fn announce(&self, name: &str, change: &str, status: &str) {
        let data = json!({"name": name, "change": change, "status": status});
        self.inner.ctx.journal.emit(EventDraft::server(EventKind::AgentChanged, None, &data));
    }
}

fn invalid(path: &str, message: String) -> EngineError {
    EngineError::Invalid(vec![FieldError { path: path.into(), message }])
}

fn agent_row(spec: &AgentSpec, created_ms: i64, updated_ms: i64) -> AgentRow {
    AgentRow {
        name: spec.name.clone(),
        status: spec.status.as_str().into(),
        reports_to: spec.reports_to.clone(),
        body: serde_json::to_string(spec).unwrap_or_default(),
        created_ms,
        updated_ms,
        removed: false,
    }
}

/// The stored registry into the roster (all of it at start, what changed since on a refresh):
/// agents gone from the store leave it, new or changed ones are put in.
pub(super) async fn load(store: &crate::store::SharedStore, workforce: &Workforce) -> Result<(), EngineError> {
    let rows = store.agents().await?;
    let stored: std::collections::HashSet<&str> = rows.iter().map(|row| row.name.as_str()).collect();
    for member in workforce.members().iter().filter(|m| !stored.contains(m.spec.name.as_str())) {
        workforce.remove(&member.spec.name);
    }
    for row in &rows {
        if workforce.member(&row.name).is_some_and(|m| m.updated_ms == row.updated_ms) {
            continue;
        }
        let spec: AgentSpec = serde_json::from_str(&row.body)
            .map_err(|e| crate::store::StoreError::Corrupt(format!("agent '{}': {e}", row.name)))?;
        workforce.put(spec, row.created_ms, row.updated_ms);
    }
    Ok(())
}
