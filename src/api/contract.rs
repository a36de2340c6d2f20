//! The parts of the OpenAPI document that no single handler owns: the error answers every
//! route shares (written once here instead of on each handler, so none can be forgotten),
//! the `/api/v1` prefix, the public probes, and the links that let a client (or a fuzzer's
//! stateful phase) go from a created resource to the operations on it.
//!
//! Which errors a route can give follows from the layers it sits behind: every route has the
//! request timeout (408) and the store's outage or a shutdown (503); a route behind the key
//! check has 401, 403 and the rate limit's 429; a route with a body has 413, 415 and 422; a
//! route with parameters can get a malformed one (400); a route with path ids, an unknown id
//! (404).

use serde_json::{json, Value};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::server::Server;
use utoipa::openapi::{ContentBuilder, Object, OpenApi, Ref, RefOr, Type};

/// Where the recursion API is mounted.
pub const API_PREFIX: &str = "/api/v1";
const PROBLEM_JSON: &str = "application/problem+json";

/// A shared error answer.
struct Shared {
    status: &'static str,
    name: &'static str,
    description: &'static str,
    retry_after: bool,
    /// Whether an operation can give it.
    applies: fn(&Operation) -> bool,
}

const SHARED: [Shared; 10] = [
    Shared {
        status: "400",
        name: "BadRequest",
        description: "A malformed id, query parameter or JSON body",
        retry_after: false,
        applies: has_input,
    },
    Shared {
        status: "401",
        name: "Unauthorized",
        description: "No API key, or a key that is not valid (unknown, revoked or expired)",
        retry_after: false,
        applies: is_secured,
    },
    Shared {
        status: "403",
        name: "Forbidden",
        description: "The key lacks the scope this needs, or a worker token reaches outside its subtree",
        retry_after: false,
        applies: is_secured,
    },
    Shared {
        status: "404",
        name: "NotFound",
        description: "No such resource",
        retry_after: false,
        applies: has_path_ids,
    },
    Shared {
        status: "408",
        name: "RequestTimeout",
        description: "The request took longer than `server.request_timeout_s`",
        retry_after: false,
        applies: always,
    },
    Shared {
        status: "413",
        name: "PayloadTooLarge",
        description: "The body is larger than `server.body_limit_bytes`",
        retry_after: false,
        applies: has_body,
    },
    Shared {
        status: "415",
        name: "UnsupportedMediaType",
        description: "The body is not `application/json`",
        retry_after: false,
        applies: has_body,
    },
    Shared {
        status: "422",
        name: "Invalid",
        description: "The body is JSON but not valid here; `errors` names each offending field",
        retry_after: false,
        applies: has_body,
    },
    Shared {
        status: "429",
        name: "TooManyRequests",
        description:
            "The caller's rate limit, or (submitting a job) a full admission queue: retry after `Retry-After` seconds",
        retry_after: true,
        applies: is_secured,
    },
    Shared {
        status: "503",
        name: "Unavailable",
        description: "The store is unreachable or the server is shutting down: retry after `Retry-After` seconds",
        retry_after: true,
        applies: always,
    },
];

fn always(_: &Operation) -> bool {
    true
}

fn is_secured(operation: &Operation) -> bool {
    operation.security.as_ref().is_some_and(|s| !s.is_empty())
}

fn has_body(operation: &Operation) -> bool {
    operation.request_body.is_some()
}

fn has_input(operation: &Operation) -> bool {
    has_body(operation) || operation.parameters.as_ref().is_some_and(|p| !p.is_empty())
}

fn has_path_ids(operation: &Operation) -> bool {
    operation.parameters.iter().flatten().any(|p| matches!(p.parameter_in, ParameterIn::Path))
}

/// The whole document: the recursion API's own under [`API_PREFIX`], the probes, the shared
/// error answers and the links.
pub fn complete(mut api: OpenApi, probes: OpenApi) -> OpenApi {
    prefix_paths(&mut api);
    api.servers = Some(vec![Server::new("/")]);
    api.merge(probes);
    add_shared_responses(&mut api);
    api
}

fn prefix_paths(api: &mut OpenApi) {
    let paths = std::mem::take(&mut api.paths.paths);
    api.paths.paths = paths.into_iter().map(|(path, item)| (format!("{API_PREFIX}{path}"), item)).collect();
}

