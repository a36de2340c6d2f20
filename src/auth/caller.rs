//! Who is calling: an API key with its scopes, or a worker process with the token of its
//! node. Handlers take a [`Caller`] and say what they need of it; the answer to a caller
//! without the right is 403, and a worker never learns whether things outside its subtree
//! exist (404).

use std::fmt;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use uuid::Uuid;

use crate::engine::tokens::WorkerGrant;
use crate::error::ApiError;

/// A permission a key can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Scope {
    /// Read jobs, the hierarchy and stats; validate.
    Read,
    /// Submit and cancel jobs.
    Write,
    /// Manage keys and read the audit log.
    Admin,
}

impl Scope {
    const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];

    /// The spelling in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }

    /// Parses a scope name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scopes(u8);

impl Scopes {
    /// Every scope.
    pub fn all() -> Self {
        Self::from_iter(Scope::ALL)
    }

    /// Parses a comma-separated list, ignoring unknown names.
    pub fn parse(text: &str) -> Self {
        Self::from_iter(text.split(',').filter_map(|s| Scope::parse(s.trim())))
    }

    /// True when the set holds `scope`.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The scopes, in a fixed order.
    pub fn names(self) -> Vec<&'static str> {
        Scope::ALL.into_iter().filter(|s| self.contains(*s)).map(Scope::as_str).collect()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |bits, s| bits | s.bit()))
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(","))
    }
}

/// An API key as a caller.
#[derive(Debug, Clone)]
pub struct KeyIdentity {
    pub id: Uuid,
    pub name: String,
    pub scopes: Scopes,
    /// The key's own rate limit, if it has one.
    pub rate: Option<super::limit::Rate>,
    /// The groups the key is in (approvers may name `group:NAME`).
    pub groups: Vec<String>,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// Someone with an API key.
    Key(KeyIdentity),
    /// A worker process, with the token of its node.
    Worker(WorkerGrant),
}

impl Caller {
    /// The key, if it carries `scope`; 403 otherwise (workers carry no scope).
    pub fn require(&self, scope: Scope) -> Result<&KeyIdentity, ApiError> {
        match self {
            Self::Key(key) if key.scopes.contains(scope) => Ok(key),
            Self::Key(_) => Err(ApiError::Forbidden(format!("this key lacks the `{}` scope", scope.as_str()))),
            Self::Worker(_) => Err(ApiError::Forbidden("a worker token cannot do this".into())),
        }
    }

    /// For audit entries: the key's id and name (a worker acts under its token's id).
    pub fn audit_identity(&self) -> (Option<Uuid>, Option<String>) {
        match self {
            Self::Key(key) => (Some(key.id), Some(key.name.clone())),
            Self::Worker(grant) => (Some(grant.token_id), Some(format!("worker {}", grant.node_id))),
        }
    }

    /// The id rate limits are counted under.
    pub fn limit_id(&self) -> Uuid {
        match self {
            Self::Key(key) => key.id,
            Self::Worker(grant) => grant.token_id,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Caller>().cloned().ok_or(ApiError::Unauthorized(crate::error::Unauthenticated::Missing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_ignore_unknown_names() {
        let scopes = Scopes::parse("write, read,bogus");
        assert_eq!(scopes.to_string(), "read,write");
        assert!(scopes.contains(Scope::Write) && !scopes.contains(Scope::Admin));
        assert_eq!(Scopes::parse(&Scopes::all().to_string()), Scopes::all());
    }
}
