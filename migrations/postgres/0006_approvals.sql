-- Approvals (issue 15): one row per request — a node approved before it starts or its result
-- accepted — with where it stands (`state`) as a column to list by, and the rest (its levels
-- up the tree, every decision with who, when and from where, the approver's input) as JSON.
-- Written through the journal's batches as the request changes.
create table approvals (
    id         uuid primary key,
    job_id     uuid not null,
    node_id    uuid not null,
    kind       text not null,
    state      text not null,
    created_ms bigint not null,
    updated_ms bigint not null,
    body       text not null
);
create index approvals_state_created on approvals (state, created_ms);
create index approvals_job on approvals (job_id);

-- Key groups, which approvers may name (`group:NAME`): comma-separated.
alter table api_keys add column groups text not null default '';
