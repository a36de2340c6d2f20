-- Mailboxes (issue 17): every message between the nodes of a job, as it stands — pending,
-- delivered (and invisible until `visible_ms`), acknowledged, or dead (with why). Written
-- through the journal, the last state of a message per batch; a restart rebuilds each
-- mailbox from the messages not yet acknowledged or dead.
create table messages (
    id           blob primary key,
    job_id       blob not null,
    to_node      blob not null,
    from_node    blob,
    sender       text not null,
    thread_id    text,
    priority     integer not null,
    body         text not null,
    state        text not null,
    deliveries   integer not null,
    visible_ms   integer not null,
    expires_ms   integer,
    created_ms   integer not null,
    updated_ms   integer not null,
    dead_reason  text
);
create index messages_job on messages (job_id, state);
create index messages_open on messages (state);