fn add_shared_responses(api: &mut OpenApi) {
    let components = api.components.get_or_insert_with(Default::default);
    for shared in &SHARED {
        components.responses.insert(shared.name.to_string(), RefOr::T(shared_response(shared)));
    }
    for item in api.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            add_to_operation(operation);
        }
    }
}

fn add_to_operation(operation: &mut Operation) {
    let applying: Vec<&Shared> = SHARED.iter().filter(|shared| (shared.applies)(operation)).collect();
    for shared in applying {
        let reference = RefOr::Ref(Ref::from_response_name(shared.name));
        let responses = &mut operation.responses.responses;
        // The shared 429 and 503 carry `Retry-After`; a handler's own wording of them yields.
        if shared.retry_after || !responses.contains_key(shared.status) {
            responses.insert(shared.status.to_string(), reference);
        }
    }
}

fn shared_response(shared: &Shared) -> Response {
    let problem = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    let mut response = ResponseBuilder::new().description(shared.description).content(PROBLEM_JSON, problem);
    if shared.retry_after {
        let seconds = Object::with_type(Type::Integer);
        let header = HeaderBuilder::new().schema(seconds).description(Some("Seconds to wait before trying again"));
        response = response.header("Retry-After", header.build());
    }
    if shared.status == "401" {
        let scheme = Object::with_type(Type::String);
        response = response.header("WWW-Authenticate", HeaderBuilder::new().schema(scheme).build());
    }
    response.build()
}

