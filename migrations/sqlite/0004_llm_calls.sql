-- The call ledger: every model call a worker made (or usage a worker reported), with its
-- tokens, cost and the bodies as sent and received (capped at 64 KiB each). Budgets charge
-- what is written here, so nothing is ever updated or deleted.
create table llm_calls (
    id                 blob primary key,
    job_id             blob not null,
    node_id            blob not null,
    depth              integer not null,
    attempt            integer not null,
    turn               integer not null,
    purpose            text not null,
    provider           text not null,
    model              text not null,
    input_tokens       integer not null,
    output_tokens      integer not null,
    cached_tokens      integer not null,
    cost               real not null,
    latency_ms         integer not null,
    http_status        integer,
    error              text,
    tries              integer not null,
    request_body       text,
    request_truncated  boolean not null,
    response_body      text,
    response_truncated boolean not null,
    input              text,
    reply              text,
    created_ms         integer not null
);
create index llm_calls_job_node on llm_calls (job_id, node_id);
create index llm_calls_created on llm_calls (created_ms);
