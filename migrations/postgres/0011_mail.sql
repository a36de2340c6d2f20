-- Mailboxes (issue 17): every message between the nodes of a job, as it stands — pending,
-- delivered (and invisible until `visible_ms`), acknowledged, or dead (with why). Written
-- through the journal, the last state of a message per batch; a restart rebuilds each
-- mailbox from the messages not yet acknowledged or dead.
create table messages (
    id           uuid primary key,
    job_id       uuid not null,
    to_node      uuid not null,
    from_node    uuid,
    sender       text not null,
    thread_id    text,
    priority     bigint not null,
    body         text not null,
    state        text not null,
    deliveries   bigint not null,
    visible_ms   bigint not null,
    expires_ms   bigint,
    created_ms   bigint not null,
    updated_ms   bigint not null,
    dead_reason  text
);
create index messages_job on messages (job_id, state);
create index messages_open on messages (state);
