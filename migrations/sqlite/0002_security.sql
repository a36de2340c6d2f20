-- API key limits and use, and the append-only audit log.

alter table api_keys add column rate_per_second integer;
alter table api_keys add column rate_burst integer;
alter table api_keys add column last_used_ms integer;

create table audit_log (
    seq      integer primary key,
    ts_ms    integer not null,
    key_id   blob,
    key_name text,
    source   text not null,
    action   text not null,
    target   text,
    outcome  text not null,
    detail   text
);
create index audit_log_ts on audit_log (ts_ms);
create index audit_log_action_seq on audit_log (action, seq);
