-- The initial schema. Never edit an applied migration: add a new one.
-- Ids are UUIDs, times are Unix milliseconds, JSON is text (so both backends read alike).

create table jobs (
    id              uuid primary key,
    seq             bigint not null unique,
    request         text not null,
    config          text not null,
    labels          text not null,
    status          text not null,
    idempotency_key text unique,
    root_node_id    uuid,
    node_count      bigint not null,
    created_ms      bigint not null,
    started_ms      bigint,
    finished_ms     bigint,
    result          text,
    error           text
);
create index jobs_status_seq on jobs (status, seq);

create table job_labels (
    job_id uuid not null references jobs (id),
    key    text not null,
    value  text not null,
    primary key (job_id, key)
);
create index job_labels_key_value on job_labels (key, value);

create table nodes (
    id          uuid primary key,
    job_id      uuid not null references jobs (id),
    parent_id   uuid,
    position    bigint not null,
    depth       bigint not null,
    name        text not null,
    title       text not null,
    role        text not null,
    kind        text not null,
    spec        text not null,
    status      text not null,
    attempts    bigint not null default 0,
    started_ms  bigint,
    finished_ms bigint,
    result      text,
    error       text,
    warnings    text
);
create index nodes_job_position on nodes (job_id, position);
create index nodes_started on nodes (started_ms);
create index nodes_finished on nodes (finished_ms);

create table events (
    seq    bigint primary key,
    ts_ms  bigint not null,
    kind   text not null,
    job_id uuid,
    depth  bigint,
    data   text not null
);
create index events_job_seq on events (job_id, seq);
create index events_ts on events (ts_ms);

create table api_keys (
    id         uuid primary key,
    name       text not null,
    key_hash   text not null unique,
    prefix     text not null,
    scopes     text not null,
    created_ms bigint not null,
    expires_ms bigint,
    revoked_ms bigint
);

create table usage_samples (
    ts_ms  bigint not null,
    depth  bigint not null,
    in_use bigint not null,
    quota  bigint not null,
    pending bigint not null,
    primary key (ts_ms, depth)
);
