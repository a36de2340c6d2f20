//! Grouping and bundling checked exactly on the seed's Twitter-like example and on the
//! cases the pipeline must refuse or route specially.

use serde_json::json;

use super::*;
use crate::domain::validate::validate_spawn;

const INSTRUCTIONS: &str =
    "INSTRUCTIONS:\n1. Complete each task in the order listed above\n\nBegin implementation now.\n";

fn sub(title: &str, domain: &str, function: &str, complexity: &str, depends_on: &[&str]) -> serde_json::Value {
    json!({"title": title, "description": format!("Spec of {title}."), "domain": domain, "function": function,
           "complexity": complexity, "depends_on": depends_on})
}

fn decomposition(tasks: serde_json::Value) -> Decomposition {
    serde_json::from_value(json!({ "tasks": tasks })).expect("a valid decomposition")
}

/// The seed's example: the database manager receives Posts, Users, Followers (in that order,
/// Posts and Followers needing Users) and indexes; the backend three endpoints; the frontend
/// three components, the feed reading the posts endpoint.
fn twitter() -> serde_json::Value {
    json!([
        {"title": "Data layer", "description": "Tables", "subtasks": [
            sub("Create Posts table", "database", "table_creation", "medium", &["Create Users table"]),
            sub("Create Users table", "database", "table_creation", "medium", &[]),
            sub("Create Followers table", "database", "table_creation", "medium", &["Create Users table"]),
            sub("Add indexes", "database", "indexes", "low", &["Create Posts table", "Create Followers table"]),
        ]},
        {"title": "Posts API", "description": "Endpoints", "subtasks": [
            sub("POST /api/posts", "backend", "api_endpoints", "low", &["Create Posts table"]),
            sub("GET /api/posts", "backend", "api_endpoints", "low", &["Create Posts table"]),
            sub("POST /api/posts/:id/like", "backend", "api_endpoints", "low", &[]),
        ]},
        {"title": "Post components", "subtasks": [
            sub("PostCard.tsx", "frontend", "core_components", "low", &[]),
            sub("PostFeed.tsx", "frontend", "core_components", "low", &["PostCard.tsx", "GET /api/posts"]),
            sub("CreatePost.tsx", "frontend", "core_components", "low", &[]),
        ]},
    ])
}

/// (manager, its depends_on, [(agent, title, depends_on, [task titles])]).
type Shape = Vec<(String, Vec<String>, Vec<(String, String, Vec<String>, Vec<String>)>)>;

