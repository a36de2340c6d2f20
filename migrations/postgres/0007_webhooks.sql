-- Webhooks (issue 15): where each webhook stands in the event log. Everything up to
-- `last_seq` has been delivered, given up on, or was not one of its kinds; after a restart it
-- goes on from there. Written by the webhook's delivery task, not the journal: it is delivery
-- bookkeeping, not job state.
create table webhook_cursors (
    name       text primary key,
    last_seq   bigint not null,
    updated_ms bigint not null
);