/// A link from one operation's answer to another operation.
struct Link {
    from: (&'static str, &'static str, &'static str),
    name: &'static str,
    operation_id: &'static str,
    parameters: &'static [(&'static str, &'static str)],
}

const JOB: &str = "/api/v1/recursion/job";
const JOB_ID: (&str, &str) = ("id", "$response.body#/job_id");
const ROOT_ID: (&str, &str) = ("node_id", "$response.body#/root_node_id");

const LINKS: [Link; 9] = [
    Link { from: (JOB, "post", "202"), name: "GetJob", operation_id: "get_job", parameters: &[JOB_ID] },
    Link { from: (JOB, "post", "202"), name: "CancelJob", operation_id: "cancel_job", parameters: &[JOB_ID] },
    Link {
        from: (JOB, "post", "202"),
        name: "CancelRoot",
        operation_id: "cancel_node",
        parameters: &[JOB_ID, ROOT_ID],
    },
    Link { from: (JOB, "post", "202"), name: "RootLogs", operation_id: "node_logs", parameters: &[JOB_ID, ROOT_ID] },
    Link {
        from: (JOB, "post", "202"),
        name: "RootLlmCalls",
        operation_id: "node_llm_calls",
        parameters: &[JOB_ID, ROOT_ID],
    },
    Link {
        from: (JOB, "post", "202"),
        name: "ReportRootUsage",
        operation_id: "report_usage",
        parameters: &[JOB_ID, ROOT_ID],
    },
    Link {
        from: (JOB, "post", "202"),
        name: "SpawnUnderRoot",
        operation_id: "spawn_children",
        parameters: &[JOB_ID, ROOT_ID],
    },
    Link {
        from: (JOB, "post", "202"),
        name: "JobHierarchy",
        operation_id: "get_hierarchy",
        parameters: &[("job_id", "$response.body#/job_id")],
    },
    Link {
        from: ("/api/v1/keys", "post", "201"),
        name: "RevokeKey",
        operation_id: "revoke_key",
        parameters: &[("id", "$response.body#/id")],
    },
];

/// The document as served. Links are written as JSON: utoipa 5 spells a link's
/// `operationId` in snake case, which no client reads.
pub fn to_json(api: &OpenApi) -> Value {
    let mut document = serde_json::to_value(api).unwrap_or_default();
    for link in &LINKS {
        let (path, method, status) = link.from;
        let parameters: serde_json::Map<String, Value> =
            link.parameters.iter().map(|(name, expression)| ((*name).to_string(), json!(expression))).collect();
        let target = &mut document["paths"][path][method]["responses"][status];
        if target.is_object() {
            target["links"][link.name] = json!({"operationId": link.operation_id, "parameters": parameters});
        }
    }
    close_executor_variants(&mut document);
    bound_integers(&mut document);
    document
}

/// States the range of every unsigned integer (`format: uint32` and the like), which the
/// format names but JSON Schema does not enforce: a client or a fuzzer then knows that
/// 4294967296 is not a `uint32` however large `int64` may be.
fn bound_integers(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            // utoipa spells a map's values `u-int32`: read both spellings, write the usual one.
            let format = fields.get("format").and_then(Value::as_str).map(|f| f.replace('-', ""));
            let largest = match format.as_deref() {
                Some("uint8") => Some(u64::from(u8::MAX)),
                Some("uint16") => Some(u64::from(u16::MAX)),
                Some("uint32") => Some(u64::from(u32::MAX)),
                Some("uint64") => Some(u64::MAX),
                _ => None,
            };
            if let (Some(largest), Some(format)) = (largest, format) {
                fields.insert("format".into(), json!(format));
                fields.entry("maximum").or_insert(json!(largest));
                fields.entry("minimum").or_insert(json!(0));
            }
            fields.values_mut().for_each(bound_integers);
        }
        Value::Array(items) => items.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

/// Each kind of `run` and of `validate` refuses fields it does not know (serde's
/// `deny_unknown_fields`), which the derived schema of a tagged enum's variants does not say.
fn close_executor_variants(document: &mut Value) {
    for tagged in ["ExecutorSpec", "CheckSpec"] {
        let variants = document["components"]["schemas"][tagged]["oneOf"].as_array_mut();
        for variant in variants.into_iter().flatten() {
            variant["additionalProperties"] = Value::Bool(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    fn document() -> Value {
        super::super::openapi()
    }

    #[test]
    fn every_operation_names_the_shared_errors_it_can_give() {
        let doc = document();
        let submit = &doc["paths"]["/api/v1/recursion/job"]["post"]["responses"];
        for status in ["400", "401", "403", "408", "413", "415", "422", "429", "503"] {
            assert!(submit.get(status).is_some(), "submit lacks {status}");
        }
        let stats = &doc["paths"]["/api/v1/recursion/stats"]["get"]["responses"];
        assert!(stats.get("413").is_none() && stats.get("404").is_none(), "no body, no path id");
        assert_eq!(stats["429"]["$ref"], "#/components/responses/TooManyRequests");
        let health = &doc["paths"]["/healthz"]["get"]["responses"];
        assert!(health.get("401").is_none(), "the probes need no key");
    }

    #[test]
    fn waits_are_announced_and_links_lead_from_a_new_job_to_it() {
        let doc = document();
        let retry = &doc["components"]["responses"]["TooManyRequests"]["headers"]["Retry-After"];
        assert_eq!(retry["schema"]["type"], "integer");
        let links = &doc["paths"]["/api/v1/recursion/job"]["post"]["responses"]["202"]["links"];
        assert_eq!(links["GetJob"]["operationId"], "get_job");
        assert_eq!(links["GetJob"]["parameters"]["id"], "$response.body#/job_id");
        assert_eq!(doc["servers"][0]["url"], "/");
    }

    #[test]
    fn unsigned_integers_state_their_range() {
        let doc = document();
        let rate = &doc["components"]["schemas"]["KeyRate"]["properties"];
        assert_eq!(rate["burst"]["maximum"], u32::MAX);
        assert_eq!(rate["per_second"]["maximum"], 100_000, "a stated bound stays");
        let variants = doc["components"]["schemas"]["ExecutorSpec"]["oneOf"].as_array().expect("variants");
        assert!(variants.iter().all(|v| v["additionalProperties"] == false), "each kind of run is closed");
        let checks = doc["components"]["schemas"]["CheckSpec"]["oneOf"].as_array().expect("variants");
        assert!(checks.iter().all(|v| v["additionalProperties"] == false), "each kind of check is closed");
        let caps = &doc["components"]["schemas"]["JobConfig"]["properties"]["workers_by_depth"]["additionalProperties"];
        assert_eq!((&caps["format"], &caps["maximum"]), (&json!("uint32"), &json!(u32::MAX)), "map values too");
    }
}