fn shape(plans: &[ManagerPlan]) -> Shape {
    let agent = |a: &AgentPlan| {
        (a.name.clone(), a.title.clone(), a.depends_on.clone(), a.tasks.iter().map(|t| t.title.clone()).collect())
    };
    plans.iter().map(|m| (m.name.clone(), m.depends_on.clone(), m.agents.iter().map(agent).collect())).collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

fn agent(name: &str, title: &str, depends_on: &[&str], tasks: &[&str]) -> (String, String, Vec<String>, Vec<String>) {
    (name.to_string(), title.to_string(), strings(depends_on), strings(tasks))
}

fn group_default(tasks: serde_json::Value) -> Result<Vec<ManagerPlan>, Vec<String>> {
    group(&decomposition(tasks), &GroupingConfig::default())
}

#[test]
fn the_seeds_example_groups_as_the_seed_does() {
    let plans = group_default(twitter()).expect("groups");
    let expected: Shape = vec![
        (
            "database".into(),
            vec![],
            vec![
                agent(
                    "table_creation-1",
                    "Table creation (part 1)",
                    &[],
                    &["Create Users table", "Create Posts table"],
                ),
                agent(
                    "table_creation-2",
                    "Table creation (part 2)",
                    &["table_creation-1"],
                    &["Create Followers table"],
                ),
                agent("indexes", "Indexes", &["table_creation-1", "table_creation-2"], &["Add indexes"]),
            ],
        ),
        (
            "backend".into(),
            strings(&["database"]),
            vec![agent(
                "api_endpoints",
                "Api endpoints",
                &[],
                &["POST /api/posts", "GET /api/posts", "POST /api/posts/:id/like"],
            )],
        ),
        (
            "frontend".into(),
            strings(&["backend"]),
            vec![agent("core_components", "Core components", &[], &["PostCard.tsx", "PostFeed.tsx", "CreatePost.tsx"])],
        ),
    ];
    assert_eq!(shape(&plans), expected);
    let titles: Vec<&str> = plans.iter().map(|m| m.title.as_str()).collect();
    assert_eq!(titles, ["Database manager", "Backend manager", "Frontend manager"]);
    assert_eq!(plans[0].domain, "database");
}

#[test]
fn an_agents_bundle_has_the_seeds_shape() {
    let mut tasks = twitter();
    tasks[0]["subtasks"][1]["success_criteria"] = json!(["the table exists", "username is unique"]);
    let plans = group_default(tasks).expect("groups");
    let rule = "=".repeat(80);
    let expected = format!(
        "You are a coding agent working on: Table creation (part 1)\n\n\
         You have been assigned 2 related task(s) to complete. Complete ALL tasks in order.\n\n\
         {rule}\nTASK 1/2: Create Users table\n{rule}\n\nSpec of Create Users table.\n\n\
         Success criteria:\n- the table exists\n- username is unique\n\nComplexity: medium\n\n\
         {rule}\nTASK 2/2: Create Posts table\n{rule}\n\nSpec of Create Posts table.\n\nComplexity: medium\n\n\
         {rule}\n\n{INSTRUCTIONS}"
    );
    assert_eq!(bundle(&plans[0].agents[0], INSTRUCTIONS), expected);
    let single = bundle(&plans[0].agents[1], INSTRUCTIONS);
    assert!(
        single.starts_with("You are a coding agent working on: Table creation (part 2)\n\nYou have been assigned 1")
    );
    assert!(single.contains("TASK 1/1: Create Followers table\n"));
}

#[test]
fn a_dependency_across_groups_becomes_the_agents_depends_on() {
    let tasks = json!([{"title": "UI", "subtasks": [
        sub("Login form", "frontend", "forms", "low", &["Auth store"]),
        sub("Auth store", "frontend", "state", "low", &[]),
    ]}]);
    let plans = group_default(tasks).expect("groups");
    assert_eq!(
        shape(&plans),
        vec![(
            "frontend".to_string(),
            vec![],
            vec![agent("forms", "Forms", &["state"], &["Login form"]), agent("state", "State", &[], &["Auth store"])]
        )]
    );
}

#[test]
fn a_dependency_across_managers_is_lifted_to_the_managers() {
    let tasks = json!([{"title": "Feature", "subtasks": [
        sub("Profile page", "frontend", "pages", "low", &["GET /api/me"]),
        sub("GET /api/me", "backend", "api_endpoints", "low", &[]),
        sub("API docs", "documentation", "api_docs", "low", &["GET /api/me", "Profile page"]),
    ]}]);
    let plans = group_default(tasks).expect("groups");
    let managers: Vec<(&str, Vec<String>)> = plans.iter().map(|m| (m.name.as_str(), m.depends_on.clone())).collect();
    assert_eq!(
        managers,
        vec![
            ("frontend", strings(&["backend"])),
            ("backend", vec![]),
            ("documentation", strings(&["frontend", "backend"]))
        ]
    );
    assert!(plans.iter().flat_map(|m| &m.agents).all(|a| a.depends_on.is_empty()));
}

#[test]
fn a_cycle_between_managers_is_refused_with_its_path() {
    let mut tasks = twitter();
    tasks[0]["subtasks"][3]["depends_on"] = json!(["POST /api/posts"]);
    let errors = group_default(tasks).expect_err("a cycle");
    assert_eq!(
        errors,
        vec![
            "a dependency cycle between managers: database -> backend -> database ('Add indexes' depends on \
              'POST /api/posts'; 'POST /api/posts' depends on 'Create Posts table'); a manager starts only when \
              the managers it depends on have finished, so dependencies between domains must all point one way"
        ]
    );
}

#[test]
fn a_cycle_between_agents_is_refused_with_its_path() {
    // No subtask cycle: A -> B -> C. But A and C share an agent, and B has its own.
    let tasks = json!([{"title": "API", "subtasks": [
        sub("A", "backend", "endpoints", "low", &["B"]),
        sub("B", "backend", "auth", "low", &["C"]),
        sub("C", "backend", "endpoints", "low", &[]),
    ]}]);
    let errors = group_default(tasks).expect_err("a cycle");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with(
            "a dependency cycle between the agents of manager 'backend': endpoints -> auth -> endpoints \
             ('A' depends on 'B'; 'B' depends on 'C'); "
        ),
        "{}",
        errors[0]
    );
}

#[test]
fn a_cycle_between_subtasks_is_refused_with_its_path() {
    let tasks = json!([{"title": "T", "subtasks": [
        sub("A", "backend", "x", "low", &[]),
        sub("B", "backend", "x", "low", &["C"]),
        sub("C", "database", "y", "low", &["B"]),
    ]}]);
    let errors = group_default(tasks).expect_err("a cycle");
    assert_eq!(
        errors,
        vec!["a dependency cycle between subtasks: 'B' -> 'C' -> 'B' (each depends on the next, so none can start)"]
    );
}

#[test]
fn unknown_dependencies_and_duplicate_titles_are_all_refused() {
    let tasks = json!([{"title": "T", "subtasks": [
        sub("A", "backend", "x", "low", &["Nothing"]),
        sub("A", "backend", "x", "low", &[]),
        sub("B", "backend", "x", "low", &["A", "Else"]),
    ]}, {"title": "Empty", "subtasks": []}]);
    assert_eq!(group_default(tasks.clone()).expect_err("refused"), vec!["main task 'Empty' has no subtasks"]);
    let errors = group_default(json!([tasks[0]])).expect_err("refused");
    assert_eq!(
        errors,
        vec![
            "more than one subtask is titled 'A'; titles must be unique, since depends_on names subtasks by title",
            "subtask 'A' depends on 'Nothing', but no subtask has that title",
            "subtask 'B' depends on 'Else', but no subtask has that title",
        ]
    );
}

