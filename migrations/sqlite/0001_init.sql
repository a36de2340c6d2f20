-- The initial schema. Never edit an applied migration: add a new one.
-- Ids are UUIDs, times are Unix milliseconds, JSON is text (so both backends read alike).

create table jobs (
    id              blob primary key,
    seq             integer not null unique,
    request         text not null,
    config          text not null,
    labels          text not null,
    status          text not null,
    idempotency_key text unique,
    root_node_id    blob,
    node_count      integer not null,
    created_ms      integer not null,
    started_ms      integer,
    finished_ms     integer,
    result          text,
    error           text
);
create index jobs_status_seq on jobs (status, seq);

create table job_labels (
    job_id blob not null references jobs (id),
    key    text not null,
    value  text not null,
    primary key (job_id, key)
);
create index job_labels_key_value on job_labels (key, value);

create table nodes (
    id          blob primary key,
    job_id      blob not null references jobs (id),
    parent_id   blob,
    position    integer not null,
    depth       integer not null,
    name        text not null,
    title       text not null,
    role        text not null,
    kind        text not null,
    spec        text not null,
    status      text not null,
    attempts    integer not null default 0,
    started_ms  integer,
    finished_ms integer,
    result      text,
    error       text,
    warnings    text
);
create index nodes_job_position on nodes (job_id, position);
create index nodes_started on nodes (started_ms);
create index nodes_finished on nodes (finished_ms);

create table events (
    seq    integer primary key,
    ts_ms  integer not null,
    kind   text not null,
    job_id blob,
    depth  integer,
    data   text not null
);
create index events_job_seq on events (job_id, seq);
create index events_ts on events (ts_ms);

create table api_keys (
    id         blob primary key,
    name       text not null,
    key_hash   text not null unique,
    prefix     text not null,
    scopes     text not null,
    created_ms integer not null,
    expires_ms integer,
    revoked_ms integer
);

create table usage_samples (
    ts_ms  integer not null,
    depth  integer not null,
    in_use integer not null,
    quota  integer not null,
    pending integer not null,
    primary key (ts_ms, depth)
);
