-- Replicas over one PostgreSQL (issue 18). Each `cadre serve` with cluster.enabled inserts
-- itself in `replicas` at start (a fresh id per process) and renews `heartbeat_ms`; `state`
-- is `live` until it leaves (`left`, on SIGTERM) or another replica declares it `dead`.
-- A replica's journal writes only while its row says `live` (checked under a share lock in
-- each write's transaction): that is the fencing that keeps a replica presumed dead from
-- writing after its jobs were taken over.
create table replicas (
    id            uuid primary key,
    address       text not null,
    host          text not null,
    pid           bigint not null,
    started_ms    bigint not null,
    heartbeat_ms  bigint not null,
    state         text not null,
    ended_ms      bigint
);
create index replicas_state on replicas (state);

-- The cluster's one order of jobs, events and audit entries: each journal write of a replica
-- takes its numbers here, under the row's lock, so numbers are handed out in commit order and
-- a reader following `seq` never sees a later number committed before an earlier one. Brought
-- up to the stored maxima when a replica joins (a single server numbers in memory).
create table cluster_counters (
    id         int primary key check (id = 1),
    job_seq    bigint not null,
    event_seq  bigint not null,
    audit_seq  bigint not null
);
insert into cluster_counters (id, job_seq, event_seq, audit_seq)
select 1,
       coalesce((select max(seq) from jobs), 0),
       coalesce((select max(seq) from events), 0),
       coalesce((select max(seq) from audit_log), 0);

-- Which replica drives (or queues) each job; null for a job a single server stored. A job whose
-- owner is not live is an orphan another replica claims (`for update skip locked`, spread over
-- the live replicas) and continues through the same restore path a restarted server uses.
alter table jobs add column owner uuid;
create index jobs_unfinished_owner on jobs (owner) where status in ('queued', 'running', 'paused', 'cancelling');