#[test]
fn a_high_task_forces_two_agents() {
    let tasks = json!([{"title": "Auth", "subtasks": [
        sub("JWT middleware", "backend", "auth", "high", &[]),
        sub("Logout endpoint", "backend", "auth", "low", &["JWT middleware"]),
    ]}]);
    let plans = group_default(tasks).expect("groups");
    assert_eq!(
        shape(&plans)[0].2,
        vec![
            agent("auth-1", "Auth (part 1)", &[], &["JWT middleware"]),
            agent("auth-2", "Auth (part 2)", &["auth-1"], &["Logout endpoint"])
        ]
    );
    // One high task alone cannot be split.
    let alone = json!([{"title": "Auth", "subtasks": [sub("JWT middleware", "backend", "auth", "high", &[])]}]);
    assert_eq!(group_default(alone).expect("groups")[0].agents.len(), 1);
}

#[test]
fn max_agents_per_group_one_keeps_a_group_together() {
    let config = GroupingConfig { max_agents_per_group: 1, ..GroupingConfig::default() };
    let plans = group(&decomposition(twitter()), &config).expect("groups");
    assert_eq!(
        shape(&plans)[0].2,
        vec![
            agent(
                "table_creation",
                "Table creation",
                &[],
                &["Create Users table", "Create Posts table", "Create Followers table"]
            ),
            agent("indexes", "Indexes", &["table_creation"], &["Add indexes"]),
        ]
    );
}

#[test]
fn an_unknown_domain_goes_to_the_fallback_and_domains_match_ignoring_case() {
    let tasks = json!([{"title": "T", "subtasks": [
        sub("Push notifications", "mobile", "Push Notifications", "low", &[]),
        sub("Users table", " Database ", "table_creation", "low", &[]),
        sub("Widget", "watch", "push-notifications", "low", &[]),
    ]}]);
    let plans = group_default(tasks).expect("groups");
    let managers: Vec<(&str, &str, &str)> =
        plans.iter().map(|m| (m.name.as_str(), m.title.as_str(), m.domain.as_str())).collect();
    assert_eq!(managers, [("general", "General manager", "mobile"), ("database", "Database manager", "database")]);
    assert_eq!(
        shape(&plans)[0].2,
        vec![agent("push_notifications", "Push Notifications", &[], &["Push notifications", "Widget"])]
    );
}

fn limits(providers: &[&str]) -> crate::domain::PlanLimits {
    let mut limits = crate::config::Config::default().plan_limits();
    limits.providers = providers.iter().map(ToString::to_string).collect();
    limits
}

#[test]
fn the_nodes_pass_spawn_validation() {
    let plans = group_default(twitter()).expect("groups");
    let command: crate::domain::ExecutorSpec =
        serde_json::from_value(json!({"type": "command", "argv": ["coding-agent", "--print"]})).expect("a command");
    let nodes = to_nodes(&plans, &command, INSTRUCTIONS);
    let v = validate_spawn(&nodes, (0, 3), &[], &limits(&[]));
    assert!(v.errors.is_empty(), "{:?}", v.errors);
    assert_eq!(v.estimate.nodes, 8);
    let database = &nodes[0];
    assert_eq!((database.name.as_str(), database.title.as_deref()), ("database", Some("Database manager")));
    let first = &database.children.as_ref().expect("agents")[0];
    let prompt = bundle(&plans[0].agents[0], INSTRUCTIONS);
    assert_eq!(first.description.as_deref(), Some(prompt.as_str()));
    let Some(crate::domain::ExecutorSpec::Command { env, .. }) = &first.run else { panic!("a command") };
    assert_eq!(env.get(TASK_PROMPT_ENV), Some(&prompt));
    assert_eq!(nodes[1].depends_on, ["database"]);

    let llm: crate::domain::ExecutorSpec =
        serde_json::from_value(json!({"type": "llm", "provider": "local"})).expect("an llm run");
    let nodes = to_nodes(&plans, &llm, INSTRUCTIONS);
    assert!(validate_spawn(&nodes, (0, 3), &[], &limits(&["local"])).errors.is_empty());
    assert_eq!(nodes[2].children.as_ref().expect("agents")[0].run, Some(llm));
}

#[test]
fn the_seeds_example_follows_the_shipped_schema() {
    // The schema the model's answer is checked against and these types must agree.
    let prompts = prompts::Prompts::builtin().expect("the shipped prompts");
    let schema = prompts.decompose.schema.expect("a decomposition schema");
    let validator = jsonschema::validator_for(&schema).expect("a JSON Schema");
    let mut answer = json!({ "tasks": twitter() });
    answer["tasks"][0]["subtasks"][1]["success_criteria"] = json!(["the table exists"]);
    let errors: Vec<String> = validator.iter_errors(&answer).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(serde_json::from_value::<Decomposition>(answer).is_ok());
}
