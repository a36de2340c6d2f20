-- The call ledger: every model call a worker made (or usage a worker reported), with its
-- tokens, cost and the bodies as sent and received (capped at 64 KiB each). Budgets charge
-- what is written here, so nothing is ever updated or deleted.
create table llm_calls (
    id                 uuid primary key,
    job_id             uuid not null,
    node_id            uuid not null,
    depth              bigint not null,
    attempt            bigint not null,
    turn               bigint not null,
    purpose            text not null,
    provider           text not null,
    model              text not null,
    input_tokens       bigint not null,
    output_tokens      bigint not null,
    cached_tokens      bigint not null,
    cost               double precision not null,
    latency_ms         bigint not null,
    http_status        bigint,
    error              text,
    tries              bigint not null,
    request_body       text,
    request_truncated  boolean not null,
    response_body      text,
    response_truncated boolean not null,
    input              text,
    reply              text,
    created_ms         bigint not null
);
create index llm_calls_job_node on llm_calls (job_id, node_id);
create index llm_calls_created on llm_calls (created_ms);
