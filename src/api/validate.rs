//! `POST /recursion/validate`: the checks of a submission, with an estimate and the capacity
//! free now, and nothing created (SPEC §4.6).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::AppJson;
use crate::domain::validate::Estimate;
use crate::domain::{FieldError, JobSpec};
use crate::error::{ApiResult, Problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(validate_job))
}

/// What validation found.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ValidationReport {
    pub valid: bool,
    pub errors: Vec<FieldError>,
    pub warnings: Vec<FieldError>,
    pub estimate: Estimate,
    pub capacity: Capacity,
}

/// Free slots per depth at this moment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Capacity {
    pub available_by_depth: BTreeMap<String, u32>,
}

/// Validate a job without running it.
#[utoipa::path(post, path = "/recursion/validate", tag = "jobs", request_body = JobSpec,
    responses(
        (status = 200, description = "The validation report", body = ValidationReport),
        (status = 422, description = "The body does not have the shape of a job", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn validate_job(
    State(app): State<AppState>,
    caller: crate::auth::Caller,
    AppJson(spec): AppJson<JobSpec>,
) -> ApiResult<Json<ValidationReport>> {
    caller.require(crate::auth::Scope::Read)?;
    let validation = app.engine.validate(&spec);
    let available_by_depth = app
        .engine
        .resources()
        .usage()
        .iter()
        .enumerate()
        .map(|(depth, u)| (depth.to_string(), u.quota.saturating_sub(u.in_use)))
        .collect();
    Ok(Json(ValidationReport {
        valid: validation.errors.is_empty(),
        errors: validation.errors,
        warnings: validation.warnings,
        estimate: validation.estimate,
        capacity: Capacity { available_by_depth },
    }))
}
