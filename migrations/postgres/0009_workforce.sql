-- The standing workforce (issue 16). `agents`: the registry — each agent as JSON (`body`,
-- workforce::agent::AgentSpec) with the columns it is listed and charted by. `delegations`:
-- which agent each staffed node was given (or is waiting for), and why; the per-agent figures
-- (tasks, durations, tokens and cost) join it with `nodes` and `llm_calls`. Both are written
-- through the journal.
create table agents (
    name        text primary key,
    status      text not null,
    reports_to  text,
    body        text not null,
    created_ms  bigint not null,
    updated_ms  bigint not null
);

create table delegations (
    node_id      uuid primary key,
    job_id       uuid not null,
    agent        text,
    state        text not null,
    reason       text not null,
    requested_ms bigint not null,
    assigned_ms  bigint
);
create index delegations_agent on delegations (agent, assigned_ms);
create index delegations_job on delegations (job_id);
