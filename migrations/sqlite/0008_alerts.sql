-- Alerts (issue 15): a rule that fired — a job's failure rate, a straggler, a busy quota, a
-- spent budget — with what it saw (`data`, JSON) and, once a person resumed the job or the
-- condition passed, when and by whom it was resolved. Written through the journal.
create table alerts (
    id          blob primary key,
    job_id      blob,
    node_id     blob,
    rule        text not null,
    message     text not null,
    data        text not null,
    created_ms  integer not null,
    resolved_ms integer,
    resolved_by text
);
create index alerts_created on alerts (created_ms);
create index alerts_job on alerts (job_id);
